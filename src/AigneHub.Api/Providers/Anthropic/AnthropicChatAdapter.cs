using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Anthropic;

/// <summary>
/// Chat over the Anthropic Messages API (<c>POST {base}messages</c>, <c>anthropic-version: 2023-06-01</c>).
/// <para>Carried: system messages (joined into the top-level <c>system</c>), text and image parts (data URLs as
/// base64 sources, http URLs as url sources), tool definitions, tool choice (auto/none/any/tool), assistant tool
/// calls and tool results (consecutive results merged into one user turn), <c>max_tokens</c> (default
/// <see cref="AnthropicMapping.DefaultMaxTokens"/> because Anthropic requires it), temperature (clamped to 0..1),
/// top_p, stop sequences, the end-user id (<c>metadata.user_id</c>), and usage including cache writes and reads
/// (input tokens reported with cached ones included).</para>
/// <para>Not carried: seed, frequency/presence penalties, reasoning effort (no extended thinking is requested,
/// and thinking blocks in answers are dropped), image detail, tool-result images, <c>strict</c> on tools.
/// Response formats are emulated: Anthropic has no JSON mode, so json_object/json_schema add an instruction (with
/// the schema) to the system prompt; the answer is not guaranteed to be valid JSON.</para>
/// <para>
/// Its chat is also a pass-through (<see cref="IChatPassthrough"/>) for Anthropic Messages callers: the caller's
/// body goes out as it came (thinking, <c>cache_control</c>, system blocks, beta fields and all) with the model and
/// the admitted output cap set, its <c>anthropic-version</c> and <c>anthropic-beta</c> headers forwarded; the answer comes
/// back untouched and only <c>message_start</c>, <c>message_delta</c> and <c>error</c> events are parsed (usage,
/// cache writes and reads included, and mid-stream failures). It also forwards <c>count_tokens</c>
/// (<see cref="IChatTokenCounter"/>).
/// </para>
/// </summary>
public sealed class AnthropicChatAdapter(ProviderHttp http) : IChatAdapter, IChatPassthrough, IChatTokenCounter
{
    public const string ApiVersion = "2023-06-01";

    public const string VersionHeader = "anthropic-version";

    public const string BetaHeader = "anthropic-beta";

    public PassthroughWire Wire => PassthroughWire.AnthropicMessages;

