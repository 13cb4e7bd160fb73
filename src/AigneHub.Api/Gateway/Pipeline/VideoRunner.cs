using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Identity;
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

    /// <summary>Jobs of the OpenAI videos API this process follows at once (each holds its video in memory once done).</summary>
    public int MaxFollowedJobs { get; set; } = 50;

    /// <summary>How long a finished job (and its video) can be retrieved.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The most bytes of finished videos this process keeps for retrieval; beyond it the oldest finished
    /// videos' content is let go first (their jobs stay retrievable, their content answers 410). The newest is always
    /// kept.</summary>
    public long MaxKeptVideoBytes { get; set; } = 1L << 30;
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
        if (options.MaxFollowedJobs is < 1 or > 10_000)
        {
            problems.Add($"{VideoOptions.Section}:MaxFollowedJobs must be between 1 and 10000.");
        }
        if (options.Retention < TimeSpan.FromMinutes(1) || options.Retention > TimeSpan.FromDays(7))
        {
            problems.Add($"{VideoOptions.Section}:Retention must be between 00:01:00 and 7.00:00:00.");
        }
        if (options.MaxKeptVideoBytes is < 1L << 20 or > 64L << 30)
        {
            problems.Add($"{VideoOptions.Section}:MaxKeptVideoBytes must be between 1 MiB and 64 GiB.");
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

/// <summary>How a protocol answers a job it follows (the OpenAI videos API): the job at once, then nothing more.</summary>
public interface IVideoJobWriter : IAnswerWriter
{
    Task WriteAcceptedAsync(FollowedVideo video);

    Task IAnswerWriter.WriteFailureAfterCommitAsync(string message) => Task.CompletedTask;
}

/// <summary>
/// Video calls: the provider's job is submitted, polled every <see cref="VideoOptions.PollInterval"/> until it is
/// done (the call stays <c>processing</c> meanwhile, its lease renewed by <see cref="CallLeases"/>), and the
/// finished video fetched and written once. Reserved: the seconds asked for (else the billing default) × the rate;
/// charged: the seconds delivered × the rate; a failed or abandoned job is charged nothing.
/// </summary>
public sealed class VideoRunner(GatewayPipeline pipeline, ProviderAdapters adapters, VideoJobs jobs, GatewayShutdown shutdown,
    IOptions<VideoOptions> options, TimeProvider time)
{
    /// <summary>The call answered once the video is done (the AIGNE protocol): the caller waits for it.</summary>
    public Task RunAsync(HttpContext context, ApiSurface surface, VideoRequest request, JsonObject? parameters, IVideoAnswerWriter writer) =>
        RunAsync(context, surface, request, parameters, writer, async (attempt, adapter, cancellationToken) =>
        {
            var job = await adapter.SubmitAsync(attempt.Endpoint, request with { Model = attempt.Target.Model }, cancellationToken);
            attempt.MarkProviderFirstByte();
            job = await FollowAsync(attempt, adapter, job, cancellationToken, _ => { });
            var content = await adapter.DownloadAsync(attempt.Endpoint, job, cancellationToken);
            var seconds = Delivered(job, request);
            await writer.WriteAsync(job, content, seconds, attempt.Target);
            return new AttemptResult { VideoSeconds = seconds, CallerGone = writer.Caller.Gone };
        });

    /// <summary>
    /// The call answered with the job at once (the OpenAI videos API): after that answer the same call follows the
    /// job (its answer complete, its record still <c>processing</c>) on a token the caller's connection does not end,
    /// keeps each state in <see cref="VideoJobs"/> for the caller's retrievals, and settles when the job ends.
    /// At most <see cref="VideoOptions.MaxFollowedJobs"/> at once; beyond, a 503 before anything is reserved.
    /// </summary>
    public async Task CreateAsync(HttpContext context, ApiSurface surface, VideoRequest request, JsonObject? parameters, IVideoJobWriter writer)
    {
        if (!jobs.TryFollow())
        {
            throw new GatewayException(503, "api_error", "The hub is following as many video jobs as it may; try again shortly.", code: "video_jobs_full")
            {
                RetryAfterSeconds = 5,
            };
        }
        try
        {
            await RunAsync(context, surface, request, parameters, writer, async (attempt, adapter, cancellationToken) =>
            {
                var job = await adapter.SubmitAsync(attempt.Endpoint, request with { Model = attempt.Target.Model }, cancellationToken);
                attempt.MarkProviderFirstByte();
                var followed = new FollowedVideo($"video_{writer.Caller.CallId:N}", context.User.GetUserId(), attempt.Target.Model, time.GetUtcNow(), StateOf(job, request));
                jobs.Add(followed);
                await writer.WriteAcceptedAsync(followed);
                await writer.Caller.CompleteAsync();

                // :: From here the caller has its answer: the job is followed until it ends or the Api stops.
                try
                {
                    job = await FollowAsync(attempt, adapter, job, shutdown.Drained, j => followed.Update(StateOf(j, request)));
                    var content = await adapter.DownloadAsync(attempt.Endpoint, job, shutdown.Drained);
                    var seconds = Delivered(job, request);
                    jobs.Finish(followed, StateOf(job, request) with { Status = VideoJobStatus.Completed, Seconds = seconds, Content = content, CompletedAt = time.GetUtcNow() });
                    return new AttemptResult { VideoSeconds = seconds };
                }
                catch (Exception ex)
                {
                    followed.Update(followed.State with
                    {
                        Status = VideoJobStatus.Failed,
                        Error = ex is ProviderException ? ex.Message : "The hub stopped following the job.",
                        CompletedAt = time.GetUtcNow(),
                    });
                    throw;
                }
            });
        }
        finally
        {
            jobs.Unfollow();
        }
    }

    private Task RunAsync(HttpContext context, ApiSurface surface, VideoRequest request, JsonObject? parameters, IAnswerWriter writer,
        Func<Attempt, IVideoAdapter, CancellationToken, Task<AttemptResult>> attempt)
    {
        var estimate = new CallEstimate
        {
            PromptTokens = TokenEstimator.Text(request.Prompt),
            VideoSeconds = request.Seconds,
            Parameters = parameters,
        };
        var call = pipeline.CreateContext(context, surface, request.Model, ModelType.Video, streaming: false);
        // No tokens are charged: neither Sora nor Veo reports any, and video is priced per second delivered.
        return pipeline.RunAsync(context, call, estimate, writer, (a, cancellationToken) => attempt(a, adapters.Video(a.Target.Kind)!, cancellationToken),
            target => adapters.Video(target.Kind) is null ? $"{target.Kind.DisplayName} does not generate video." : null);
    }

    /// <summary>Polls the job every interval until it is done (a failed job thrown as the provider's refusal) or the
    /// timeout ends it.</summary>
    private async Task<VideoJob> FollowAsync(Attempt attempt, IVideoAdapter adapter, VideoJob job, CancellationToken cancellationToken, Action<VideoJob> polled)
    {
        var o = options.Value;
        var provider = attempt.Target.Kind.Name;
        using var followed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        followed.CancelAfter(o.Timeout);
        try
        {
            while (!job.Done)
            {
                await Task.Delay(o.PollInterval, time, followed.Token);
                job = await adapter.PollAsync(attempt.Endpoint, job, followed.Token);
                polled(job);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProviderException(provider, ProviderErrorClass.Timeout, null,
                $"{provider}'s video job {job.Id} was not done after {o.Timeout.TotalMinutes:0.##} minutes.");
        }
        // The provider's own verdict on this request (often its content policy): not worth another provider.
        return job.Status == VideoJobStatus.Failed
            ? throw new ProviderException(provider, ProviderErrorClass.BadRequest, null, $"{provider}'s video job failed: {job.Error ?? "no reason given"}")
            : job;
    }

    /// <summary>The seconds delivered: the job's own, else those asked for.</summary>
    private static decimal Delivered(VideoJob job, VideoRequest request) => AttemptResult.BilledSeconds(job.Seconds ?? request.Seconds ?? 0);

    private static FollowedVideoState StateOf(VideoJob job, VideoRequest request) =>
        new(job.Status == VideoJobStatus.Completed ? VideoJobStatus.InProgress : job.Status, job.Progress ?? 0, job.Size ?? request.Size,
            job.Seconds is { } s ? AttemptResult.BilledSeconds(s) : (decimal?)request.Seconds);
}
