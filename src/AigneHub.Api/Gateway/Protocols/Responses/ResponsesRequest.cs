using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Protocols.Responses;

/// <summary>A Responses request as read: the chat call for the pipeline, and what the answer and the store need.</summary>
public sealed record ResponsesCall
{
    public required ChatCall Chat { get; init; }

    /// <summary>This request's own input items (a string input as one user message), as stored and listed.</summary>
    public required JsonArray Input { get; init; }

    /// <summary>Keep the response (<c>store</c>, true unless the caller says false).</summary>
    public bool Store { get; init; }

    public string? PreviousResponseId { get; init; }

    /// <summary>The request fields a response object repeats (instructions, tools, text, reasoning, ...).</summary>
    public required JsonObject Echo { get; init; }
}

/// <summary>
/// Reads an OpenAI <c>responses</c> request. For OpenAI itself the body is passed through (with the conversation of
/// <c>previous_response_id</c> spliced into <c>input</c>: the hub keeps conversations, for every provider); for every
/// other provider it becomes the neutral chat request: <c>instructions</c> the system message, <c>message</c> items
/// messages, <c>function_call</c> items the assistant's tool calls and <c>function_call_output</c> items tool
/// results. What a translated call cannot carry (reasoning items, hosted tools, file inputs, ...) is dropped and
/// named under <c>untranslated</c> in the call record's parameters. Errors name the field.
/// </summary>
public static class ResponsesRequest
{
    public const int MaxIdLength = 128;

    /// <summary>OpenAI item types a translated call has no counterpart for: accepted, dropped, named.</summary>
    private static readonly HashSet<string> UntranslatedItems = new(StringComparer.Ordinal)
    {
        "reasoning", "item_reference", "custom_tool_call", "custom_tool_call_output", "local_shell_call",
        "local_shell_call_output", "shell_call", "shell_call_output", "apply_patch_call", "apply_patch_call_output",
        "web_search_call", "file_search_call", "computer_call", "computer_call_output", "image_generation_call",
        "code_interpreter_call", "mcp_call", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response", "compaction",
    };

    /// <summary>OpenAI's hosted and non-function tools: passed to OpenAI, dropped for the others.</summary>
    private static readonly HashSet<string> UntranslatedTools = new(StringComparer.Ordinal)
    {
        "web_search", "web_search_preview", "web_search_preview_2025_03_11", "web_search_2025_08_26", "file_search",
        "computer_use_preview", "computer_use", "code_interpreter", "image_generation", "local_shell", "shell", "mcp",
        "custom", "apply_patch",
    };

    /// <param name="history">The conversation of <c>previous_response_id</c> (see <see cref="ResponseStore.ConversationAsync"/>).</param>
    public static ResponsesCall Read(JsonFields body, JsonArray? history = null)
    {
        var model = JsonFields.RequireModel(body["model"], "model");
        var streaming = body.Flag("stream");
        var store = body["store"] is null || body.Flag("store");
        var previous = body.String("previous_response_id", MaxIdLength);
        if (body.Flag("background"))
        {
            throw GatewayException.BadRequest("'background' is not supported: AigneHub answers in the request (stream it instead).", "background");
        }
        if (body["conversation"] is not null)
        {
            throw GatewayException.BadRequest("'conversation' is not supported: chain responses with 'previous_response_id'.", "conversation");
        }
        var untranslated = new SortedSet<string>(StringComparer.Ordinal);
        var input = OwnInput(body);
        var instructions = body.Text("instructions");
        ReadStrings(body, "include");
        body.Object("metadata");
        body.String("user");
        body.String("safety_identifier");
        if (body.String("prompt_cache_key") is not null)
        {
            untranslated.Add("prompt_cache_key");
        }
        if (body["parallel_tool_calls"] is not null && !body.Flag("parallel_tool_calls"))
        {
            untranslated.Add("parallel_tool_calls");
        }

        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(instructions))
        {
            messages.Add(new ChatMessage { Role = ChatRole.System, Content = [new TextPart(instructions)] });
        }
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        if (history is not null)
        {
            for (var i = 0; i < history.Count; i++)
            {
                AddItem(messages, toolNames, untranslated, JsonFields.ItemAt(history, i, "previous_response_id"));
            }
        }
        for (var i = 0; i < input.Count; i++)
        {
            AddItem(messages, toolNames, untranslated, JsonFields.ItemAt(input, i, "input"));
        }
        if (!messages.Any(m => m.Role != ChatRole.System))
        {
            throw GatewayException.BadRequest("'input' must hold at least one message or tool output.", "input");
        }

