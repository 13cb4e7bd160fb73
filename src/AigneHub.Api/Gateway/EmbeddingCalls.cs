using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway;

/// <summary>The embedding call both protocols share: input validation and the provider attempt.</summary>
public static class EmbeddingCalls
{
    public const int MaxInputs = 2048;

    /// <summary>A string or a non-empty array of strings (at most <see cref="MaxInputs"/>).</summary>
    public static List<string> ReadInputs(JsonNode? node, string param)
    {
        List<string> inputs = node switch
        {
            JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
            JsonArray a when a.Count > 0 && a.All(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String)
                => a.Select(x => x!.GetValue<string>()).ToList(),
            null => throw GatewayException.BadRequest($"'{param}' is required.", param),
            _ => throw GatewayException.BadRequest($"'{param}' must be a string or a non-empty array of strings.", param),
        };
        return inputs.Count <= MaxInputs ? inputs : throw GatewayException.BadRequest($"'{param}' may hold at most {MaxInputs} items.", param);
    }

    public static CallEstimate Estimate(IReadOnlyList<string> inputs) =>
        new() { PromptTokens = TokenEstimator.FromCharacters(inputs.Sum(i => (long)i.Length)), MaxOutputTokens = 0 };

    /// <summary>Calls the provider; usage falls back to the estimate when the provider reports none (Gemini).</summary>
    public static async Task<(EmbeddingResponse Response, TokenUsage Usage, bool Estimated)> EmbedAsync(
        IServiceProvider services, Attempt attempt, EmbeddingRequest request, CallEstimate estimate, CancellationToken cancellationToken)
    {
        var adapter = services.GetKeyedService<IEmbeddingAdapter>(attempt.Target.Kind.Protocol)
            ?? throw new ProviderException(attempt.Target.Kind.Name, ProviderErrorClass.BadRequest, null,
                $"Provider '{attempt.Target.Kind.Name}' does not serve embeddings.");
        var response = await adapter.EmbedAsync(attempt.Endpoint, request with { Model = attempt.Target.Model }, cancellationToken);
        attempt.MarkProviderFirstByte();
        attempt.Committed = true;
        var estimated = response.Usage.InputTokens == 0;
        return (response, estimated ? response.Usage with { InputTokens = estimate.PromptTokens } : response.Usage, estimated);
    }
}
