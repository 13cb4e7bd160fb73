using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.Responses;

/// <summary>
/// The Responses answer: a <c>response</c> object, or its event sequence — <c>response.created</c>,
/// <c>response.in_progress</c>, per output item <c>response.output_item.added</c> (a message's
/// <c>response.content_part.added</c>, <c>response.output_text.delta</c>…<c>.done</c>, <c>response.content_part.done</c>;
/// a function call's <c>response.function_call_arguments.delta</c>…<c>.done</c>) and <c>response.output_item.done</c>,
/// then <c>response.completed</c> (or <c>response.incomplete</c>) with the usage; a failure after the first event is
/// <c>error</c> and <c>response.failed</c>. Every event carries its <c>sequence_number</c>. OpenAI's own answer is
/// forwarded as it came. A response the caller asked to store is stored before its last event is written, so a
/// caller that chains on it at once finds it.
/// </summary>
internal sealed class ResponsesWriter(HttpContext context, ResponsesCall call, ResponseStore store, Guid? userId, long createdAt) : IRawChatAnswerWriter
{
    private readonly List<OutputItem> _items = [];
    private readonly Dictionary<int, FunctionCallItem> _calls = [];
    private MessageItem? _message;
    private string? _id;
    private string? _model;
    private int _sequence;

    public CallerResponse Caller { get; } = new(context);

    /// <summary>The hub's id for a translated response: the call's, so the response and its call record are one.</summary>
    private string Id => _id ??= $"resp_{(Caller.CallId ?? Guid.NewGuid()):N}";

    // :: Translated, whole.

    public async Task WriteResponseAsync(ChatResponse response, ModelTarget target)
    {
        _model = ModelName(response.Model, target);
        if (!string.IsNullOrEmpty(response.Text))
        {
            var message = new MessageItem(ResponseIds.New("msg"));
            message.Text.Append(response.Text);
            _items.Add(message);
        }
        foreach (var toolCall in response.ToolCalls ?? [])
        {
            var item = new FunctionCallItem(ResponseIds.New("fc"), CallId(toolCall.Id), toolCall.Name);
            item.Arguments.Append(toolCall.Arguments);
            _items.Add(item);
        }
        var body = Snapshot(Status(response.FinishReason), response.FinishReason, response.Usage);
        await StoreAsync(body);
        await Caller.WriteJsonAsync(body);
    }

    // :: Translated, streamed.

    public async Task WriteUpdateAsync(ChatStreamUpdate update, ModelTarget target)
    {
        if (_model is null)
        {
            _model = ModelName(update.Model, target);
            var started = Snapshot("in_progress", null, null);
            await EventAsync("response.created", new JsonObject { ["response"] = started });
            await EventAsync("response.in_progress", new JsonObject { ["response"] = started.DeepClone() });
        }
        if (update.TextDelta is { Length: > 0 } delta)
        {
            if (_message is null)
            {
                _message = new MessageItem(ResponseIds.New("msg"));
                _items.Add(_message);
                await EventAsync("response.output_item.added", new JsonObject { ["output_index"] = _items.Count - 1, ["item"] = _message.ToJson("in_progress") });
                await EventAsync("response.content_part.added", PartEvent(_message, OutputText("")));
            }
            _message.Text.Append(delta);
            await EventAsync("response.output_text.delta", new JsonObject
            {
                ["item_id"] = _message.Id, ["output_index"] = _items.IndexOf(_message), ["content_index"] = 0, ["delta"] = delta, ["logprobs"] = new JsonArray(),
            });
        }
        foreach (var toolDelta in update.ToolCalls ?? [])
        {
            if (!_calls.TryGetValue(toolDelta.Index, out var item))
            {
                // The model turned from text to tools: the message is finished.
                await CloseMessageAsync();
                item = new FunctionCallItem(ResponseIds.New("fc"), CallId(toolDelta.Id), toolDelta.Name ?? "");
                _calls[toolDelta.Index] = item;
                _items.Add(item);
                await EventAsync("response.output_item.added", new JsonObject { ["output_index"] = _items.Count - 1, ["item"] = item.ToJson("in_progress") });
            }
            if (toolDelta.ArgumentsDelta is { Length: > 0 } arguments)
            {
                item.Arguments.Append(arguments);
                await EventAsync("response.function_call_arguments.delta", new JsonObject
                {
                    ["item_id"] = item.Id, ["output_index"] = _items.IndexOf(item), ["delta"] = arguments,
                });
            }
        }
    }

