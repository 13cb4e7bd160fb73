using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.Anthropic;

/// <summary>
/// Anthropic's answer: a <c>message</c>, or the event sequence <c>message_start</c>, <c>ping</c>, per block
/// <c>content_block_start</c>/<c>content_block_delta</c>/<c>content_block_stop</c>, <c>message_delta</c> (stop
/// reason and the final usage) and <c>message_stop</c>. Usage is always in Anthropic's shape: <c>input_tokens</c>
/// without the cached ones, cache writes and reads apart. A translated stream learns its usage only at the end, so
/// <c>message_start</c> carries zeros and <c>message_delta</c> the whole usage (as Anthropic's own
/// <c>message_delta</c> may). An Anthropic provider's own answer is forwarded as it came, events named.
/// </summary>
internal sealed class AnthropicMessagesWriter(HttpContext context, string requestedModel) : IRawChatAnswerWriter
{
    private readonly string _id = $"msg_{Guid.NewGuid():N}";
    private bool _started;
    private int _blockIndex = -1;
    private BlockKind _block;
    private int _toolIndex = -1;

    private enum BlockKind
    {
        None,
        Text,
        Tool,
    }

    public CallerResponse Caller { get; } = new(context);

    public Task WriteResponseAsync(ChatResponse response, ModelTarget target)
    {
        var content = new JsonArray();
        if (!string.IsNullOrEmpty(response.Text))
        {
            content.Add(new JsonObject { ["type"] = "text", ["text"] = response.Text });
        }
        foreach (var call in response.ToolCalls ?? [])
        {
            content.Add(new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = ToolInput(call.Arguments) });
        }
        return Caller.WriteJsonAsync(new JsonObject
        {
            ["id"] = _id,
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = requestedModel,
            ["content"] = content,
            ["stop_reason"] = StopReason(response.FinishReason),
            ["stop_sequence"] = null,
            ["usage"] = Usage(response.Usage ?? new TokenUsage()),
        });
    }

    public async Task WriteUpdateAsync(ChatStreamUpdate update, ModelTarget target)
    {
        await StartAsync();
        if (update.TextDelta is { Length: > 0 } text)
        {
            if (_block != BlockKind.Text)
            {
                await OpenBlockAsync(BlockKind.Text, new JsonObject { ["type"] = "text", ["text"] = "" });
            }
            await DeltaAsync(new JsonObject { ["type"] = "text_delta", ["text"] = text });
        }
        foreach (var call in update.ToolCalls ?? [])
        {
            if (_block != BlockKind.Tool || call.Index != _toolIndex)
            {
                _toolIndex = call.Index;
                await OpenBlockAsync(BlockKind.Tool, new JsonObject
                {
                    ["type"] = "tool_use",
                    ["id"] = call.Id ?? $"toolu_{Guid.NewGuid():N}",
                    ["name"] = call.Name ?? "",
                    ["input"] = new JsonObject(),
                });
            }
            if (call.ArgumentsDelta is { Length: > 0 } arguments)
            {
                await DeltaAsync(new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = arguments });
            }
        }
    }

    public async Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target)
    {
        await StartAsync();
        await CloseBlockAsync();
        await EventAsync("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = StopReason(finishReason), ["stop_sequence"] = null },
            ["usage"] = Usage(usage),
        });
        await EventAsync("message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    public Task WriteFailureAfterCommitAsync(string message) => EventAsync("error", AnthropicErrors.StreamEvent(message));

    public Task WriteRawResponseAsync(RawChatAnswer answer) => Caller.WriteJsonAsync(answer.Body);

    public Task WriteRawEventAsync(RawChatEvent providerEvent) => Caller.WriteEventAsync(providerEvent.Data, providerEvent.EventName);

    private async Task StartAsync()
    {
        if (_started)
        {
            return;
        }
        _started = true;
        await EventAsync("message_start", new JsonObject
        {
            ["type"] = "message_start",
            ["message"] = new JsonObject
            {
                ["id"] = _id,
                ["type"] = "message",
                ["role"] = "assistant",
                ["model"] = requestedModel,
                ["content"] = new JsonArray(),
                ["stop_reason"] = null,
                ["stop_sequence"] = null,
                ["usage"] = Usage(new TokenUsage()),
            },
        });
        await EventAsync("ping", new JsonObject { ["type"] = "ping" });
    }

    private async Task OpenBlockAsync(BlockKind kind, JsonObject block)
    {
        await CloseBlockAsync();
        _blockIndex++;
        _block = kind;
        await EventAsync("content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = _blockIndex, ["content_block"] = block });
    }

    private async Task CloseBlockAsync()
    {
        if (_block == BlockKind.None)
        {
            return;
        }
        _block = BlockKind.None;
        await EventAsync("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = _blockIndex });
    }

    private Task DeltaAsync(JsonObject delta) =>
        EventAsync("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = _blockIndex, ["delta"] = delta });

    private Task EventAsync(string name, JsonObject payload) => Caller.WriteEventAsync(payload, name);

    /// <summary>Anthropic's usage: input tokens without the cached ones (the neutral input includes them).</summary>
    internal static JsonObject Usage(TokenUsage usage) => new()
    {
        ["input_tokens"] = Math.Max(0, usage.InputTokens - usage.CacheCreationInputTokens - usage.CacheReadInputTokens),
        ["cache_creation_input_tokens"] = usage.CacheCreationInputTokens,
        ["cache_read_input_tokens"] = usage.CacheReadInputTokens,
        ["output_tokens"] = usage.OutputTokens,
    };

    private static string StopReason(FinishReason? reason) => reason switch
    {
        FinishReason.Length => "max_tokens",
        FinishReason.ToolCalls => "tool_use",
        FinishReason.ContentFilter => "refusal",
        _ => "end_turn",
    };

    /// <summary>A tool call's arguments as Anthropic's <c>input</c> object (a model's broken JSON becomes <c>{}</c>).</summary>
    private static JsonNode ToolInput(string arguments)
    {
        try
        {
            return JsonNode.Parse(arguments) as JsonObject ?? new JsonObject();
        }
        catch (JsonException)
        {
            return new JsonObject();
        }
    }
}
