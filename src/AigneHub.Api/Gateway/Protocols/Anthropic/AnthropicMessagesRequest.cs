using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Protocols.Anthropic;

/// <summary>
/// Reads an Anthropic Messages request (<c>POST /v1/messages</c>, <c>/v1/messages/count_tokens</c>) into a
/// <see cref="ChatCall"/>: the neutral request for providers of other wires, and the body as it came (with the
/// caller's <c>anthropic-version</c>/<c>anthropic-beta</c>) for Anthropic itself. Errors name the field.
/// <para>
/// Translated: <c>system</c> (a string or text blocks; Claude Code's first block
/// <c>x-anthropic-billing-header: …</c> is left out; system turns inside <c>messages</c> stay where they are, since its <c>cch</c> changes on every request and would sit in
/// every other provider's prompt-cache prefix), text, image and document blocks (base64 and URL sources; text
/// documents as text), <c>tool_use</c>/<c>tool_result</c> (results become tool messages, named after the call),
/// custom tools, <c>tool_choice</c>, <c>stop_sequences</c>, <c>temperature</c>, <c>top_p</c>, <c>max_tokens</c>.
/// Dropped when translated, and named on the call record (<c>untranslated</c>): <c>thinking</c> and
/// thinking blocks (their signatures are Anthropic's), <c>top_k</c>, <c>metadata</c>, <c>cache_control</c>,
/// server tools, <c>is_error</c> on tool results, the billing header, every beta flag, and any field or block
/// type this reader does not know (so a new Claude Code release never breaks a translated call).
/// </para>
/// </summary>
public static class AnthropicMessagesRequest
{
    /// <summary>The first system block Claude Code sends since 2.1.36; its hash changes on every request.</summary>
    public const string BillingHeaderPrefix = "x-anthropic-billing-header:";

    private const int MaxDroppedNames = 40;

    private static readonly HashSet<string> Translated = new(StringComparer.Ordinal)
    {
        "model", "max_tokens", "messages", "system", "stream", "temperature", "top_p", "stop_sequences", "tools", "tool_choice",
    };

    /// <param name="headers">The caller's <c>anthropic-version</c> and <c>anthropic-beta</c>, forwarded to Anthropic.</param>
    /// <param name="countTokens">A <c>count_tokens</c> body: no <c>max_tokens</c>, never streamed.</param>
    public static ChatCall Read(JsonFields body, IReadOnlyDictionary<string, string> headers, bool countTokens = false)
    {
        var model = JsonFields.RequireModel(body["model"], "model");
        var maxTokens = body.PositiveInt("max_tokens");
        if (maxTokens is null && !countTokens)
        {
            throw GatewayException.BadRequest("'max_tokens' is required.", "max_tokens");
        }
        var messages = body.Array("messages");
        if (messages is not { Count: > 0 })
        {
            throw GatewayException.BadRequest("'messages' must be a non-empty array.", "messages");
        }

        var dropped = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in body.Node)
        {
            if (!Translated.Contains(name))
            {
                dropped.Add(name.Contains('\0', StringComparison.Ordinal) ? throw JsonFields.Invalid(name.Replace("\0", "\\u0000", StringComparison.Ordinal), "is not a field name") : name);
            }
        }
        var reader = new Reader(dropped);
        var parsed = new List<ChatMessage>();
        reader.ReadSystem(body, parsed);
        for (var i = 0; i < messages.Count; i++)
        {
            reader.ReadMessage(JsonFields.ItemAt(messages, i, "messages"), parsed);
        }
        // Not translated, but type-checked: a malformed one is the caller's 400 here, not a provider's later.
        body.Object("thinking")?.String("type");
        body.Number("top_k");
        body.Object("metadata")?.String("user_id");

        var betas = headers.GetValueOrDefault(AnthropicApi.BetaHeader);
        if (!string.IsNullOrEmpty(betas))
        {
            dropped.Add("anthropic-beta");
        }
        var request = new ChatRequest
        {
            Model = model,
            Messages = parsed,
            Temperature = body.Number("temperature"),
            TopP = body.Number("top_p"),
            MaxOutputTokens = maxTokens,
            Stop = ReadStopSequences(body),
            Tools = reader.ReadTools(body),
            ToolChoice = ReadToolChoice(body.Object("tool_choice")),
        };

