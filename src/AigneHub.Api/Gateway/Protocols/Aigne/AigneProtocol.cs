using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.Aigne;

/// <summary>
/// The AIGNE framework protocol that the official SDK (<c>@aigne/aigne-hub</c>, <c>AIGNEHubChatModel</c>) speaks on
/// <c>POST /api/v2/chat</c>: <c>{input:{messages, modelOptions, tools, toolChoice, responseFormat}, options:{streaming}}</c>.
/// Roles are system/user/agent/tool; tool-call arguments are JSON objects, not strings.
/// </summary>
public static class AigneProtocol
{
    public const string DefaultChatModel = "openai/gpt-5-mini";

    public const string DefaultImageModel = "openai/dall-e-2";

    public static ChatCall ReadChat(JsonFields body)
    {
        var input = body.RequireObject("input");
        // Options of another type than an object were always ignored; they still are.
        var modelOptions = input["modelOptions"] is JsonObject mo ? new JsonFields(mo, input.PathOf("modelOptions")) : (JsonFields?)null;
        var model = modelOptions?["model"] is JsonNode m ? JsonFields.RequireModel(m, "input.modelOptions.model")
            : body["model"] is JsonNode bm ? JsonFields.RequireModel(bm, "model")
            : DefaultChatModel;
        var streaming = body.Object("options")?.Flag("streaming") ?? false;

        if (input["messages"] is not JsonArray { Count: > 0 } messages)
        {
            throw GatewayException.BadRequest("'input.messages' must be a non-empty array.", "input.messages");
        }
        var parsed = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            parsed.Add(ReadMessage(JsonFields.ItemAt(messages, i, "input.messages")));
        }

