using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>How the hub follows a provider's video job (<c>AigneHub:Gateway:Video</c>).</summary>
public sealed class VideoOptions
{
    public const string Section = "AigneHub:Gateway:Video";

    /// <summary>The wait between two polls of a job.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest a job is followed before the call is ended as timed out (nothing charged).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(20);
}

internal sealed class ValidateVideoOptions : IValidateOptions<VideoOptions>
{
    public ValidateOptionsResult Validate(string? name, VideoOptions options)
    {
        List<string> problems = [];
        if (options.PollInterval < TimeSpan.FromMilliseconds(10) || options.PollInterval > TimeSpan.FromMinutes(5))
        {
            problems.Add($"{VideoOptions.Section}:PollInterval must be between 00:00:00.010 and 00:05:00.");
        }
        if (options.Timeout < options.PollInterval || options.Timeout > TimeSpan.FromHours(24))
        {
            problems.Add($"{VideoOptions.Section}:Timeout must be at least the poll interval and at most 24:00:00.");
        }
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>How a protocol writes a finished video.</summary>
public interface IVideoAnswerWriter : IAnswerWriter
{
    /// <param name="seconds">The seconds delivered, as billed.</param>
    Task WriteAsync(VideoJob job, VideoContent content, decimal seconds, ModelTarget target);

    Task IAnswerWriter.WriteFailureAfterCommitAsync(string message) => Task.CompletedTask;
}

/// <summary>
/// Video calls: the provider's job is submitted, polled every <see cref="VideoOptions.PollInterval"/> until it is
/// done (the call stays <c>processing</c> meanwhile, its lease renewed by <see cref="CallLeases"/>), and the
/// finished video fetched and written once. Reserved: the seconds asked for (else the billing default) × the rate;
/// charged: the seconds delivered × the rate; a failed or abandoned job is charged nothing.
/// </summary>
public sealed class VideoRunner(GatewayPipeline pipeline, ProviderAdapters adapters, IOptions<VideoOptions> options, TimeProvider time)
{
    public Task RunAsync(HttpContext context, ApiSurface surface, VideoRequest request, JsonObject? parameters, IVideoAnswerWriter writer)
    {
        var estimate = new CallEstimate
        {
            PromptTokens = TokenEstimator.Text(request.Prompt),
            VideoSeconds = request.Seconds,
            Parameters = parameters,
        };
        var call = pipeline.CreateContext(context, surface, request.Model, ModelType.Video, streaming: false);
        return pipeline.RunAsync(context, call, estimate, writer, async (attempt, cancellationToken) =>
        {
            var target = attempt.Target;
            var adapter = adapters.Video(target.Kind)!;
            var o = options.Value;
            var job = await adapter.SubmitAsync(attempt.Endpoint, request with { Model = target.Model }, cancellationToken);
            attempt.MarkProviderFirstByte();

            // :: Follow the job Hub --► Provider, one poll per interval, until it is done or the timeout ends it.
            using var followed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            followed.CancelAfter(o.Timeout);
            try
            {
                while (!job.Done)
                {
                    await Task.Delay(o.PollInterval, time, followed.Token);
                    job = await adapter.PollAsync(attempt.Endpoint, job, followed.Token);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProviderException(target.Kind.Name, ProviderErrorClass.Timeout, null,
                    $"{target.Kind.Name}'s video job {job.Id} was not done after {o.Timeout.TotalMinutes:0.##} minutes.");
            }
            if (job.Status == VideoJobStatus.Failed)
            {
                // The provider's own verdict on this request (often its content policy): not worth another provider.
                throw new ProviderException(target.Kind.Name, ProviderErrorClass.BadRequest, null,
                    $"{target.Kind.Name}'s video job failed: {job.Error ?? "no reason given"}");
            }

            var content = await adapter.DownloadAsync(attempt.Endpoint, job, cancellationToken);
            var seconds = AttemptResult.BilledSeconds(job.Seconds ?? request.Seconds ?? 0);
            await writer.WriteAsync(job, content, seconds, target);
            return new AttemptResult
            {
                VideoSeconds = seconds, // no tokens: neither Sora nor Veo reports any, and video is priced per second
                CallerGone = writer.Caller.Gone,
            };
        }, target => adapters.Video(target.Kind) is null ? $"{target.Kind.DisplayName} does not generate video." : null);
    }
}
