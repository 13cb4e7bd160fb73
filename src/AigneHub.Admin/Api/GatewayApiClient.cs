using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

public sealed record PlaygroundMessage(string Role, string Content);

/// <summary>One piece of a streamed answer: text, the final usage, or a mid-stream error. The first chunk carries the
/// call's trace id (the Api's <c>x-trace-id</c>), which its call record carries too.</summary>
public sealed record ChatStreamChunk(string? Text, int? PromptTokens = null, int? CompletionTokens = null, string? Error = null, string? TraceId = null);

/// <summary>
/// The gateway exactly as callers use it (<c>/api/v2/models</c>, <c>/api/v2/chat/completions</c>, <c>/api/v2/status</c>),
/// with the signed-in user's own token — so the Playground is billed and logged like any other call.
/// </summary>
public sealed class GatewayApiClient(HttpClient http)
{
    public async Task<List<string>> ListModelsAsync(CancellationToken ct = default)
    {
        var list = await GetAsync(http, "/api/v2/models", AdminJsonContext.Default.ModelListDto, ct);
        return list.Data.Select(m => m.Id).Order(StringComparer.Ordinal).ToList();
    }

    public Task<ModelStatusResponse> GetStatusAsync(string model, CancellationToken ct = default) =>
        GetAsync(http, $"/api/v2/status?model={Uri.EscapeDataString(model)}", ManagementJsonContext.Default.ModelStatusResponse, ct);

    /// <summary>
    /// Streams a chat completion, yielding each delta as soon as its SSE event arrives (never buffering the whole
    /// answer). An error before the stream starts throws <see cref="ApiException"/> with the gateway's message; one
    /// in the middle arrives as a chunk with <see cref="ChatStreamChunk.Error"/>.
    /// </summary>
    public async IAsyncEnumerable<ChatStreamChunk> StreamChatAsync(string model, IReadOnlyList<PlaygroundMessage> messages,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
            ["messages"] = new JsonArray(messages.Select(m => (JsonNode?)new JsonObject { ["role"] = m.Role, ["content"] = m.Content }).ToArray()),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        using var response = await TrySendAsync(http, request, HttpCompletionOption.ResponseHeadersRead, ct);
        await EnsureSuccessAsync(response, ct);
        if (response.Headers.TryGetValues("x-trace-id", out var trace))
        {
            yield return new ChatStreamChunk(null, TraceId: trace.FirstOrDefault());
        }

        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }
            var data = line.AsSpan(5).Trim().ToString();
            if (data == "[DONE]")
            {
                yield break;
            }
            var chunk = ParseChunk(data);
            if (chunk is not null)
            {
                yield return chunk;
            }
        }
    }

    internal static ChatStreamChunk? ParseChunk(string data)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(data);
        }
        catch (JsonException)
        {
            return new ChatStreamChunk(null, Error: "The gateway sent an event that is not JSON.");
        }
        if (node?["error"] is { } error)
        {
            return new ChatStreamChunk(null, Error: error["message"]?.GetValue<string>() ?? error.ToJsonString());
        }
        // The usage chunk has "choices": [] — an empty array, not a missing one.
        var text = node?["choices"] is JsonArray { Count: > 0 } choices ? choices[0]?["delta"]?["content"]?.GetValue<string>() : null;
        var usage = node?["usage"];
        int? prompt = usage?["prompt_tokens"]?.GetValue<int>();
        int? completion = usage?["completion_tokens"]?.GetValue<int>();
        return text is null && prompt is null ? null : new ChatStreamChunk(text, prompt, completion);
    }
}
