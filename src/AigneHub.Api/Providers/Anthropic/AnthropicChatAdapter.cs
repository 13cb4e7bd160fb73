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
/// </summary>
public sealed class AnthropicChatAdapter(ProviderHttp http) : IChatAdapter
{
    public const string ApiVersion = "2023-06-01";

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

    private static HttpRequestMessage CreateRequest(ProviderEndpoint endpoint, JsonObject body)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, "messages"))
        {
            Content = ProviderHttp.JsonContent(body),
        };
        if (endpoint.ApiKey is { Length: > 0 } key)
        {
            message.Headers.TryAddWithoutValidation("x-api-key", key);
        }
        message.Headers.TryAddWithoutValidation("anthropic-version", ApiVersion);
        return message;
    }
}
