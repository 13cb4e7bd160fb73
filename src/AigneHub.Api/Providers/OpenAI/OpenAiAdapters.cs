using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// The OpenAI-compatible family (OpenAI, DeepSeek, xAI, OpenRouter, Ollama, Doubao, Poe): chat completions,
/// embeddings and image generation at <c>{baseUrl}chat/completions</c>, <c>embeddings</c>, <c>images/generations</c>.
/// Quirks by provider: only OpenAI itself takes <c>max_completion_tokens</c> (the others <c>max_tokens</c>);
/// DeepSeek reports cache hits as <c>prompt_cache_hit_tokens</c>; Ollama needs no key.
/// <para>
/// Its chat is also a pass-through (<see cref="IChatPassthrough"/>): an OpenAI caller's body goes to the provider
/// as it came, the answer comes back byte for byte, and the only work done on it is to find the usage and errors.
/// No round trip through the neutral model.
/// </para>
/// </summary>
public sealed class OpenAiChatAdapter(ProviderHttp http) : IChatAdapter, IChatPassthrough
{
    public PassthroughWire Wire => PassthroughWire.OpenAiChatCompletions;

    public async Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken)
    {
        using var message = OpenAiRequests.Post(endpoint, "chat/completions",
            OpenAiChatMapping.WriteRequest(request, stream: false, UsesMaxCompletionTokens(endpoint.Provider)));
        var body = await http.PostJsonAsync(endpoint, message, cancellationToken);
        return OpenAiChatMapping.ReadResponse(body);
    }

    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = OpenAiRequests.Post(endpoint, "chat/completions",
            OpenAiChatMapping.WriteRequest(request, stream: true, UsesMaxCompletionTokens(endpoint.Provider)));
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
                throw MidStreamError(endpoint, error);
            }
            yield return OpenAiChatMapping.ReadChunk(chunk);
        }
    }

    public async Task<RawChatAnswer> CompleteRawAsync(ProviderEndpoint endpoint, PassthroughRequest call, CancellationToken cancellationToken)
    {
        using var request = OpenAiRequests.Post(endpoint, "chat/completions", PassthroughBody(endpoint, call, stream: false));
        using var response = await http.SendAsync(endpoint, request, cancellationToken);
        await using var providerBody = http.OpenBody(endpoint, response);
        using var buffer = new MemoryStream();
        await providerBody.CopyToAsync(buffer, cancellationToken);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        // Passed through untouched, but only if it is an answer at all: a 200 with a torn or non-JSON body is the
        // provider's failure (failover, a 502), not something to hand the caller as a success.
        JsonObject answer;
        try
        {
            answer = JsonNode.Parse(bytes.Span) as JsonObject
                ?? throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode, $"{endpoint.Provider} sent a JSON answer that is not an object.");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode,
                $"{endpoint.Provider} sent malformed JSON: {ex.Message}", ex);
        }
        var usage = OpenAiChatMapping.ReadUsage(answer["usage"]);
        return new RawChatAnswer(bytes, usage) { OutputCharacters = usage is null ? GeneratedText.Count(bytes.Span, GeneratedText.ChatCompletionsFields) : 0 };
    }

    public async IAsyncEnumerable<RawChatEvent> StreamRawAsync(ProviderEndpoint endpoint, PassthroughRequest call,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = OpenAiRequests.Post(endpoint, "chat/completions", PassthroughBody(endpoint, call, stream: true));
        using var response = await http.SendAsync(endpoint, request, cancellationToken);
        await foreach (var item in http.ReadEventsAsync(endpoint, response, cancellationToken))
        {
            var data = item.Data;
            if (data == "[DONE]")
            {
                yield return new RawChatEvent(data, End: true);
                yield break;
            }
            // Only events that mention an error or a usage are parsed into a tree, once; the rest pass untouched
            // (their generated text counted by a forward-only scan, which also refuses a torn or garbled event: the
            // provider's failure — a failover before the first byte, the in-stream error after it — never the caller's
            // parser's).
            if (!data.Contains("\"error\"", StringComparison.Ordinal) && !data.Contains("\"usage\"", StringComparison.Ordinal))
            {
                if (!GeneratedText.TryCount(data, GeneratedText.ChatCompletionsFields, out var characters))
                {
                    throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null, $"{endpoint.Provider} sent a malformed event.");
                }
                yield return new RawChatEvent(data) { OutputCharacters = characters };
                continue;
            }
            var parsed = OpenAiRequests.ParseEvent(endpoint, data);
            if (parsed["error"] is JsonNode error)
            {
                throw MidStreamError(endpoint, error);
            }
            yield return OpenAiChatMapping.ReadUsage(parsed["usage"]) is { } usage
                ? new RawChatEvent(data, usage, UsageOnly: parsed["choices"] is JsonArray { Count: 0 }) { OutputCharacters = GeneratedText.Count(data, GeneratedText.ChatCompletionsFields) }
                : new RawChatEvent(data) { OutputCharacters = GeneratedText.Count(data, GeneratedText.ChatCompletionsFields) };
        }
    }

    /// <summary>OpenAI itself deprecated <c>max_tokens</c> for <c>max_completion_tokens</c>; compatible providers take the old name.</summary>
    internal static bool UsesMaxCompletionTokens(string provider) => provider == ProviderKinds.OpenAI.Name;

    /// <summary>The caller's body with the model replaced, the caller's output caps replaced by the one the call was
    /// admitted with (in the one field this provider reads: a provider that reads both might otherwise honour the
    /// larger), and usage always requested in a stream (a streamed call must be billed from the provider's own count).</summary>
    private static JsonObject PassthroughBody(ProviderEndpoint endpoint, PassthroughRequest call, bool stream)
    {
        var body = (JsonObject)call.Body.DeepClone();
        body["model"] = call.Model;
        body.Remove("max_tokens");
        body.Remove("max_completion_tokens");
        if (call.OutputTokenCap is int cap)
        {
            body[UsesMaxCompletionTokens(endpoint.Provider) ? "max_completion_tokens" : "max_tokens"] = cap;
        }
        if (stream)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        return body;
    }

    private static ProviderException MidStreamError(ProviderEndpoint endpoint, JsonNode error) =>
        new(endpoint.Provider, ProviderErrorClass.Unavailable, null,
            $"{endpoint.Provider} failed mid-stream: {(error is JsonObject o && o["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : error.ToJsonString())}");
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