    public async Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target)
    {
        if (_model is null)
        {
            // A stream that produced nothing still tells its caller it began and ended.
            await WriteUpdateAsync(new ChatStreamUpdate(), target);
        }
        await CloseMessageAsync();
        foreach (var item in _items.OfType<FunctionCallItem>().Where(i => !i.Done))
        {
            item.Done = true;
            var index = _items.IndexOf(item);
            await EventAsync("response.function_call_arguments.done", new JsonObject
            {
                ["item_id"] = item.Id, ["output_index"] = index, ["name"] = item.Name, ["arguments"] = item.Arguments.ToString(),
            });
            await EventAsync("response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = item.ToJson("completed") });
        }
        var status = Status(finishReason);
        var final = Snapshot(status, finishReason, usage);
        await StoreAsync(final);
        await EventAsync(status == "completed" ? "response.completed" : "response.incomplete", new JsonObject { ["response"] = final });
    }

    public async Task WriteFailureAfterCommitAsync(string message)
    {
        await EventAsync("error", new JsonObject { ["code"] = "server_error", ["message"] = message, ["param"] = null });
        var failed = Snapshot("failed", null, null);
        failed["error"] = new JsonObject { ["code"] = "server_error", ["message"] = message };
        await EventAsync("response.failed", new JsonObject { ["response"] = failed });
    }

    // :: OpenAI's own answer, passed through.

    public async Task WriteRawResponseAsync(RawChatAnswer answer)
    {
        if (call.Store && TryParse(answer.Body.Span) is JsonObject response)
        {
            await StoreAsync(response);
        }
        await Caller.WriteJsonAsync(answer.Body);
    }

    public async Task WriteRawEventAsync(RawChatEvent providerEvent)
    {
        if (_id is null && providerEvent.EventName == "response.created"
            && TryParse(Encoding.UTF8.GetBytes(providerEvent.Data))?["response"] is JsonObject created)
        {
            // A failure written later (response.failed) must name the response OpenAI opened.
            _id = StringOf(created["id"]);
            _model = StringOf(created["model"]);
        }
        // The end event holds the whole response: parsed a second time (the adapter read only its usage), once per
        // stream, and only when it is to be stored.
        if (providerEvent.End && call.Store && TryParse(Encoding.UTF8.GetBytes(providerEvent.Data))?["response"] is JsonObject response)
        {
            await StoreAsync(response);
        }
        // OpenAI numbers its events from 0 one by one: a failure event written after them continues the count.
        _sequence++;
        await Caller.WriteEventAsync(providerEvent.Data, providerEvent.EventName);
    }

    // :: Shared.

    private async Task StoreAsync(JsonObject response)
    {
        if (call.Store && userId is Guid user && Caller.CallId is Guid callId)
        {
            await store.SaveAsync(callId, user, call.PreviousResponseId, call.Input, response, context.RequestAborted);
        }
    }

    private async Task CloseMessageAsync()
    {
        if (_message is not { Done: false } message)
        {
            return;
        }
        message.Done = true;
        _message = null;
        var text = message.Text.ToString();
        var index = _items.IndexOf(message);
        await EventAsync("response.output_text.done", new JsonObject
        {
            ["item_id"] = message.Id, ["output_index"] = index, ["content_index"] = 0, ["text"] = text, ["logprobs"] = new JsonArray(),
        });
        await EventAsync("response.content_part.done", PartEvent(message, OutputText(text)));
        await EventAsync("response.output_item.done", new JsonObject { ["output_index"] = index, ["item"] = message.ToJson("completed") });
    }

    private JsonObject PartEvent(MessageItem message, JsonObject part) => new()
    {
        ["item_id"] = message.Id, ["output_index"] = _items.IndexOf(message), ["content_index"] = 0, ["part"] = part,
    };

    private Task EventAsync(string type, JsonObject payload)
    {
        var body = new JsonObject { ["type"] = type };
        foreach (var (key, value) in payload.ToArray())
        {
            payload.Remove(key);
            body[key] = value;
        }
        body["sequence_number"] = _sequence++;
        return Caller.WriteEventAsync(body, type);
    }

    /// <summary>The response object as it stands: the request's echo, the output so far, the status and usage.</summary>
    private JsonObject Snapshot(string status, FinishReason? finishReason, TokenUsage? usage)
    {
        var body = new JsonObject
        {
            ["id"] = Id,
            ["object"] = "response",
            ["created_at"] = createdAt,
            ["status"] = status,
            ["background"] = false,
            ["error"] = null,
            ["incomplete_details"] = status == "incomplete"
                ? new JsonObject { ["reason"] = finishReason == FinishReason.ContentFilter ? "content_filter" : "max_output_tokens" }
                : null,
            ["model"] = _model,
            ["output"] = new JsonArray(_items.Select(i => (JsonNode?)i.ToJson(status == "in_progress" && !i.Done ? "in_progress" : "completed")).ToArray()),
        };
        foreach (var (key, value) in call.Echo)
        {
            body[key] = value?.DeepClone();
        }
        body["usage"] = usage is null ? null : Usage(usage);
        return body;
    }

    public static JsonObject Usage(TokenUsage usage) => new()
    {
        ["input_tokens"] = usage.InputTokens,
        ["input_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CacheReadInputTokens },
        ["output_tokens"] = usage.OutputTokens,
        ["output_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens },
        ["total_tokens"] = usage.TotalTokens,
    };

    private static string Status(FinishReason? finishReason) =>
        finishReason is FinishReason.Length or FinishReason.ContentFilter ? "incomplete" : "completed";

    private static JsonObject OutputText(string text) =>
        new() { ["type"] = "output_text", ["annotations"] = new JsonArray(), ["logprobs"] = new JsonArray(), ["text"] = text };

    private static string CallId(string? id) => string.IsNullOrEmpty(id) ? ResponseIds.New("call") : id;

    private static string ModelName(string? reported, ModelTarget target) => string.IsNullOrEmpty(reported) ? target.Model : reported;

    private static string? StringOf(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var text) ? text : null;

    private static JsonNode? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            return JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private abstract class OutputItem(string id)
    {
        public string Id { get; } = id;

        public bool Done { get; set; }

        public abstract JsonObject ToJson(string status);
    }

    private sealed class MessageItem(string id) : OutputItem(id)
    {
        public StringBuilder Text { get; } = new();

        public override JsonObject ToJson(string status) => new()
        {
            ["id"] = Id,
            ["type"] = "message",
            ["status"] = status,
            ["role"] = "assistant",
            ["content"] = status == "in_progress" && Text.Length == 0 ? new JsonArray() : new JsonArray(OutputText(Text.ToString())),
        };
    }

    private sealed class FunctionCallItem(string id, string callId, string name) : OutputItem(id)
    {
        public string Name { get; } = name;

        public StringBuilder Arguments { get; } = new();

        public override JsonObject ToJson(string status) => new()
        {
            ["id"] = Id,
            ["type"] = "function_call",
            ["status"] = status,
            ["call_id"] = callId,
            ["name"] = Name,
            ["arguments"] = Arguments.ToString(),
        };
    }
}
