using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.OpenAI;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway;

/// <summary>
/// The AIGNE framework protocol that the official SDK (<c>@aigne/aigne-hub</c>, <c>AIGNEHubChatModel</c>) speaks on
/// <c>POST /api/v2/chat</c>: <c>{input:{messages, modelOptions, tools, toolChoice, responseFormat}, options:{streaming}}</c>.
/// Roles are system/user/agent/tool; tool-call arguments are JSON objects, not strings.
/// </summary>
public static class AigneProtocol
{
    public const string DefaultChatModel = "openai/gpt-5-mini";

    public static (string Model, ChatRequest Request, bool Streaming) ReadChat(JsonObject body)
    {
        var input = body["input"] as JsonObject ?? throw GatewayException.BadRequest("'input' must be an object.", "input");
        var modelOptions = input["modelOptions"] as JsonObject;
        var model = modelOptions?["model"] is JsonNode m ? GatewayRequests.RequireModel(m, "input.modelOptions.model")
            : body["model"] is JsonNode bm ? GatewayRequests.RequireModel(bm)
            : DefaultChatModel;
        var streaming = GatewayRequests.Flag(body["options"]?["streaming"], "options.streaming");

        if (input["messages"] is not JsonArray messages || messages.Count == 0)
        {
            throw GatewayException.BadRequest("'input.messages' must be a non-empty array.", "input.messages");
        }
        var parsed = messages.Select((node, i) => ReadMessage(node as JsonObject
            ?? throw GatewayException.BadRequest($"'input.messages[{i}]' must be an object.", "input.messages"), i)).ToList();

        var request = new ChatRequest
        {
            Model = model,
            Messages = parsed,
            Temperature = OpenAiChatCodec.Number(modelOptions?["temperature"], "input.modelOptions.temperature"),
            TopP = OpenAiChatCodec.Number(modelOptions?["topP"], "input.modelOptions.topP"),
            FrequencyPenalty = OpenAiChatCodec.Number(modelOptions?["frequencyPenalty"], "input.modelOptions.frequencyPenalty"),
            PresencePenalty = OpenAiChatCodec.Number(modelOptions?["presencePenalty"], "input.modelOptions.presencePenalty"),
            MaxOutputTokens = OpenAiChatCodec.Integer(modelOptions?["maxTokens"], "input.modelOptions.maxTokens"),
            ReasoningEffort = modelOptions?["reasoningEffort"] is JsonValue re && re.GetValueKind() == JsonValueKind.String ? re.GetValue<string>() : null,
            Tools = ReadTools(input["tools"]),
            ToolChoice = ReadToolChoice(input["toolChoice"]),
            ResponseFormat = ReadResponseFormat(input["responseFormat"]),
        };
        return (model, request, streaming);
    }

