using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Gemini;

/// <summary>
/// Chat over the Gemini API (<c>models/{model}:generateContent</c> and <c>:streamGenerateContent?alt=sse</c>, key in
/// <c>x-goog-api-key</c>).
/// <para>Carried: system messages (joined into <c>systemInstruction</c>), user/assistant turns (assistant → "model"),
/// text and image parts (data URLs inline, http URLs as <c>fileData</c> with a MIME type guessed from the
/// extension), tool definitions (schemas reduced to the OpenAPI subset Gemini accepts; <c>type</c> arrays become
/// <c>nullable</c>, <c>const</c> a one-value enum), tool choice (AUTO/NONE/ANY + allowedFunctionNames), assistant
/// tool calls and tool results (the function name is taken from the message or the earlier call with the same
/// id; a JSON-object result is sent as the response, anything else under <c>output</c>), temperature, top_p,
/// max tokens, stop sequences, seed, presence/frequency penalties, JSON mode (<c>responseMimeType</c>) and JSON
/// schema (<c>responseSchema</c>, sanitized the same way), usage (thinking tokens counted as output and as
/// reasoning; cached-content tokens as cache reads). Thought signatures ride in the tool call id
/// (<c>call_0__ts__&lt;signature&gt;</c>) and go back to Gemini when the caller echoes the call.</para>
/// <para>Not carried: reasoning effort (no thinkingConfig is sent), image detail, end-user id, <c>$ref</c>/<c>$defs</c>
/// and other JSON-schema keywords outside Gemini's subset, thought-summary text, safety ratings, and candidates
/// beyond the first. Gemini reports tool call ids only on some models; others get <c>call_&lt;n&gt;</c>.</para>
/// </summary>
public sealed class GeminiChatAdapter(ProviderHttp http) : IChatAdapter
{
    public async Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken)
    {
        using var message = GeminiHttp.CreateRequest(endpoint, request.Model, "generateContent", GeminiMapping.BuildRequest(request));
        var node = await GeminiHttp.PostJsonAsync(http, endpoint, message, cancellationToken);
        var (text, calls, finish) = GeminiMapping.ReadCandidate(node);
        var toolCalls = calls.Select((c, i) => new ToolCall(GeminiMapping.ToolCallId(c.Id, i, c.Signature), c.Name, c.Arguments)).ToList();
        return new ChatResponse
        {
            Id = (string?)node["responseId"] ?? $"gemini-{Guid.NewGuid():N}",
            Model = (string?)node["modelVersion"] ?? request.Model,
            Text = text ?? (toolCalls.Count == 0 ? "" : null),
            ToolCalls = toolCalls.Count > 0 ? toolCalls : null,
            FinishReason = GeminiMapping.MapFinishReason(finish, toolCalls.Count > 0),
            Usage = GeminiMapping.ReadUsage(node["usageMetadata"]),
        };
    }

    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = GeminiHttp.CreateRequest(endpoint, request.Model, "streamGenerateContent", GeminiMapping.BuildRequest(request), "alt=sse");
        // Throws before the first update when Gemini refuses the call, so the gateway can still fail over.
        using var response = await GeminiHttp.SendAsync(http, endpoint, message, cancellationToken);

        string? id = null;
        var model = request.Model;
        string? finish = null;
        TokenUsage? usage = null;
        var toolCount = 0;

        await foreach (var item in http.ReadEventsAsync(endpoint, response, cancellationToken))
        {
            JsonNode? chunk;
            try
            {
                chunk = JsonNode.Parse(item.Data);
            }
            catch (JsonException ex)
            {
                throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                    $"{endpoint.Provider} sent a malformed stream chunk: {ex.Message}", ex);
            }
            if (chunk is null)
            {
                continue;
            }
            if (chunk["error"] is JsonObject error)
            {
                throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int?)error["code"],
                    $"{endpoint.Provider} failed mid-answer: {(string?)error["message"] ?? error.ToJsonString()}");
            }
            id ??= (string?)chunk["responseId"];
            model = (string?)chunk["modelVersion"] ?? model;
            // Every chunk carries the usage so far; the last one is the total.
            usage = GeminiMapping.ReadUsage(chunk["usageMetadata"]) ?? usage;

            var (text, calls, chunkFinish) = GeminiMapping.ReadCandidate(chunk);
            finish = chunkFinish ?? finish;
            List<ToolCallDelta>? deltas = null;
            foreach (var call in calls)
            {
                // Gemini sends each function call whole, never split across chunks.
                var index = toolCount++;
                (deltas ??= []).Add(new ToolCallDelta(index, GeminiMapping.ToolCallId(call.Id, index, call.Signature), call.Name, call.Arguments));
            }
            if (text is { Length: > 0 } || deltas is not null)
            {
                yield return new ChatStreamUpdate { Id = id, Model = model, TextDelta = text is { Length: > 0 } ? text : null, ToolCalls = deltas };
            }
        }

        // Gemini has no end-of-stream event: the finish reason on the last chunk is what tells a complete answer
        // from a connection that closed early.
        if (finish is null)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode,
                $"{endpoint.Provider} ended the stream without a finish reason.");
        }
        yield return new ChatStreamUpdate
        {
            Id = id,
            Model = model,
            FinishReason = GeminiMapping.MapFinishReason(finish, toolCount > 0),
            Usage = usage,
        };
    }
}

/// <summary>The Gemini HTTP conventions shared by chat and embeddings.</summary>
internal static class GeminiHttp
{
    public static HttpRequestMessage CreateRequest(ProviderEndpoint endpoint, string model, string method, JsonObject body, string? query = null)
    {
        var relative = $"{ModelPath(model)}:{method}" + (query is null ? "" : "?" + query);
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, relative))
        {
            Content = ProviderHttp.JsonContent(body),
        };
        if (endpoint.ApiKey is { Length: > 0 } key)
        {
            message.Headers.TryAddWithoutValidation("x-goog-api-key", key);
        }
        return message;
    }

    /// <summary><c>models/{id}</c>; callers may name the model with or without the <c>models/</c> prefix.</summary>
    public static string ModelPath(string model) =>
        "models/" + Uri.EscapeDataString(model.StartsWith("models/", StringComparison.Ordinal) ? model["models/".Length..] : model);

    public static async Task<HttpResponseMessage> SendAsync(ProviderHttp http, ProviderEndpoint endpoint, HttpRequestMessage message, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(endpoint, message, cancellationToken);
        }
        catch (ProviderException ex) when (IsInvalidKey(ex))
        {
            throw Reclassify(endpoint, ex);
        }
    }

    public static async Task<JsonNode> PostJsonAsync(ProviderHttp http, ProviderEndpoint endpoint, HttpRequestMessage message, CancellationToken cancellationToken)
    {
        try
        {
            return await http.PostJsonAsync(endpoint, message, cancellationToken);
        }
        catch (ProviderException ex) when (IsInvalidKey(ex))
        {
            throw Reclassify(endpoint, ex);
        }
    }

    // Gemini answers a bad API key with 400 INVALID_ARGUMENT ("API key not valid"), not 401: without this the
    // credential would never be deactivated and the failure would look like the caller's fault.
    private static bool IsInvalidKey(ProviderException ex) =>
        ex.ErrorClass == ProviderErrorClass.BadRequest && ex.Message.Contains("API key not valid", StringComparison.OrdinalIgnoreCase);

    private static ProviderException Reclassify(ProviderEndpoint endpoint, ProviderException ex) =>
        new(endpoint.Provider, ProviderErrorClass.InvalidCredential, ex.ProviderStatus, ex.Message, ex);
}
