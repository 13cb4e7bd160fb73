using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Gemini;

/// <summary>
/// Embeddings over <c>models/{model}:batchEmbedContents</c>, one request per input, in input order.
/// <para>Carried: the inputs and <c>outputDimensionality</c>. Not carried: task type and title (the neutral model
/// has neither). Gemini reports no token usage for embeddings, so usage is an estimate (see
/// <see cref="EstimateTokens"/>).</para>
/// </summary>
public sealed class GeminiEmbeddingAdapter(ProviderHttp http) : IEmbeddingAdapter
{
    public async Task<EmbeddingResponse> EmbedAsync(ProviderEndpoint endpoint, EmbeddingRequest request, CancellationToken cancellationToken)
    {
        var modelPath = GeminiHttp.ModelPath(request.Model);
        var requests = new JsonArray();
        foreach (var input in request.Inputs)
        {
            var item = new JsonObject
            {
                ["model"] = modelPath,
                ["content"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = input }) },
            };
            if (request.Dimensions is { } dimensions)
            {
                item["outputDimensionality"] = dimensions;
            }
            requests.Add(item);
        }

        using var message = GeminiHttp.CreateRequest(endpoint, request.Model, "batchEmbedContents", new JsonObject { ["requests"] = requests });
        var node = await GeminiHttp.PostJsonAsync(http, endpoint, message, cancellationToken);

        var embeddings = (node["embeddings"] as JsonArray ?? [])
            .Select(e => (e?["values"] as JsonArray ?? []).Select(v => v is null ? 0f : (float)v).ToArray())
            .ToList();
        if (embeddings.Count != request.Inputs.Count)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, 200,
                $"{endpoint.Provider} returned {embeddings.Count} embeddings for {request.Inputs.Count} inputs.");
        }
        var tokens = request.Inputs.Sum(EstimateTokens);
        return new EmbeddingResponse(request.Model, embeddings, new TokenUsage { InputTokens = tokens });
    }

    /// <summary>
    /// Gemini's embedding answer has no usage, and counting exactly would cost a countTokens call per request;
    /// about four characters per token is the usual estimate for English text (at least one token per input).
    /// </summary>
    public static int EstimateTokens(string input) => Math.Max(1, (input.Length + 3) / 4);
}