    private static ChatMessage ReadMessage(JsonObject m, int i)
    {
        var role = (string?)m["role"] switch
        {
            "system" => ChatRole.System,
            "user" => ChatRole.User,
            "agent" or "assistant" => ChatRole.Assistant,
            "tool" => ChatRole.Tool,
            var other => throw GatewayException.BadRequest($"'input.messages[{i}].role' must be system, user, agent or tool (got '{other}').", "input.messages"),
        };
        List<ContentPart> content = [];
        switch (m["content"])
        {
            case null:
                break;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                content.Add(new TextPart(v.GetValue<string>()));
                break;
            case JsonArray parts:
                foreach (var part in parts)
                {
                    content.Add((string?)part?["type"] switch
                    {
                        "text" => new TextPart((string?)part!["text"] ?? ""),
                        "image_url" => new ImagePart((string?)part!["url"] ?? (string?)part["image_url"]?["url"]
                            ?? throw GatewayException.BadRequest($"'input.messages[{i}]' has an image part without a url.", "input.messages")),
                        "url" => new ImagePart((string?)part!["url"] ?? throw GatewayException.BadRequest($"'input.messages[{i}]' has a url part without a url.", "input.messages")),
                        "file" => new ImagePart($"data:{(string?)part!["mimeType"] ?? "application/octet-stream"};base64,{(string?)part["data"]}"),
                        var other => throw GatewayException.BadRequest($"'input.messages[{i}]' has an unsupported content part '{other}'.", "input.messages"),
                    });
                }
                break;
            default:
                // Tool results may be objects: they are sent to the provider as JSON text.
                content.Add(new TextPart(m["content"]!.ToJsonString()));
                break;
        }
        List<ToolCall>? toolCalls = m["toolCalls"] is JsonArray calls
            ? calls.Select(c => new ToolCall((string?)c?["id"] ?? "", (string?)c?["function"]?["name"] ?? "",
                c?["function"]?["arguments"] switch
                {
                    null => "{}",
                    JsonValue s when s.GetValueKind() == JsonValueKind.String => s.GetValue<string>(),
                    var node => node.ToJsonString(),
                })).ToList()
            : null;
        var toolCallId = (string?)m["toolCallId"];
        if (role == ChatRole.Tool && string.IsNullOrEmpty(toolCallId))
        {
            throw GatewayException.BadRequest($"'input.messages[{i}].toolCallId' is required for tool messages.", "input.messages");
        }
        return new ChatMessage { Role = role, Content = content, ToolCalls = toolCalls, ToolCallId = toolCallId, Name = (string?)m["name"] };
    }

    private static List<ToolDefinition>? ReadTools(JsonNode? node) => node switch
    {
        null => null,
        JsonArray tools => tools.Select((t, i) =>
        {
            var fn = t?["function"] as JsonObject ?? throw GatewayException.BadRequest($"'input.tools[{i}].function' is required.", "input.tools");
            var name = (string?)fn["name"];
            return string.IsNullOrEmpty(name)
                ? throw GatewayException.BadRequest($"'input.tools[{i}].function.name' is required.", "input.tools")
                : new ToolDefinition(name, (string?)fn["description"], fn["parameters"]?.Deserialize<JsonElement>());
        }).ToList(),
        _ => throw GatewayException.BadRequest("'input.tools' must be an array.", "input.tools"),
    };

    /// <summary>OpenAI's tool choices, plus the framework's <c>router</c> (the model must pick one tool).</summary>
    private static ToolChoice? ReadToolChoice(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == "router"
            ? new ToolChoice(ToolChoiceMode.Required)
            : OpenAiChatCodec.ReadToolChoice(node, "input.toolChoice");

    private static ResponseFormat? ReadResponseFormat(JsonNode? node)
    {
        var type = (string?)node?["type"];
        return type switch
        {
            null or "text" => null,
            "json_object" => new ResponseFormat(ResponseFormatKind.JsonObject),
            "json_schema" when node!["jsonSchema"] is JsonObject js => new ResponseFormat(ResponseFormatKind.JsonSchema,
                (string?)js["name"] ?? "output", js["schema"]?.Deserialize<JsonElement>(), js["strict"] is JsonValue s && s.GetValueKind() == JsonValueKind.True),
            _ => throw GatewayException.BadRequest("'input.responseFormat' must be {type:'text'}, {type:'json_object'} or {type:'json_schema', jsonSchema:{name, schema}}.", "input.responseFormat"),
        };
    }

    public static JsonArray WriteToolCalls(IEnumerable<ToolCall> calls) => new(calls.Select(c => (JsonNode?)new JsonObject
    {
        ["id"] = c.Id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = ParseArguments(c.Arguments) },
    }).ToArray());

    public static JsonObject WriteUsage(TokenUsage usage)
    {
        var o = new JsonObject { ["inputTokens"] = usage.InputTokens, ["outputTokens"] = usage.OutputTokens };
        if (usage.CacheCreationInputTokens > 0)
        {
            o["cacheCreationInputTokens"] = usage.CacheCreationInputTokens;
        }
        if (usage.CacheReadInputTokens > 0)
        {
            o["cacheReadInputTokens"] = usage.CacheReadInputTokens;
        }
        return o;
    }