    public async Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken)
    {
        using var message = CreateRequest(endpoint, AnthropicMapping.BuildRequest(request, stream: false));
        var node = await http.PostJsonAsync(endpoint, message, cancellationToken);
        return AnthropicMapping.ParseResponse(node, request.Model);
    }

    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = CreateRequest(endpoint, AnthropicMapping.BuildRequest(request, stream: true));
        // Throws before the first update when Anthropic refuses the call, so the gateway can still fail over.
        using var response = await http.SendAsync(endpoint, message, cancellationToken);

        string? id = null;
        var model = request.Model;
        TokenUsage? usage = null;
        FinishReason? finish = null;
        // Anthropic numbers content blocks (text and tool_use alike); the neutral model numbers tool calls only.
        var toolIndexByBlock = new Dictionary<int, int>();
        var toolHasArguments = new HashSet<int>();

        await foreach (var item in http.ReadEventsAsync(endpoint, response, cancellationToken))
        {
            var data = Parse(endpoint, item.Data);
            if (data is null)
            {
                continue;
            }
            switch ((string?)data["type"] ?? item.EventType)
            {
                case "message_start":
                    id = (string?)data["message"]?["id"] ?? id;
                    model = (string?)data["message"]?["model"] ?? model;
                    usage = AnthropicMapping.ReadUsage(data["message"]?["usage"], usage);
                    break;

                case "content_block_start":
                {
                    var block = data["content_block"];
                    var blockIndex = (int?)data["index"] ?? 0;
                    if ((string?)block?["type"] == "tool_use")
                    {
                        var toolIndex = toolIndexByBlock.Count;
                        toolIndexByBlock[blockIndex] = toolIndex;
                        yield return Update(id, model, toolCall: new ToolCallDelta(toolIndex, (string?)block["id"], (string?)block["name"], null));
                    }
                    else if ((string?)block?["type"] == "text" && (string?)block["text"] is { Length: > 0 } initial)
                    {
                        yield return Update(id, model, text: initial);
                    }
                    break;
                }

                case "content_block_delta":
                {
                    var delta = data["delta"];
                    var blockIndex = (int?)data["index"] ?? 0;
                    switch ((string?)delta?["type"])
                    {
                        case "text_delta" when (string?)delta["text"] is { Length: > 0 } text:
                            yield return Update(id, model, text: text);
                            break;
                        case "input_json_delta" when (string?)delta["partial_json"] is { Length: > 0 } json
                            && toolIndexByBlock.TryGetValue(blockIndex, out var toolIndex):
                            toolHasArguments.Add(toolIndex);
                            yield return Update(id, model, toolCall: new ToolCallDelta(toolIndex, null, null, json));
                            break;
                            // thinking_delta / signature_delta: not carried.
                    }
                    break;
                }

                case "content_block_stop":
                {
                    // A tool called without arguments streams no input_json_delta; callers still expect valid JSON.
                    if (toolIndexByBlock.TryGetValue((int?)data["index"] ?? 0, out var toolIndex) && toolHasArguments.Add(toolIndex))
                    {
                        yield return Update(id, model, toolCall: new ToolCallDelta(toolIndex, null, null, "{}"));
                    }
                    break;
                }

                case "message_delta":
                    finish = AnthropicMapping.MapStopReason((string?)data["delta"]?["stop_reason"]) ?? finish;
                    usage = AnthropicMapping.ReadUsage(data["usage"], usage);
                    break;

                case "message_stop":
                    yield return new ChatStreamUpdate { Id = id, Model = model, FinishReason = finish ?? FinishReason.Stop, Usage = usage };
                    yield break;

                case "error":
                    throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode,
                        $"{endpoint.Provider} failed mid-answer: {(string?)data["error"]?["message"] ?? data.ToJsonString()}");

                    // ping and unknown events are ignored.
            }
        }
        // The body ended cleanly but without message_stop: the answer is truncated, not complete.
        throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode,
            $"{endpoint.Provider} ended the stream before message_stop.");
    }

    /// <summary>Generated text in a stream's <c>content_block_delta</c>: text, tool input JSON, thinking.</summary>
    private static readonly string[] DeltaFields = ["text", "partial_json", "thinking"];

    /// <summary>Generated text in a whole message: text blocks and thinking (tool input is an object, not counted).</summary>
    private static readonly string[] AnswerFields = ["text", "thinking"];

    public async Task<RawChatAnswer> CompleteRawAsync(ProviderEndpoint endpoint, PassthroughRequest request, CancellationToken cancellationToken)
    {
        using var message = CreateRequest(endpoint, PassthroughBody(request), "messages", request.Headers);
        using var response = await http.SendAsync(endpoint, message, cancellationToken);
        var bytes = await http.ReadAllAsync(endpoint, response, cancellationToken);
        var usage = TryReadUsage(bytes);
        return new RawChatAnswer(bytes, usage) { OutputCharacters = usage is null ? GeneratedText.Count(bytes.Span, AnswerFields) : 0 };
    }

    public async IAsyncEnumerable<RawChatEvent> StreamRawAsync(ProviderEndpoint endpoint, PassthroughRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = CreateRequest(endpoint, PassthroughBody(request), "messages", request.Headers);
        using var response = await http.SendAsync(endpoint, message, cancellationToken);
        TokenUsage? usage = null;
        await foreach (var item in http.ReadEventsAsync(endpoint, response, cancellationToken))
        {
            // Anthropic names every event; the SSE parser reports an unnamed one as "message".
            var name = item.EventType;
            JsonNode? parsed = null;
            if (name == "message")
            {
                parsed = Parse(endpoint, item.Data);
                name = (string?)parsed?["type"] ?? name;
            }
            switch (name)
            {
                case "message_start":
                    // Its usage is the prompt's and a placeholder output count: kept for merging, not reported as
                    // the call's usage, so a stream cut before message_delta is estimated from what was delivered.
                    parsed ??= Parse(endpoint, item.Data);
                    usage = AnthropicMapping.ReadUsage(parsed?["message"]?["usage"], usage);
                    yield return new RawChatEvent(item.Data, EventName: name);
                    break;
                case "message_delta":
                    parsed ??= Parse(endpoint, item.Data);
                    usage = AnthropicMapping.ReadUsage(parsed?["usage"], usage);
                    yield return new RawChatEvent(item.Data, usage, EventName: name);
                    break;
                case "message_stop":
                    yield return new RawChatEvent(item.Data, End: true, EventName: name);
                    yield break;
                case "error":
                    parsed ??= Parse(endpoint, item.Data);
                    throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode,
                        $"{endpoint.Provider} failed mid-answer: {(string?)parsed?["error"]?["message"] ?? item.Data}");
                default:
                    // content_block_*, ping and whatever Anthropic adds next: forwarded untouched, never parsed into a
                    // tree (a delta's generated text is counted by a forward-only scan).
                    yield return new RawChatEvent(item.Data, EventName: name)
                    {
                        OutputCharacters = name == "content_block_delta" ? GeneratedText.Count(item.Data, DeltaFields) : 0,
                    };
                    break;
            }
        }
        throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode,
            $"{endpoint.Provider} ended the stream before message_stop.");
    }

    public async Task<ReadOnlyMemory<byte>> CountTokensRawAsync(ProviderEndpoint endpoint, PassthroughRequest request, CancellationToken cancellationToken)
    {
        var body = (JsonObject)request.Body.DeepClone();
        body["model"] = request.Model;
        using var message = CreateRequest(endpoint, body, "messages/count_tokens", request.Headers);
        using var response = await http.SendAsync(endpoint, message, cancellationToken);
        return await http.ReadAllAsync(endpoint, response, cancellationToken);
    }

    /// <summary>The caller's body with the model replaced and <c>max_tokens</c> (which Anthropic requires, so the
    /// caller always sent one) set to the cap the call was admitted with.</summary>
    private static JsonObject PassthroughBody(PassthroughRequest request)
    {
        var body = (JsonObject)request.Body.DeepClone();
        body["model"] = request.Model;
        if (request.OutputTokenCap is int cap)
        {
            body["max_tokens"] = cap;
        }
        return body;
    }

    private static TokenUsage? TryReadUsage(ReadOnlyMemory<byte> json)
    {
        try
        {
            return JsonNode.Parse(json.Span) is JsonObject { } o && o["usage"] is JsonObject usage ? AnthropicMapping.ReadUsage(usage, null) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static ChatStreamUpdate Update(string? id, string model, string? text = null, ToolCallDelta? toolCall = null) => new()
    {
        Id = id,
        Model = model,
        TextDelta = text,
        ToolCalls = toolCall is null ? null : [toolCall],
    };

    private static JsonNode? Parse(ProviderEndpoint endpoint, string data)
    {
        try
        {
            return JsonNode.Parse(data);
        }
        catch (JsonException ex)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                $"{endpoint.Provider} sent a malformed stream event: {ex.Message}", ex);
        }
    }

    /// <param name="forwarded">The caller's <c>anthropic-version</c> and <c>anthropic-beta</c>, on a pass-through.</param>
    private static HttpRequestMessage CreateRequest(ProviderEndpoint endpoint, JsonObject body, string path = "messages",
        IReadOnlyDictionary<string, string>? forwarded = null)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, path))
        {
            Content = ProviderHttp.JsonContent(body),
        };
        if (endpoint.ApiKey is { Length: > 0 } key)
        {
            message.Headers.TryAddWithoutValidation("x-api-key", key);
        }
        message.Headers.TryAddWithoutValidation(VersionHeader,
            forwarded?.GetValueOrDefault(VersionHeader) is { Length: > 0 } version ? version : ApiVersion);
        if (forwarded?.GetValueOrDefault(BetaHeader) is { Length: > 0 } beta)
        {
            message.Headers.TryAddWithoutValidation(BetaHeader, beta);
        }
        return message;
    }
}