        var parameters = body.Kept("max_tokens", "temperature", "top_p", "top_k", "thinking", "tool_choice", "service_tier");
        if (!string.IsNullOrEmpty(betas))
        {
            parameters["anthropic_beta"] = new JsonArray([.. betas.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(b => JsonValue.Create(b))]);
        }
        if (dropped.Count > 0)
        {
            // Bounded: the call record keeps a note, not whatever a body full of unknown fields would make it.
            parameters["untranslated"] = new JsonArray([.. dropped.Take(MaxDroppedNames).Select(d => JsonValue.Create(Shorten(d)))]);
        }
        return new ChatCall
        {
            Request = request,
            Streaming = !countTokens && body.Flag("stream"),
            Parameters = parameters,
            Passthrough = new ChatPassthroughBody(PassthroughWire.AnthropicMessages, body.Node) { Headers = headers },
        };
    }

    private static string Shorten(string name) =>
        name.Length <= 100 ? name : name[..(char.IsHighSurrogate(name[99]) ? 99 : 100)];

    private static List<string>? ReadStopSequences(JsonFields body)
    {
        if (body.Array("stop_sequences") is not { } sequences)
        {
            return null;
        }
        var stop = new List<string>(sequences.Count);
        for (var i = 0; i < sequences.Count; i++)
        {
            stop.Add(JsonFields.ReadString(sequences[i], $"stop_sequences[{i}]")
                ?? throw JsonFields.Invalid($"stop_sequences[{i}]", "must be a string"));
        }
        return stop;
    }

    private static ToolChoice? ReadToolChoice(JsonFields? node)
    {
        if (node is not { } choice)
        {
            return null;
        }
        choice.Flag("disable_parallel_tool_use");
        return choice.String("type") switch
        {
            "auto" => new ToolChoice(ToolChoiceMode.Auto),
            "any" => new ToolChoice(ToolChoiceMode.Required),
            "none" => new ToolChoice(ToolChoiceMode.None),
            "tool" => new ToolChoice(ToolChoiceMode.Function,
                choice.String("name") is { Length: > 0 } name ? name : throw GatewayException.BadRequest("'tool_choice.name' is required for type tool.", "tool_choice.name")),
            _ => throw JsonFields.Invalid("tool_choice.type", "must be auto, any, tool or none"),
        };
    }

    /// <summary>One body's reading state: what translation drops, and the tool names by call id (Gemini's
    /// function responses need the name, Anthropic's results carry only the id).</summary>
    private sealed class Reader(SortedSet<string> dropped)
    {
        private readonly Dictionary<string, string> _toolNames = new(StringComparer.Ordinal);

        public void ReadSystem(JsonFields body, List<ChatMessage> into)
        {
            switch (body["system"])
            {
                case null:
                    return;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    AddSystem(body.Text("system")!, into);
                    return;
                case JsonArray blocks:
                    for (var i = 0; i < blocks.Count; i++)
                    {
                        var block = JsonFields.ItemAt(blocks, i, "system");
                        if (block.String("type") != "text")
                        {
                            throw JsonFields.Invalid(block.PathOf("type"), "must be text");
                        }
                        NoteCacheControl(block);
                        AddSystem(block.Text("text") ?? throw JsonFields.Invalid(block.PathOf("text"), "must be a string"), into);
                    }
                    return;
                default:
                    throw JsonFields.Invalid("system", "must be a string or an array of text blocks");
            }
        }

        private void AddSystem(string text, List<ChatMessage> into)
        {
            var start = text.TrimStart();
            if (start.StartsWith(BillingHeaderPrefix, StringComparison.Ordinal))
            {
                // Claude Code sends it as a block of its own; should a client put it on the first line of a longer
                // text, only that line goes.
                dropped.Add("system.billing_header");
                var newline = start.IndexOf('\n', StringComparison.Ordinal);
                text = newline < 0 ? "" : start[(newline + 1)..];
            }
            if (text.Length > 0)
            {
                into.Add(new ChatMessage { Role = ChatRole.System, Content = [new TextPart(text)] });
            }
        }

        public void ReadMessage(JsonFields m, List<ChatMessage> into)
        {
            var role = m.String("role") switch
            {
                "user" => ChatRole.User,
                "assistant" => ChatRole.Assistant,
                // A system turn inside the conversation: kept in place (peers have been known to drop it silently).
                "system" => ChatRole.System,
                null => throw GatewayException.BadRequest($"'{m.PathOf("role")}' is required.", m.PathOf("role")),
                var other => throw JsonFields.Invalid(m.PathOf("role"), $"must be user, assistant or system, not '{other}'"),
            };
            switch (m["content"])
            {
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    into.Add(new ChatMessage { Role = role, Content = [new TextPart(m.Text("content")!)] });
                    return;
                case JsonArray blocks:
                    ReadBlocks(role, blocks, m.PathOf("content"), into);
                    return;
                default:
                    throw JsonFields.Invalid(m.PathOf("content"), "must be a string or an array of content blocks");
            }
        }

        private void ReadBlocks(ChatRole role, JsonArray blocks, string path, List<ChatMessage> into)
        {
            List<ContentPart> parts = [];
            List<ToolCall> calls = [];
            List<ChatMessage> results = [];
            for (var i = 0; i < blocks.Count; i++)
            {
                var block = JsonFields.ItemAt(blocks, i, path);
                NoteCacheControl(block);
                var type = block.String("type") ?? throw GatewayException.BadRequest($"'{block.PathOf("type")}' is required.", block.PathOf("type"));
                switch (type)
                {
                    case "text":
                        parts.Add(new TextPart(block.Text("text") ?? throw JsonFields.Invalid(block.PathOf("text"), "must be a string")));
                        break;
                    case "image":
                    case "document":
                        if (ReadSource(block, type) is { } part)
                        {
                            parts.Add(part);
                        }
                        break;
                    case "tool_use" when role == ChatRole.Assistant:
                        var id = block.String("id") is { Length: > 0 } callId ? callId : throw GatewayException.BadRequest($"'{block.PathOf("id")}' is required.", block.PathOf("id"));
                        var name = block.String("name") is { Length: > 0 } n ? n : throw GatewayException.BadRequest($"'{block.PathOf("name")}' is required.", block.PathOf("name"));
                        var input = block.Object("input")?.Node ?? new JsonObject();
                        _toolNames[id] = name;
                        calls.Add(new ToolCall(id, name, input.ToJsonString()));
                        break;
                    case "tool_result" when role == ChatRole.User:
                        results.Add(ReadToolResult(block));
                        break;
                    case "tool_use" or "tool_result":
                        throw JsonFields.Invalid(block.PathOf("type"), $"{type} is not allowed in a {role.ToString().ToLowerInvariant()} message");
                    case "thinking":
                    case "redacted_thinking":
                        dropped.Add("thinking blocks");
                        break;
                    default:
                        // Server tool blocks, search results, container uploads and whatever comes next: Anthropic's.
                        dropped.Add($"{type} blocks");
                        break;
                }
            }
            // Tool results answer the previous assistant turn, so they come before anything else the user adds.
            into.AddRange(results);
            if (parts.Count > 0 || calls.Count > 0)
            {
                into.Add(new ChatMessage { Role = role, Content = parts, ToolCalls = calls.Count > 0 ? calls : null });
            }
        }

        private ChatMessage ReadToolResult(JsonFields block)
        {
            var id = block.String("tool_use_id") is { Length: > 0 } toolUseId
                ? toolUseId
                : throw GatewayException.BadRequest($"'{block.PathOf("tool_use_id")}' is required.", block.PathOf("tool_use_id"));
            if (block.Flag("is_error"))
            {
                dropped.Add("tool_result.is_error");
            }
            List<ContentPart> parts = [];
            switch (block["content"])
            {
                case null:
                    break;
                case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                    parts.Add(new TextPart(block.Text("content")!));
                    break;
                case JsonArray items:
                    for (var i = 0; i < items.Count; i++)
                    {
                        var item = JsonFields.ItemAt(items, i, block.PathOf("content"));
                        NoteCacheControl(item);
                        switch (item.String("type"))
                        {
                            case "text":
                                parts.Add(new TextPart(item.Text("text") ?? throw JsonFields.Invalid(item.PathOf("text"), "must be a string")));
                                break;
                            case "image" or "document" when ReadSource(item, item.String("type")!) is { } part:
                                parts.Add(part);
                                break;
                            case var other:
                                dropped.Add($"tool_result {other ?? "untyped"} blocks");
                                break;
                        }
                    }
                    break;
                default:
                    throw JsonFields.Invalid(block.PathOf("content"), "must be a string or an array of content blocks");
            }
            return new ChatMessage { Role = ChatRole.Tool, ToolCallId = id, Name = _toolNames.GetValueOrDefault(id), Content = parts };
        }

        /// <summary>An image or document source: base64 and URLs become image/file parts, a text document its text.</summary>
        private ContentPart? ReadSource(JsonFields block, string type)
        {
            var source = block.RequireObject("source");
            switch (source.String("type"))
            {
                case "base64":
                    var mediaType = source.String("media_type") ?? throw GatewayException.BadRequest($"'{source.PathOf("media_type")}' is required.", source.PathOf("media_type"));
                    var data = source.String("data") ?? throw GatewayException.BadRequest($"'{source.PathOf("data")}' is required.", source.PathOf("data"));
                    return new ImagePart($"data:{mediaType};base64,{data}");
                case "url":
                    return new ImagePart(source.String("url") is { Length: > 0 } url ? url : throw GatewayException.BadRequest($"'{source.PathOf("url")}' is required.", source.PathOf("url")));
                case "text" when type == "document":
                    return new TextPart(source.Text("data") ?? throw JsonFields.Invalid(source.PathOf("data"), "must be a string"));
                case "content" when type == "document" && source.Array("content") is { } content:
                    var text = new System.Text.StringBuilder();
                    for (var i = 0; i < content.Count; i++)
                    {
                        var item = JsonFields.ItemAt(content, i, source.PathOf("content"));
                        if (item.String("type") == "text")
                        {
                            text.Append(item.Text("text"));
                        }
                    }
                    return new TextPart(text.ToString());
                case null:
                    throw GatewayException.BadRequest($"'{source.PathOf("type")}' is required.", source.PathOf("type"));
                case var other:
                    // Files uploaded to Anthropic's Files API exist only there.
                    dropped.Add($"{type} {other} sources");
                    return null;
            }
        }

        public List<ToolDefinition>? ReadTools(JsonFields body)
        {
            if (body.Array("tools") is not { } tools)
            {
                return null;
            }
            var definitions = new List<ToolDefinition>(tools.Count);
            for (var i = 0; i < tools.Count; i++)
            {
                var tool = JsonFields.ItemAt(tools, i, "tools");
                NoteCacheControl(tool);
                var type = tool.String("type");
                if (type is not (null or "custom"))
                {
                    // Anthropic's server and client tools (web search, bash, text editor, computer, ...) exist only there.
                    dropped.Add($"tools of type {type}");
                    continue;
                }
                var name = tool.String("name");
                if (string.IsNullOrEmpty(name))
                {
                    throw GatewayException.BadRequest($"'{tool.PathOf("name")}' is required.", tool.PathOf("name"));
                }
                var schema = tool.Object("input_schema");
                definitions.Add(new ToolDefinition(name, tool.String("description"), ChatInput.Schema(schema?.Node)));
            }
            return definitions;
        }

        private void NoteCacheControl(JsonFields block)
        {
            if (block.Object("cache_control") is not null)
            {
                dropped.Add("cache_control");
            }
        }
    }
}
