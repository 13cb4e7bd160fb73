using AigneHub.Api.Billing;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Pipeline;

public interface IEmbeddingAnswerWriter : IAnswerWriter
{
    /// <param name="usage">The provider's, or the gateway's estimate when it reported none.</param>
    Task WriteAsync(EmbeddingResponse response, TokenUsage usage, ModelTarget target);

    Task IAnswerWriter.WriteFailureAfterCommitAsync(string message) => Task.CompletedTask;
}

/// <summary>Embedding calls, for every caller protocol.</summary>
public sealed class EmbeddingRunner(GatewayPipeline pipeline, ProviderAdapters adapters)
{
    public Task RunAsync(HttpContext context, ApiSurface surface, EmbeddingRequest request, IEmbeddingAnswerWriter writer)
    {
        var estimate = new CallEstimate { PromptTokens = TokenEstimator.Clamp(request.Inputs.Sum(i => (long)TokenEstimator.Text(i))), MaxOutputTokens = 0 };
        var call = pipeline.CreateContext(context, surface, request.Model, ModelType.Embedding, streaming: false);
        return pipeline.RunAsync(context, call, estimate, writer, async (attempt, cancellationToken) =>
        {
            var target = attempt.Target;
            var adapter = adapters.Embedding(target.Kind.Protocol)!;
            var response = await adapter.EmbedAsync(attempt.Endpoint, request with { Model = target.Model }, cancellationToken);
            attempt.MarkProviderFirstByte();
            // Gemini reports no usage: the estimate stands in, marked as such.
            var estimated = response.Usage.InputTokens == 0;
            var usage = estimated ? response.Usage with { InputTokens = estimate.PromptTokens } : response.Usage;
            await writer.WriteAsync(response, usage, target);
            return new AttemptResult { Usage = usage, UsageEstimated = estimated, CallerGone = writer.Caller.Gone };
        }, target => adapters.Embedding(target.Kind.Protocol) is null ? $"{target.Kind.DisplayName} does not serve embeddings." : null);
    }
}
