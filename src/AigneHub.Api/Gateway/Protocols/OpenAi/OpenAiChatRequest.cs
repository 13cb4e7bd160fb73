using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Protocols.OpenAi;

/// <summary>Reads an OpenAI <c>chat/completions</c> request into the neutral model. Errors name the parameter.</summary>
public static class OpenAiChatRequest
{
    public static ChatCall Read(JsonFields body)
    {
        var model = JsonFields.RequireModel(body["model"], "model");
        var streaming = body.Flag("stream");
        var messages = body.Array("messages");
        if (messages is not { Count: > 0 })
        {
            throw GatewayException.BadRequest("'messages' must be a non-empty array.", "messages");
        }
        var parsed = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            parsed.Add(ReadMessage(JsonFields.ItemAt(messages, i, "messages")));
        }
        if (body.Number("n") is { } n && n != 1)
        {
            throw GatewayException.BadRequest("Only n=1 is supported.", "n");
        }

        var request = new ChatRequest
        {
            Model = model,
            Messages = parsed,
            Temperature = body.Number("temperature"),
            TopP = body.Number("top_p"),
            FrequencyPenalty = body.Number("frequency_penalty"),
            PresencePenalty = body.Number("presence_penalty"),
            MaxOutputTokens = body.PositiveInt("max_completion_tokens") ?? body.PositiveInt("max_tokens"),
            Stop = ReadStop(body["stop"]),
            Seed = (long?)body.Number("seed"),
            Tools = ReadTools(body),
            ToolChoice = ChatInput.ReadToolChoice(body["tool_choice"], "tool_choice"),
            ResponseFormat = ReadResponseFormat(body.Object("response_format")),
            ReasoningEffort = body.String("reasoning_effort"),
            EndUser = body.String("user"),
        };
        return new ChatCall
        {
            Request = request,
            Streaming = streaming,
            Parameters = body.Kept("temperature", "top_p", "max_tokens", "max_completion_tokens", "seed", "reasoning_effort", "response_format"),
            Passthrough = new ChatPassthroughBody(PassthroughWire.OpenAiChatCompletions, body.Node),
        };
    }

    /// <summary>Whether a streaming caller asked for the final usage chunk (<c>stream_options.include_usage</c>).</summary>
    public static bool WantsUsage(JsonFields body, bool streaming) =>
        streaming && (body.Object("stream_options")?.Flag("include_usage") ?? false);

    private static ChatMessage ReadMessage(JsonFields m)
    {
        var role = m.String("role") switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" or "function" => ChatRole.Tool,
            null => throw GatewayException.BadRequest($"'{m.PathOf("role")}' is required.", m.PathOf("role")),
            var other => throw GatewayException.BadRequest($"'{m.PathOf("role")}' has an unknown value '{other}'.", m.PathOf("role")),
        };

        List<ContentPart> content = [];
        switch (m["content"])
        {
            case null:
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                content.Add(new TextPart(m.Text("content")!));
                break;
            case JsonArray parts:
                for (var p = 0; p < parts.Count; p++)
                {
                    content.Add(ReadPart(JsonFields.ItemAt(parts, p, m.PathOf("content"))));
                }
                break;
            default:
                throw GatewayException.BadRequest($"'{m.PathOf("content")}' must be a string or an array of parts.", m.PathOf("content"));
        }

        List<ToolCall>? toolCalls = null;
        if (m["tool_calls"] is JsonArray calls)
        {
            toolCalls = new List<ToolCall>(calls.Count);
            for (var c = 0; c < calls.Count; c++)
            {
                var call = JsonFields.ItemAt(calls, c, m.PathOf("tool_calls"));
                var fn = call.Object("function")
                    ?? throw GatewayException.BadRequest($"'{call.PathOf("function")}' is required.", call.PathOf("function"));
                toolCalls.Add(new ToolCall(call.String("id") ?? "", fn.String("name") ?? "", ChatInput.ArgumentsText(fn["arguments"], fn.PathOf("arguments"))));
            }
        }

        var toolCallId = m.String("tool_call_id");
        if (role == ChatRole.Tool && string.IsNullOrEmpty(toolCallId))
        {
            throw GatewayException.BadRequest($"'{m.PathOf("tool_call_id")}' is required for tool messages.", m.PathOf("tool_call_id"));
        }
        return new ChatMessage { Role = role, Content = content, ToolCalls = toolCalls, ToolCallId = toolCallId, Name = m.String("name") };
    }

    private static ContentPart ReadPart(JsonFields part)
    {
        switch (part.String("type"))
        {
            case "text":
                return new TextPart(part.Text("text") ?? "");
            case "image_url":
                var imageUrl = part["image_url"] is JsonObject ? part.Object("image_url") : null;
                var url = imageUrl is { } iu ? iu.String("url") : part.String("image_url");
                if (string.IsNullOrEmpty(url))
                {
                    throw GatewayException.BadRequest($"'{part.PathOf("image_url")}.url' is required.", part.PathOf("image_url"));
                }
                return new ImagePart(url, imageUrl?.String("detail"));
            default:
                throw GatewayException.BadRequest($"'{part.PathOf("type")}' must be 'text' or 'image_url'.", part.PathOf("type"));
        }
    }

    private static List<string>? ReadStop(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return [JsonFields.ReadString(v, "stop")!];
            case JsonArray a:
                var stop = new List<string>(a.Count);
                for (var i = 0; i < a.Count; i++)
                {
                    stop.Add(a[i] is JsonValue sv && sv.GetValueKind() == JsonValueKind.String
                        ? JsonFields.ReadString(sv, $"stop[{i}]")!
                        : throw GatewayException.BadRequest("'stop' must be a string or an array of strings.", "stop"));
                }
                return stop;
            default:
                throw GatewayException.BadRequest("'stop' must be a string or an array of strings.", "stop");
        }
    }

    private static List<ToolDefinition>? ReadTools(JsonFields body)
    {
        if (body.Array("tools") is not { } tools)
        {
            return null;
        }
        var definitions = new List<ToolDefinition>(tools.Count);
        for (var i = 0; i < tools.Count; i++)
        {
            var fn = JsonFields.ItemAt(tools, i, "tools").Object("function");
            var name = fn?.String("name");
            if (fn is not { } f || string.IsNullOrEmpty(name))
            {
                throw GatewayException.BadRequest($"'tools[{i}].function.name' is required.", $"tools[{i}].function.name");
            }
            definitions.Add(new ToolDefinition(name, f.String("description"), ChatInput.Schema(f["parameters"]),
                f["strict"] is JsonValue s && s.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? s.GetValue<bool>() : null));
        }
        return definitions;
    }

    private static ResponseFormat? ReadResponseFormat(JsonFields? node)
    {
        if (node is not { } format)
        {
            return null;
        }
        return format.String("type") switch
        {
            "text" => new ResponseFormat(ResponseFormatKind.Text),
            "json_object" => new ResponseFormat(ResponseFormatKind.JsonObject),
            "json_schema" when format.Object("json_schema") is { } js => new ResponseFormat(ResponseFormatKind.JsonSchema,
                js.String("name") ?? "response", ChatInput.Schema(js["schema"]), js["strict"] is JsonValue s && s.GetValueKind() == JsonValueKind.True),
            "json_schema" => throw GatewayException.BadRequest("'response_format.json_schema' is required for type json_schema.", "response_format"),
            _ => throw GatewayException.BadRequest("'response_format.type' must be text, json_object or json_schema.", "response_format"),
        };
    }
}