        var (format, verbosity) = ReadText(body.Object("text"));
        if (verbosity)
        {
            untranslated.Add("text.verbosity");
        }
        var reasoning = body.Object("reasoning");
        var effort = reasoning?.String("effort", 32);
        if (reasoning?.String("summary", 32) is not null)
        {
            untranslated.Add("reasoning.summary");
        }
        var request = new ChatRequest
        {
            Model = model,
            Messages = messages,
            Temperature = body.Number("temperature"),
            TopP = body.Number("top_p"),
            MaxOutputTokens = body.PositiveInt("max_output_tokens"),
            Tools = ReadTools(body, untranslated),
            ToolChoice = ReadToolChoice(body["tool_choice"], untranslated),
            ResponseFormat = format,
            ReasoningEffort = effort,
            EndUser = body.String("safety_identifier") ?? body.String("user"),
        };

        var parameters = body.Kept("temperature", "top_p", "max_output_tokens", "reasoning", "text", "tool_choice",
            "parallel_tool_calls", "store", "previous_response_id", "include", "prompt_cache_key");
        if (untranslated.Count > 0)
        {
            parameters["untranslated"] = new JsonArray(untranslated.Select(u => (JsonNode?)u).ToArray());
        }
        return new ResponsesCall
        {
            Chat = new ChatCall
            {
                Request = request,
                Streaming = streaming,
                Parameters = parameters,
                Passthrough = new ChatPassthroughBody(PassthroughWire.OpenAiResponses, PassthroughBody(body, history, input)),
            },
            Input = input,
            Store = store,
            PreviousResponseId = previous,
            Echo = Echo(body),
        };
    }

    /// <summary>The body OpenAI is sent: the caller's, with the stored conversation in front of its input (the hub,
    /// not OpenAI, holds conversations, so a chain may cross providers).</summary>
    private static JsonObject PassthroughBody(JsonFields body, JsonArray? history, JsonArray input)
    {
        if (history is null)
        {
            return body.Node;
        }
        var passthrough = (JsonObject)body.Node.DeepClone();
        passthrough.Remove("previous_response_id");
        var items = (JsonArray)history.DeepClone();
        foreach (var item in input)
        {
            items.Add(item?.DeepClone());
        }
        passthrough["input"] = items;
        return passthrough;
    }

    /// <summary><c>input</c>: a string (one user message) or an array of items.</summary>
    private static JsonArray OwnInput(JsonFields body) => body["input"] switch
    {
        null => throw GatewayException.BadRequest("'input' is required.", "input"),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [UserMessage(JsonFields.ReadText(v, "input")!)],
        JsonArray a => (JsonArray)a.DeepClone(),
        _ => throw GatewayException.BadRequest("'input' must be a string or an array of items.", "input"),
    };

    private static JsonObject UserMessage(string text) => new()
    {
        ["type"] = "message",
        ["id"] = ResponseIds.New("msg"),
        ["role"] = "user",
        ["content"] = new JsonArray(new JsonObject { ["type"] = "input_text", ["text"] = text }),
    };

    private static void AddItem(List<ChatMessage> messages, Dictionary<string, string> toolNames, SortedSet<string> untranslated, JsonFields item)
    {
        var type = item.String("type") ?? (item["role"] is not null ? "message" : null);
        switch (type)
        {
            case "message":
                messages.Add(ReadMessage(item, untranslated));
                break;
            case "function_call":
                var callId = Required(item, "call_id");
                var name = Required(item, "name");
                toolNames[callId] = name;
                var call = new ToolCall(callId, name, ChatInput.ArgumentsText(item["arguments"], item.PathOf("arguments")));
                // Text and the calls that follow it are one assistant turn (Anthropic needs them together).
                if (messages.Count > 0 && messages[^1] is { Role: ChatRole.Assistant } last)
                {
                    messages[^1] = last with { ToolCalls = [.. last.ToolCalls ?? [], call] };
                }
                else
                {
                    messages.Add(new ChatMessage { Role = ChatRole.Assistant, ToolCalls = [call] });
                }
                break;
            case "function_call_output":
                var outputOf = Required(item, "call_id");
                messages.Add(new ChatMessage
                {
                    Role = ChatRole.Tool,
                    ToolCallId = outputOf,
                    Name = toolNames.GetValueOrDefault(outputOf),
                    Content = [new TextPart(ToolOutput(item, untranslated))],
                });
                break;
            case null:
                throw GatewayException.BadRequest($"'{item.PathOf("type")}' is required.", item.PathOf("type"));
            case var other when UntranslatedItems.Contains(other):
                if (other == "reasoning")
                {
                    // Codex replays these with encrypted_content; only OpenAI can read them.
                    item.String("encrypted_content");
                    item.Array("summary");
                }
                untranslated.Add(other);
                break;
            default:
                throw GatewayException.BadRequest($"'{item.PathOf("type")}' has an unknown value '{type}'.", item.PathOf("type"));
        }
    }

    private static ChatMessage ReadMessage(JsonFields m, SortedSet<string> untranslated)
    {
        var role = m.String("role") switch
        {
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "system" or "developer" => ChatRole.System,
            null => throw GatewayException.BadRequest($"'{m.PathOf("role")}' is required.", m.PathOf("role")),
            var other => throw GatewayException.BadRequest($"'{m.PathOf("role")}' has an unknown value '{other}'.", m.PathOf("role")),
        };
        var content = new List<ContentPart>();
        switch (m["content"])
        {
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                content.Add(new TextPart(m.Text("content")!));
                break;
            case JsonArray parts:
                for (var p = 0; p < parts.Count; p++)
                {
                    if (ReadPart(JsonFields.ItemAt(parts, p, m.PathOf("content")), untranslated) is { } part)
                    {
                        content.Add(part);
                    }
                }
                break;
            default:
                throw GatewayException.BadRequest($"'{m.PathOf("content")}' must be a string or an array of parts.", m.PathOf("content"));
        }
        return new ChatMessage { Role = role, Content = content };
    }

    private static ContentPart? ReadPart(JsonFields part, SortedSet<string> untranslated)
    {
        switch (part.String("type"))
        {
            case "input_text" or "output_text" or "text":
                return new TextPart(part.Text("text") ?? "");
            case "refusal":
                return new TextPart(part.Text("refusal") ?? "");
            case "input_image":
                var detail = part.String("detail");
                if (part.String("image_url") is { Length: > 0 } url)
                {
                    return new ImagePart(url, detail);
                }
                part.String("file_id");
                untranslated.Add("input_image.file_id");
                return null;
            case "input_file" or "input_audio":
                untranslated.Add(part.String("type")!);
                return null;
            case null:
                throw GatewayException.BadRequest($"'{part.PathOf("type")}' is required.", part.PathOf("type"));
            default:
                throw GatewayException.BadRequest($"'{part.PathOf("type")}' must be input_text, input_image, input_file, output_text or refusal.", part.PathOf("type"));
        }
    }

    /// <summary>A tool's output: a string, or parts whose text is kept (images and files are not, in translation).</summary>
    private static string ToolOutput(JsonFields item, SortedSet<string> untranslated)
    {
        switch (item["output"])
        {
            case null:
                return "";
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return item.Text("output")!;
            case JsonArray parts:
                var text = new System.Text.StringBuilder();
                for (var p = 0; p < parts.Count; p++)
                {
                    switch (ReadPart(JsonFields.ItemAt(parts, p, item.PathOf("output")), untranslated))
                    {
                        case TextPart t:
                            text.Append(t.Text);
                            break;
                        case ImagePart:
                            untranslated.Add("function_call_output.input_image");
                            break;
                    }
                }
                return text.ToString();
            default:
                throw GatewayException.BadRequest($"'{item.PathOf("output")}' must be a string or an array of parts.", item.PathOf("output"));
        }
    }

    private static List<ToolDefinition>? ReadTools(JsonFields body, SortedSet<string> untranslated)
    {
        if (body.Array("tools") is not { } tools)
        {
            return null;
        }
        var definitions = new List<ToolDefinition>(tools.Count);
        for (var i = 0; i < tools.Count; i++)
        {
            var tool = JsonFields.ItemAt(tools, i, "tools");
            switch (tool.String("type"))
            {
                case "function":
                    definitions.Add(new ToolDefinition(Required(tool, "name"), tool.Text("description"), ChatInput.Schema(tool["parameters"]),
                        tool["strict"] is null ? null : tool.Flag("strict")));
                    break;
                case { } hosted when UntranslatedTools.Contains(hosted):
                    untranslated.Add($"tools:{hosted}");
                    break;
                case null:
                    throw GatewayException.BadRequest($"'{tool.PathOf("type")}' is required.", tool.PathOf("type"));
                case var other:
                    throw GatewayException.BadRequest($"'{tool.PathOf("type")}' has an unknown value '{other}'.", tool.PathOf("type"));
            }
        }
        return definitions.Count > 0 ? definitions : null;
    }

    /// <summary><c>auto</c>, <c>none</c>, <c>required</c>, <c>{type:"function", name}</c>; a hosted tool or an
    /// allowed-tools list is OpenAI's alone (translated as <c>auto</c>).</summary>
    private static ToolChoice? ReadToolChoice(JsonNode? node, SortedSet<string> untranslated)
    {
        const string path = "tool_choice";
        switch (node)
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return ChatInput.ReadToolChoiceMode(v, path);
            case JsonObject o:
                var choice = new JsonFields(o, path);
                switch (choice.String("type"))
                {
                    case "function":
                        return new ToolChoice(ToolChoiceMode.Function, Required(choice, "name"));
                    case { } other:
                        untranslated.Add($"tool_choice:{other}");
                        return new ToolChoice(ToolChoiceMode.Auto);
                    default:
                        throw GatewayException.BadRequest($"'{choice.PathOf("type")}' is required.", choice.PathOf("type"));
                }
            default:
                throw GatewayException.BadRequest($"'{path}' must be auto, none, required or {{type:'function', name}}.", path);
        }
    }

    /// <summary><c>text.format</c> (text, json_object, or json_schema with its schema inline) and whether a verbosity was set.</summary>
    private static (ResponseFormat? Format, bool Verbosity) ReadText(JsonFields? text)
    {
        if (text is not { } t)
        {
            return (null, false);
        }
        var verbosity = t.OneOf("verbosity", "low", "medium", "high") is not null;
        if (t.Object("format") is not { } format)
        {
            return (null, verbosity);
        }
        ResponseFormat value = format.String("type") switch
        {
            "text" => new ResponseFormat(ResponseFormatKind.Text),
            "json_object" => new ResponseFormat(ResponseFormatKind.JsonObject),
            "json_schema" => new ResponseFormat(ResponseFormatKind.JsonSchema, format.String("name") ?? "response",
                format.Object("schema") is null
                    ? throw GatewayException.BadRequest($"'{format.PathOf("schema")}' is required for type json_schema.", format.PathOf("schema"))
                    : ChatInput.Schema(format["schema"]),
                format["strict"] is null ? null : format.Flag("strict")),
            _ => throw GatewayException.BadRequest($"'{format.PathOf("type")}' must be text, json_object or json_schema.", format.PathOf("type")),
        };
        return (value, verbosity);
    }

    private static void ReadStrings(JsonFields body, string name)
    {
        if (body.Array(name) is { } array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (JsonFields.ReadString(array[i], $"{name}[{i}]") is null)
                {
                    throw GatewayException.BadRequest($"'{name}[{i}]' must be a string.", $"{name}[{i}]");
                }
            }
        }
    }

    private static string Required(JsonFields o, string name) =>
        o.String(name) is { Length: > 0 } value ? value : throw GatewayException.BadRequest($"'{o.PathOf(name)}' is required.", o.PathOf(name));

    /// <summary>The request fields a response object repeats, with the API's defaults for those not sent.</summary>
    private static JsonObject Echo(JsonFields body)
    {
        JsonNode? Copy(string name, JsonNode? fallback) => body[name]?.DeepClone() ?? fallback;
        return new JsonObject
        {
            ["instructions"] = Copy("instructions", null),
            ["max_output_tokens"] = Copy("max_output_tokens", null),
            ["max_tool_calls"] = Copy("max_tool_calls", null),
            ["metadata"] = Copy("metadata", new JsonObject()),
            ["parallel_tool_calls"] = Copy("parallel_tool_calls", true),
            ["previous_response_id"] = Copy("previous_response_id", null),
            ["prompt_cache_key"] = Copy("prompt_cache_key", null),
            ["reasoning"] = Copy("reasoning", new JsonObject { ["effort"] = null, ["summary"] = null }),
            ["safety_identifier"] = Copy("safety_identifier", null),
            ["service_tier"] = Copy("service_tier", "default"),
            ["store"] = Copy("store", true),
            ["temperature"] = Copy("temperature", 1.0),
            ["text"] = Copy("text", new JsonObject { ["format"] = new JsonObject { ["type"] = "text" } }),
            ["tool_choice"] = Copy("tool_choice", "auto"),
            ["tools"] = Copy("tools", new JsonArray()),
            ["top_logprobs"] = Copy("top_logprobs", 0),
            ["top_p"] = Copy("top_p", 1.0),
            ["truncation"] = Copy("truncation", "disabled"),
            ["user"] = Copy("user", null),
        };
    }
}

/// <summary>Ids in OpenAI's shape: a type prefix and 32 hex digits.</summary>
internal static class ResponseIds
{
    public static string New(string prefix) => $"{prefix}_{Guid.NewGuid():N}";
}
