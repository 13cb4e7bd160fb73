using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// The OpenAI-compatible family (OpenAI, DeepSeek, xAI, OpenRouter, Ollama, Doubao, Poe): chat completions,
/// embeddings and image generation at <c>{baseUrl}chat/completions</c>, <c>embeddings</c>, <c>images/generations</c>.
/// Quirks by provider: only OpenAI itself takes <c>max_completion_tokens</c> (the others <c>max_tokens</c>);
/// DeepSeek reports cache hits as <c>prompt_cache_hit_tokens</c>; Ollama needs no key.
/// </summary>
public sealed class OpenAiChatAdapter(ProviderHttp http) : IChatAdapter
{
    public async Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken)
    {
        using var message = OpenAiRequests.Post(endpoint, "chat/completions",
            OpenAiChatCodec.WriteRequest(request, stream: false, UsesMaxCompletionTokens(endpoint.Provider)));
        var body = await http.PostJsonAsync(endpoint, message, cancellationToken);
        return OpenAiChatCodec.ReadResponse(body);
    }

    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = OpenAiRequests.Post(endpoint, "chat/completions",
            OpenAiChatCodec.WriteRequest(request, stream: true, UsesMaxCompletionTokens(endpoint.Provider)));
        using var response = await http.SendAsync(endpoint, message, cancellationToken);
        await foreach (var item in http.ReadEventsAsync(endpoint, response, cancellationToken))
        {
            if (item.Data == "[DONE]")
            {
                yield break;
            }
            var chunk = OpenAiRequests.ParseEvent(endpoint, item.Data);
            if (chunk["error"] is JsonNode error)
            {
                throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                    $"{endpoint.Provider} failed mid-stream: {(string?)error["message"] ?? error.ToJsonString()}");
            }
            yield return OpenAiChatCodec.ReadChunk(chunk);
        }
    }

    /// <summary>OpenAI itself deprecated <c>max_tokens</c> for <c>max_completion_tokens</c>; compatible providers take the old name.</summary>
    internal static bool UsesMaxCompletionTokens(string provider) => provider == ProviderKinds.OpenAI.Name;
}

public sealed class OpenAiEmbeddingAdapter(ProviderHttp http) : IEmbeddingAdapter
{
    public async Task<EmbeddingResponse> EmbedAsync(ProviderEndpoint endpoint, EmbeddingRequest request, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["model"] = request.Model,
            ["input"] = new JsonArray(request.Inputs.Select(i => (JsonNode?)i).ToArray()),
            ["encoding_format"] = "float",
        };
        if (request.Dimensions is int dimensions)
        {
            payload["dimensions"] = dimensions;
        }
        using var message = OpenAiRequests.Post(endpoint, "embeddings", payload);
        var body = await http.PostJsonAsync(endpoint, message, cancellationToken);
        var data = body["data"] as JsonArray ?? [];
        var vectors = data
            .OrderBy(d => (int?)d?["index"] ?? 0)
            .Select(d => (d?["embedding"] as JsonArray ?? []).Select(x => (float)(double)x!).ToArray())
            .ToList();
        var usage = body["usage"];
        return new EmbeddingResponse((string?)body["model"] ?? request.Model, vectors,
            new TokenUsage { InputTokens = (int?)usage?["prompt_tokens"] ?? 0 });
    }
}

public sealed class OpenAiImageAdapter(ProviderHttp http) : IImageAdapter
{
    public async Task<ImageResponse> GenerateAsync(ProviderEndpoint endpoint, ImageRequest request, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["model"] = request.Model,
            ["prompt"] = request.Prompt,
            ["n"] = request.N,
        };
        if (request.Size is not null) { payload["size"] = request.Size; }
        if (request.Quality is not null) { payload["quality"] = request.Quality; }
        if (request.Style is not null) { payload["style"] = request.Style; }
        // gpt-image-* always answers base64 and rejects response_format; the DALL·E models take it.
        if (!request.Model.StartsWith("gpt-image", StringComparison.OrdinalIgnoreCase))
        {
            payload["response_format"] = request.ResponseFormat;
        }
        using var message = OpenAiRequests.Post(endpoint, "images/generations", payload);
        var body = await http.PostJsonAsync(endpoint, message, cancellationToken);
        var images = (body["data"] as JsonArray ?? [])
            .Select(d => new GeneratedImage((string?)d?["url"], (string?)d?["b64_json"], (string?)d?["revised_prompt"]))
            .ToList();
        var usage = body["usage"] is JsonObject u
            ? new TokenUsage { InputTokens = (int?)u["input_tokens"] ?? 0, OutputTokens = (int?)u["output_tokens"] ?? 0 }
            : null;
        return new ImageResponse((long?)body["created"] ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(), images, usage);
    }
}

internal static class OpenAiRequests
{
    public static HttpRequestMessage Post(ProviderEndpoint endpoint, string path, JsonNode body)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, path))
        {
            Content = ProviderHttp.JsonContent(body),
        };
        if (!string.IsNullOrEmpty(endpoint.ApiKey))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.ApiKey);
        }
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return message;
    }

    public static JsonNode ParseEvent(ProviderEndpoint endpoint, string data)
    {
        try
        {
            return JsonNode.Parse(data) ?? throw new System.Text.Json.JsonException("empty event");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                $"{endpoint.Provider} sent a malformed stream event: {ex.Message}", ex);
        }
    }
}
