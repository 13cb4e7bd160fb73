using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// The OpenAI-compatible family (OpenAI, DeepSeek, xAI, OpenRouter, Ollama, Doubao, Poe, Mistral, Groq, Azure OpenAI):
/// chat completions, embeddings and image generation at <c>{baseUrl}chat/completions</c>, <c>embeddings</c>,
/// <c>images/generations</c> (audio: <see cref="OpenAiAudioAdapter"/>). Quirks by provider are data (<see cref="OpenAiDialect"/> on the kind): the output-cap
/// field (OpenAI, Groq and Azure read <c>max_completion_tokens</c>, the others <c>max_tokens</c>); Mistral refuses
/// fields it does not know, so it gets no <c>stream_options</c> (its last chunk carries the usage anyway), its seed
/// as <c>random_seed</c> and no <c>user</c>; Groq may report a stream's usage under <c>x_groq.usage</c>; DeepSeek
/// reports cache hits as <c>prompt_cache_hit_tokens</c>; Ollama needs no key; Azure addresses a deployment
/// (<see cref="OpenAiRequests.Post"/>). Limitations: a pass-through body's own fields go to the provider as the
/// caller wrote them (a field Mistral does not know is its 422, passed on to the caller as a 422); the Responses API is served by
/// OpenAI itself only, so Azure's Responses calls are translated to chat completions.
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
            OpenAiChatMapping.WriteRequest(request, stream: false, OpenAiRequests.Dialect(endpoint)));
        var body = await http.PostJsonAsync(endpoint, message, cancellationToken);
        return OpenAiChatMapping.ReadResponse(body);
    }

    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = OpenAiRequests.Post(endpoint, "chat/completions",
            OpenAiChatMapping.WriteRequest(request, stream: true, OpenAiRequests.Dialect(endpoint)));
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
        var bytes = await http.ReadAllAsync(endpoint, response, cancellationToken);
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
            yield return OpenAiChatMapping.ReadChunkUsage(parsed) is { } usage
                ? new RawChatEvent(data, usage, UsageOnly: parsed["choices"] is JsonArray { Count: 0 }) { OutputCharacters = GeneratedText.Count(data, GeneratedText.ChatCompletionsFields) }
                : new RawChatEvent(data) { OutputCharacters = GeneratedText.Count(data, GeneratedText.ChatCompletionsFields) };
        }
    }

    /// <summary>The caller's body with the model replaced, the caller's output caps replaced by the one the call was
    /// admitted with (in the one field this provider reads: a provider that reads both might otherwise honour the
    /// larger), and usage always requested in a stream (a streamed call must be billed from the provider's own count)
    /// where the provider takes the option; where it does not, the option is not sent, the caller's included.</summary>
    private static JsonObject PassthroughBody(ProviderEndpoint endpoint, PassthroughRequest call, bool stream)
    {
        var dialect = OpenAiRequests.Dialect(endpoint);
        var body = (JsonObject)call.Body.DeepClone();
        body["model"] = call.Model;
        body.Remove("max_tokens");
        body.Remove("max_completion_tokens");
        if (call.OutputTokenCap is int cap)
        {
            body[dialect.OutputCapField] = cap;
        }
        if (stream && dialect.StreamUsageOption)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        else if (!dialect.StreamUsageOption)
        {
            body.Remove("stream_options");
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

/// <summary>
/// Image generation (<c>images/generations</c>, JSON) and edits (<c>images/edits</c>, multipart: <c>image</c> — or
/// <c>image[]</c> when there are several, as gpt-image-1 takes them — and <c>mask</c>). Limitations: only the
/// neutral options go out (prompt, n, size, quality, style, the response format for DALL·E); gpt-image-1's
/// <c>background</c>, <c>output_format</c> and the like are not passed on. A member's differences are its
/// <see cref="OpenAiImageDialect"/>: Ark's Seedream (<c>doubao</c>) gets no <c>quality</c>/<c>style</c> (dropped),
/// several images as one sequential generation instead of <c>n</c> (≤ 10, the hub's cap, within Ark's 15; Seedream may
/// make fewer, and the call counts what came), <c>watermark: false</c>; its usage <c>{generated_images, output_tokens}</c>
/// is read as output tokens. Entries without an image (Ark's per-image errors in a group) are not counted.
/// </summary>
public sealed class OpenAiImageAdapter(ProviderHttp http) : IImageAdapter, IImageEditAdapter
{
    public async Task<ImageResponse> GenerateAsync(ProviderEndpoint endpoint, ImageRequest request, CancellationToken cancellationToken)
    {
        var dialect = OpenAiRequests.Dialect(endpoint).Images;
        var payload = new JsonObject
        {
            ["model"] = request.Model,
            ["prompt"] = request.Prompt,
        };
        if (!dialect.SequentialImages)
        {
            payload["n"] = request.N;
        }
        else if (request.N > 1)
        {
            payload["sequential_image_generation"] = "auto";
            payload["sequential_image_generation_options"] = new JsonObject { ["max_images"] = request.N };
        }
        else
        {
            payload["sequential_image_generation"] = "disabled";
        }
        if (request.Size is not null) { payload["size"] = request.Size; }
        if (dialect.QualityAndStyle)
        {
            if (request.Quality is not null) { payload["quality"] = request.Quality; }
            if (request.Style is not null) { payload["style"] = request.Style; }
        }
        if (dialect.Watermark is bool watermark) { payload["watermark"] = watermark; }
        // gpt-image-* always answers base64 and rejects response_format; the DALL·E models take it.
        if (!request.Model.StartsWith("gpt-image", StringComparison.OrdinalIgnoreCase))
        {
            payload["response_format"] = request.ResponseFormat;
        }
        using var message = OpenAiRequests.Post(endpoint, "images/generations", payload);
        return ReadImages(await http.PostJsonAsync(endpoint, message, cancellationToken));
    }

    public async Task<ImageResponse> EditAsync(ProviderEndpoint endpoint, ImageEditRequest request, CancellationToken cancellationToken)
    {
        var image = request.Image;
        var form = new MultipartFormDataContent
        {
            { new StringContent(image.Model), "model" },
            { new StringContent(image.Prompt), "prompt" },
            { new StringContent(image.N.ToString(System.Globalization.CultureInfo.InvariantCulture)), "n" },
        };
        if (image.Size is not null) { form.Add(new StringContent(image.Size), "size"); }
        if (image.Quality is not null) { form.Add(new StringContent(image.Quality), "quality"); }
        if (!image.Model.StartsWith("gpt-image", StringComparison.OrdinalIgnoreCase))
        {
            form.Add(new StringContent(image.ResponseFormat), "response_format");
        }
        foreach (var file in request.Images)
        {
            form.Add(FilePart(file), request.Images.Count > 1 ? "image[]" : "image", file.FileName);
        }
        if (request.Mask is { } mask)
        {
            form.Add(FilePart(mask), "mask", mask.FileName);
        }
        using var message = OpenAiRequests.Post(endpoint, "images/edits", image.Model, form);
        return ReadImages(await http.PostJsonAsync(endpoint, message, cancellationToken));
    }

    private static ReadOnlyMemoryContent FilePart(UploadedFile file)
    {
        var part = new ReadOnlyMemoryContent(file.Bytes);
        part.Headers.ContentType = MediaTypeHeaderValue.TryParse(file.ContentType, out var type) ? type : new MediaTypeHeaderValue("application/octet-stream");
        return part;
    }

    private static ImageResponse ReadImages(JsonNode body)
    {
        var images = (body["data"] as JsonArray ?? [])
            .Select(d => new GeneratedImage((string?)d?["url"], (string?)d?["b64_json"], (string?)d?["revised_prompt"]))
            .Where(i => i.Url is not null || i.Base64Json is not null)
            .ToList();
        var usage = body["usage"] is JsonObject u
            ? new TokenUsage { InputTokens = (int?)u["input_tokens"] ?? 0, OutputTokens = (int?)u["output_tokens"] ?? 0 }
            : null;
        return new ImageResponse((long?)body["created"] ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds(), images, usage);
    }
}

internal static class OpenAiRequests
{
    /// <summary>A count of seconds as the family writes it: a number (whisper-1's <c>duration</c>) or a decimal string
    /// (the videos API's <c>seconds</c>); null when absent, negative or not a number.</summary>
    public static double? Seconds(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number && value.GetValue<double>() is var s && double.IsFinite(s) && s >= 0 ? s
        : node is JsonValue text && text.GetValueKind() == JsonValueKind.String
            && double.TryParse(text.GetValue<string>(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed) && parsed >= 0 ? parsed
        : null;

    public static OpenAiDialect Dialect(ProviderEndpoint endpoint) => endpoint.Kind?.OpenAi ?? OpenAiDialect.Compatible;

    /// <summary>
    /// A POST of <paramref name="path"/> (an operation such as <c>chat/completions</c>). Azure OpenAI addresses the
    /// deployment serving the body's model, <c>{base}openai/deployments/{deployment}/{path}?api-version=…</c>, with
    /// the key in an <c>api-key</c> header; every other member of the family takes <c>{base}{path}</c> and a bearer token.
    /// </summary>
    public static HttpRequestMessage Post(ProviderEndpoint endpoint, string path, JsonNode body) =>
        Post(endpoint, path, (string?)body["model"] ?? "", ProviderHttp.JsonContent(body));

    /// <summary>A POST of any content (a multipart upload) for <paramref name="model"/>, addressed as above.</summary>
    public static HttpRequestMessage Post(ProviderEndpoint endpoint, string path, string model, HttpContent content)
    {
        var azure = Dialect(endpoint).AzureDeployments;
        var url = azure
            ? new Uri(endpoint.BaseUrl, $"openai/deployments/{Uri.EscapeDataString(endpoint.Settings.DeploymentOf(model))}/{path}"
                + $"?api-version={Uri.EscapeDataString(endpoint.Settings.ApiVersion ?? ProviderSettings.DefaultAzureApiVersion)}")
            : new Uri(endpoint.BaseUrl, path);
        var message = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = content,
        };
        Authorize(message, endpoint, azure);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return message;
    }

    /// <summary>A GET of <paramref name="path"/> under the base URL (a job's status or content), with the key as a
    /// bearer token.</summary>
    public static HttpRequestMessage Get(ProviderEndpoint endpoint, string path, string accept)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint.BaseUrl, path));
        Authorize(message, endpoint, azure: false);
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        return message;
    }

    private static void Authorize(HttpRequestMessage message, ProviderEndpoint endpoint, bool azure)
    {
        if (string.IsNullOrEmpty(endpoint.ApiKey))
        {
            return;
        }
        if (azure)
        {
            message.Headers.Add("api-key", endpoint.ApiKey);
        }
        else
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.ApiKey);
        }
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
