using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Pipeline;

public interface IImageAnswerWriter : IAnswerWriter
{
    /// <param name="usage">The provider's, or the prompt estimate when it reported none.</param>
    Task WriteAsync(ImageResponse response, TokenUsage usage, ModelTarget target);

    Task IAnswerWriter.WriteFailureAfterCommitAsync(string message) => Task.CompletedTask;
}

/// <summary>Image generation calls, for every caller protocol.</summary>
public sealed class ImageRunner(GatewayPipeline pipeline, ProviderAdapters adapters)
{
    /// <param name="parameters">Model parameters to keep on the call record.</param>
    public Task RunAsync(HttpContext context, ApiSurface surface, ImageRequest request, JsonObject? parameters, IImageAnswerWriter writer)
    {
        var estimate = new CallEstimate
        {
            PromptTokens = TokenEstimator.Text(request.Prompt),
            Images = request.N,
            ImageSize = request.Size,
            ImageQuality = request.Quality,
            Parameters = parameters,
        };
        var call = pipeline.CreateContext(context, surface, request.Model, ModelType.Image, streaming: false);
        return pipeline.RunAsync(context, call, estimate, writer, async (attempt, cancellationToken) =>
        {
            var target = attempt.Target;
            var adapter = adapters.Image(target.Kind.Protocol)!;
            var response = await adapter.GenerateAsync(attempt.Endpoint, request with { Model = target.Model }, cancellationToken);
            attempt.MarkProviderFirstByte();
            var usage = response.Usage ?? new TokenUsage { InputTokens = estimate.PromptTokens };
            await writer.WriteAsync(response, usage, target);
            return new AttemptResult { Usage = usage, UsageEstimated = response.Usage is null, Images = response.Images.Count, CallerGone = writer.Caller.Gone };
        }, target => adapters.Image(target.Kind.Protocol) is null ? $"{target.Kind.DisplayName} does not generate images." : null);
    }
}