        var request = new ChatRequest
        {
            Model = model,
            Messages = parsed,
            Temperature = modelOptions?.Number("temperature"),
            TopP = modelOptions?.Number("topP"),
            FrequencyPenalty = modelOptions?.Number("frequencyPenalty"),
            PresencePenalty = modelOptions?.Number("presencePenalty"),
            MaxOutputTokens = modelOptions?.PositiveInt("maxTokens"),
            ReasoningEffort = modelOptions?["reasoningEffort"] is JsonValue re && re.GetValueKind() == JsonValueKind.String ? modelOptions?.String("reasoningEffort") : null,
            Tools = ReadTools(input),
            ToolChoice = ReadToolChoice(input["toolChoice"]),
            ResponseFormat = ReadResponseFormat(input.Object("responseFormat")),
        };
        return new ChatCall { Request = request, Streaming = streaming, Parameters = modelOptions?.KeptWhole() };
    }

    /// <summary><c>POST /api/v2/image</c>: <c>{input:{prompt, n, size, quality, style, responseFormat, modelOptions:{model}}}</c>.</summary>
    public static ImageRequest ReadImage(JsonFields body)
    {
        var input = body.RequireObject("input");
        var model = input.Object("modelOptions")?["model"] is JsonNode m ? JsonFields.RequireModel(m, "input.modelOptions.model") : DefaultImageModel;
        // The framework asks for files (base64) unless it names url; any other value has always meant base64.
        return ImageInput.Read(input, model, () => input.String("responseFormat") is "url" ? "url" : "b64_json");
    }

    /// <summary>
    /// The video envelope as <c>AIGNEHubVideoModel</c> sends it: <c>{input:{prompt, model, modelOptions:{model,
    /// seconds, size…}, seconds?, size?, outputFileType?}}</c> (the input's own <c>seconds</c>/<c>size</c> before
    /// <c>modelOptions</c>'); and whether the caller asked for a URL rather than a file.
    /// </summary>
    public static (VideoRequest Request, bool AsUrl) ReadVideo(JsonFields body)
    {
        var input = body.RequireObject("input");
        var options = input.Object("modelOptions");
        var model = options?["model"] is JsonNode m ? JsonFields.RequireModel(m, "input.modelOptions.model")
            : input["model"] is JsonNode im ? JsonFields.RequireModel(im, "input.model")
            : VideoInput.DefaultModel;
        var asUrl = input.OneOf("outputFileType", "url", "file", "local") == "url";
        return (VideoInput.Read(input, model, options), asUrl);
    }

    /// <summary>The embeddings envelope: <c>{input:{input, modelOptions:{model}}}</c>.</summary>
    public static EmbeddingRequest ReadEmbeddings(JsonFields body)
    {
        var input = body.RequireObject("input");
        var model = JsonFields.RequireModel(input.Object("modelOptions")?["model"], "input.modelOptions.model");
        return new EmbeddingRequest { Model = model, Inputs = EmbeddingInput.Read(input["input"], "input.input") };
    }

    private static ChatMessage ReadMessage(JsonFields m)
    {
        var role = m.String("role") switch
        {
            "system" => ChatRole.System,
            "user" => ChatRole.User,
            "agent" or "assistant" => ChatRole.Assistant,
            "tool" => ChatRole.Tool,
            var other => throw GatewayException.BadRequest($"'{m.PathOf("role")}' must be system, user, agent or tool (got '{other}').", "input.messages"),
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
                    content.Add(ReadPart(JsonFields.ItemAt(parts, p, m.PathOf("content")), m.Path));
                }
                break;
            case var other:
                // Tool results may be objects: they are sent to the provider as JSON text.
                content.Add(new TextPart(other.ToJsonString()));
                break;
        }
        List<ToolCall>? toolCalls = null;
        if (m["toolCalls"] is JsonArray calls)
        {
            toolCalls = new List<ToolCall>(calls.Count);
            for (var c = 0; c < calls.Count; c++)
            {
                var call = JsonFields.ItemAt(calls, c, m.PathOf("toolCalls"));
                var fn = call.Object("function");
                toolCalls.Add(new ToolCall(call.String("id") ?? "", fn?.String("name") ?? "",
                    fn is { } f ? ChatInput.ArgumentsText(f["arguments"], f.PathOf("arguments")) : "{}"));
            }
        }
        var toolCallId = m.String("toolCallId");
        if (role == ChatRole.Tool && string.IsNullOrEmpty(toolCallId))
        {
            throw GatewayException.BadRequest($"'{m.PathOf("toolCallId")}' is required for tool messages.", "input.messages");
        }
        return new ChatMessage { Role = role, Content = content, ToolCalls = toolCalls, ToolCallId = toolCallId, Name = m.String("name") };
    }

    private static ContentPart ReadPart(JsonFields part, string message) => part.String("type") switch
    {
        "text" => new TextPart(part.Text("text") ?? ""),
        "image_url" => new ImagePart(part.String("url") ?? part.Object("image_url")?.String("url")
            ?? throw GatewayException.BadRequest($"'{message}' has an image part without a url.", "input.messages")),
        "url" => new ImagePart(part.String("url") ?? throw GatewayException.BadRequest($"'{message}' has a url part without a url.", "input.messages")),
        "file" => new ImagePart($"data:{part.String("mimeType") ?? "application/octet-stream"};base64,{part.String("data")}"),
        var other => throw GatewayException.BadRequest($"'{message}' has an unsupported content part '{other}'.", "input.messages"),
    };

    private static List<ToolDefinition>? ReadTools(JsonFields input)
    {
        if (input.Array("tools") is not { } tools)
        {
            return null;
        }
        var definitions = new List<ToolDefinition>(tools.Count);
        for (var i = 0; i < tools.Count; i++)
        {
            var fn = JsonFields.ItemAt(tools, i, "input.tools").Object("function")
                ?? throw GatewayException.BadRequest($"'input.tools[{i}].function' is required.", "input.tools");
            var name = fn.String("name");
            definitions.Add(string.IsNullOrEmpty(name)
                ? throw GatewayException.BadRequest($"'input.tools[{i}].function.name' is required.", "input.tools")
                : new ToolDefinition(name, fn.String("description"), ChatInput.Schema(fn["parameters"])));
        }
        return definitions;
    }

    /// <summary>OpenAI's tool choices, plus the framework's <c>router</c> (the model must pick one tool).</summary>
    private static ToolChoice? ReadToolChoice(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String && JsonFields.ReadString(v, "input.toolChoice") == "router"
            ? new ToolChoice(ToolChoiceMode.Required)
            : ChatInput.ReadToolChoice(node, "input.toolChoice");

    private static ResponseFormat? ReadResponseFormat(JsonFields? node)
    {
        if (node is not { } format)
        {
            return null;
        }
        return format.String("type") switch
        {
            null or "text" => null,
            "json_object" => new ResponseFormat(ResponseFormatKind.JsonObject),
            "json_schema" when format.Object("jsonSchema") is { } js => new ResponseFormat(ResponseFormatKind.JsonSchema,
                js.String("name") ?? "output", ChatInput.Schema(js["schema"]), js["strict"] is JsonValue s && s.GetValueKind() == JsonValueKind.True),
            _ => throw GatewayException.BadRequest("'input.responseFormat' must be {type:'text'}, {type:'json_object'} or {type:'json_schema', jsonSchema:{name, schema}}.", "input.responseFormat"),
        };
    }
}
