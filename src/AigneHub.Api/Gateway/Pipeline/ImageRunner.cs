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

/// <summary>Image generation and edit calls, for every caller protocol; both are priced per image (by size and quality).</summary>
public sealed class ImageRunner(GatewayPipeline pipeline, ProviderAdapters adapters)
{
    /// <param name="parameters">Model parameters to keep on the call record.</param>
    public Task RunAsync(HttpContext context, ApiSurface surface, ImageRequest request, JsonObject? parameters, IImageAnswerWriter writer) =>
        RunAsync(context, request, surface, parameters, writer,
            (target, endpoint, cancellationToken) => adapters.Image(target.Kind.Protocol)!.GenerateAsync(endpoint, request with { Model = target.Model }, cancellationToken),
            target => adapters.Image(target.Kind.Protocol) is { } adapter
                ? adapter.Refusal(target.Kind, request with { Model = target.Model })
                : $"{target.Kind.DisplayName} does not generate images.");

    /// <summary>An edit of the uploaded images (<see cref="ImageEditRequest.Image"/> holds the prompt and options).</summary>
    public Task EditAsync(HttpContext context, ApiSurface surface, ImageEditRequest request, JsonObject? parameters, IImageAnswerWriter writer) =>
        RunAsync(context, request.Image, surface, parameters, writer,
            (target, endpoint, cancellationToken) => adapters.ImageEdit(target.Kind.Protocol)!.EditAsync(endpoint,
                request with { Image = request.Image with { Model = target.Model } }, cancellationToken),
            target => adapters.ImageEdit(target.Kind.Protocol) is null ? $"{target.Kind.DisplayName} does not edit images." : null);

    private Task RunAsync(HttpContext context, ImageRequest request, ApiSurface surface, JsonObject? parameters, IImageAnswerWriter writer,
        Func<ModelTarget, ProviderEndpoint, CancellationToken, Task<ImageResponse>> call, Func<ModelTarget, string?> unserved)
    {
        var estimate = new CallEstimate
        {
            PromptTokens = TokenEstimator.Text(request.Prompt),
            Images = request.N,
            ImageSize = request.Size,
            ImageQuality = request.Quality,
            Parameters = parameters,
        };
        var callContext = pipeline.CreateContext(context, surface, request.Model, ModelType.Image, streaming: false);
        return pipeline.RunAsync(context, callContext, estimate, writer, async (attempt, cancellationToken) =>
        {
            var target = attempt.Target;
            var response = await call(target, attempt.Endpoint, cancellationToken);
            attempt.MarkProviderFirstByte();
            var usage = response.Usage ?? new TokenUsage { InputTokens = estimate.PromptTokens };
            await writer.WriteAsync(response, usage, target);
            return new AttemptResult { Usage = usage, UsageEstimated = response.Usage is null, Images = response.Images.Count, CallerGone = writer.Caller.Gone };
        }, unserved);
    }
}