    /// <summary>Tool arguments as an object; text that is not JSON is kept as a string rather than lost.</summary>
    private static JsonNode? ParseArguments(string arguments)
    {
        try
        {
            return JsonNode.Parse(arguments.Length == 0 ? "{}" : arguments);
        }
        catch (JsonException)
        {
            return arguments;
        }
    }

    /// <summary>A json-mode answer's text parsed as JSON, or null when the model did not produce valid JSON.</summary>
    public static JsonNode? TryParseJson(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var trimmed = text.Trim();
        if (trimmed.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = trimmed.IndexOf('\n');
            var fence = trimmed.LastIndexOf("```", StringComparison.Ordinal);
            if (firstLine > 0 && fence > firstLine)
            {
                trimmed = trimmed[(firstLine + 1)..fence];
            }
        }
        try
        {
            return JsonNode.Parse(trimmed);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>
/// The AIGNE answer: JSON <c>{text?, json?, toolCalls?, model, usage}</c>, or SSE chunks <c>{"delta":{"text":{"text":…}}}</c>
/// and <c>{"delta":{"json":{…}}}</c>, the last carrying the usage; no <c>[DONE]</c>; mid-stream errors as
/// <c>event: error</c>.
/// </summary>
internal sealed class AigneChatWriter(HttpContext context, bool jsonMode) : IChatAnswerWriter
{
    private readonly ChatCalls.ToolCallAccumulator _toolCalls = new();
    private readonly System.Text.StringBuilder _jsonText = new();
    private bool _anyToolCall;

    public SseResponse Sse { get; } = new(context);

    public Task WriteResponseAsync(ChatResponse response, ModelTarget target)
    {
        var body = new JsonObject();
        if (jsonMode && AigneProtocol.TryParseJson(response.Text) is { } json)
        {
            body["json"] = json;
        }
        else if (response.Text is not null)
        {
            body["text"] = response.Text;
        }
        if (response.ToolCalls is { Count: > 0 } calls)
        {
            body["toolCalls"] = AigneProtocol.WriteToolCalls(calls);
        }
        body["model"] = target.Model;
        body["modelWithProvider"] = target.PublicName;
        if (response.Usage is { } usage)
        {
            body["usage"] = AigneProtocol.WriteUsage(usage);
        }
        return Results.Json(body).ExecuteAsync(context);
    }

    public Task WriteUpdateAsync(ChatStreamUpdate update, ModelTarget target)
    {
        if (update.ToolCalls is { Count: > 0 } deltas)
        {
            _toolCalls.Add(deltas);
            _anyToolCall = true;
        }
        if (update.TextDelta is not { Length: > 0 } text)
        {
            // Tool calls go out whole at the end (the framework merges objects, it does not concatenate argument text).
            return Sse.StartAsync();
        }
        if (jsonMode)
        {
            _jsonText.Append(text);
            return Sse.StartAsync();
        }
        return Sse.WriteDataAsync(new JsonObject { ["delta"] = new JsonObject { ["text"] = new JsonObject { ["text"] = text } } });
    }

    public async Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target)
    {
        var final = new JsonObject();
        if (jsonMode)
        {
            var json = AigneProtocol.TryParseJson(_jsonText.ToString());
            if (json is not null)
            {
                final["json"] = json;
            }
            else if (_jsonText.Length > 0)
            {
                await Sse.WriteDataAsync(new JsonObject { ["delta"] = new JsonObject { ["text"] = new JsonObject { ["text"] = _jsonText.ToString() } } });
            }
        }
        if (_anyToolCall)
        {
            final["toolCalls"] = AigneProtocol.WriteToolCalls(_toolCalls.Calls);
        }
        final["model"] = target.Model;
        final["modelWithProvider"] = target.PublicName;
        final["usage"] = AigneProtocol.WriteUsage(usage);
        await Sse.WriteDataAsync(new JsonObject { ["delta"] = new JsonObject { ["json"] = final } });
    }

    public Task WriteStreamErrorAsync(string message) =>
        Sse.WriteDataAsync(new JsonObject { ["message"] = message }, eventName: "error");
}
