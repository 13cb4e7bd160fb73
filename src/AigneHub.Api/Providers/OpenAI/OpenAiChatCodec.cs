using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// OpenAI's chat-completions wire format ⇄ the neutral model, both ways: the gateway reads callers' requests and
/// writes their answers with it, and the OpenAI-compatible adapter writes providers' requests and reads their answers
/// with it. One codec, so both directions agree.
/// </summary>
public static class OpenAiChatCodec
{
    // :: Requests

    /// <summary>Reads and validates a caller's request. Errors name the offending parameter.</summary>
    public static ChatRequest ReadRequest(JsonObject body, string model)
    {
        var messagesNode = body["messages"];
        if (messagesNode is not JsonArray messages || messages.Count == 0)
        {
            throw GatewayException.BadRequest("'messages' must be a non-empty array.", "messages");
        }

        var parsed = new List<ChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            parsed.Add(ReadMessage(messages[i] as JsonObject ?? throw GatewayException.BadRequest($"'messages[{i}]' must be an object.", $"messages[{i}]"), i));
        }

        if (body["n"] is JsonNode n && Number(n, "n") is { } count && count != 1)
        {
            throw GatewayException.BadRequest("Only n=1 is supported.", "n");
        }

        return new ChatRequest
        {
            Model = model,
            Messages = parsed,
            Temperature = Number(body["temperature"], "temperature"),
            TopP = Number(body["top_p"], "top_p"),
            FrequencyPenalty = Number(body["frequency_penalty"], "frequency_penalty"),
            PresencePenalty = Number(body["presence_penalty"], "presence_penalty"),
            MaxOutputTokens = Integer(body["max_completion_tokens"], "max_completion_tokens") ?? Integer(body["max_tokens"], "max_tokens"),
            Stop = ReadStop(body["stop"]),
            Seed = (long?)Number(body["seed"], "seed"),
            Tools = ReadTools(body["tools"]),
            ToolChoice = ReadToolChoice(body["tool_choice"], "tool_choice"),
            ResponseFormat = ReadResponseFormat(body["response_format"]),
            ReasoningEffort = String(body["reasoning_effort"], "reasoning_effort"),
            EndUser = String(body["user"], "user"),
        };
    }

    private static ChatMessage ReadMessage(JsonObject m, int i)
    {
        var role = String(m["role"], $"messages[{i}].role") switch
        {
            "system" or "developer" => ChatRole.System,
            "user" => ChatRole.User,
            "assistant" => ChatRole.Assistant,
            "tool" or "function" => ChatRole.Tool,
            null => throw GatewayException.BadRequest($"'messages[{i}].role' is required.", $"messages[{i}].role"),
            var other => throw GatewayException.BadRequest($"'messages[{i}].role' has an unknown value '{other}'.", $"messages[{i}].role"),
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
                for (var p = 0; p < parts.Count; p++)
                {
                    var part = parts[p] as JsonObject ?? throw GatewayException.BadRequest($"'messages[{i}].content[{p}]' must be an object.", $"messages[{i}].content");
                    switch ((string?)part["type"])
                    {
                        case "text":
                            content.Add(new TextPart(String(part["text"], $"messages[{i}].content[{p}].text") ?? ""));
                            break;
                        case "image_url":
                            var url = part["image_url"] is JsonObject iu ? String(iu["url"], $"messages[{i}].content[{p}].image_url.url") : String(part["image_url"], $"messages[{i}].content[{p}].image_url");
                            if (string.IsNullOrEmpty(url))
                            {
                                throw GatewayException.BadRequest($"'messages[{i}].content[{p}].image_url.url' is required.", $"messages[{i}].content");
                            }
                            content.Add(new ImagePart(url, (string?)part["image_url"]?["detail"]));
                            break;
                        default:
                            throw GatewayException.BadRequest($"'messages[{i}].content[{p}].type' must be 'text' or 'image_url'.", $"messages[{i}].content");
                    }
                }
                break;
            default:
                throw GatewayException.BadRequest($"'messages[{i}].content' must be a string or an array of parts.", $"messages[{i}].content");
        }

        List<ToolCall>? toolCalls = null;
        if (m["tool_calls"] is JsonArray calls)
        {
            toolCalls = [];
            foreach (var c in calls)
            {
                var fn = c?["function"] as JsonObject ?? throw GatewayException.BadRequest($"'messages[{i}].tool_calls[].function' is required.", $"messages[{i}].tool_calls");
                toolCalls.Add(new ToolCall((string?)c!["id"] ?? "", (string?)fn["name"] ?? "", ArgumentsText(fn["arguments"])));
            }
        }

        var toolCallId = String(m["tool_call_id"], $"messages[{i}].tool_call_id");
        if (role == ChatRole.Tool && string.IsNullOrEmpty(toolCallId))
        {
            throw GatewayException.BadRequest($"'messages[{i}].tool_call_id' is required for tool messages.", $"messages[{i}].tool_call_id");
        }
        return new ChatMessage { Role = role, Content = content, ToolCalls = toolCalls, ToolCallId = toolCallId, Name = String(m["name"], $"messages[{i}].name") };
    }

    private static List<string>? ReadStop(JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => [v.GetValue<string>()],
        JsonArray a => a.Select(s => s is JsonValue sv && sv.GetValueKind() == JsonValueKind.String ? sv.GetValue<string>()
            : throw GatewayException.BadRequest("'stop' must be a string or an array of strings.", "stop")).ToList(),
        _ => throw GatewayException.BadRequest("'stop' must be a string or an array of strings.", "stop"),
    };

    private static List<ToolDefinition>? ReadTools(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }
        if (node is not JsonArray tools)
        {
            throw GatewayException.BadRequest("'tools' must be an array.", "tools");
        }
        return tools.Select((t, i) =>
        {
            var fn = t?["function"] as JsonObject;
            var name = (string?)fn?["name"];
            if (string.IsNullOrEmpty(name))
            {
                throw GatewayException.BadRequest($"'tools[{i}].function.name' is required.", "tools");
            }
            return new ToolDefinition(name, (string?)fn!["description"], fn["parameters"] is JsonNode p ? p.Deserialize<JsonElement>() : null,
                fn["strict"] is JsonValue s && s.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? s.GetValue<bool>() : null);
        }).ToList();
    }

    /// <summary><c>auto</c>, <c>none</c>, <c>required</c> or <c>{type:"function", function:{name}}</c> (both protocols).</summary>
    internal static ToolChoice? ReadToolChoice(JsonNode? node, string param) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>() switch
        {
            "auto" => new ToolChoice(ToolChoiceMode.Auto),
            "none" => new ToolChoice(ToolChoiceMode.None),
            "required" => new ToolChoice(ToolChoiceMode.Required),
            var other => throw GatewayException.BadRequest($"'{param}' has an unknown value '{other}'.", param),
        },
        JsonObject o when (string?)o["function"]?["name"] is { Length: > 0 } name => new ToolChoice(ToolChoiceMode.Function, name),
        _ => throw GatewayException.BadRequest($"'{param}' must be auto, none, required or {{type:'function', function:{{name}}}}.", param),
    };

    private static ResponseFormat? ReadResponseFormat(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }
        var type = (string?)node["type"];
        return type switch
        {
            "text" => new ResponseFormat(ResponseFormatKind.Text),
            "json_object" => new ResponseFormat(ResponseFormatKind.JsonObject),
            "json_schema" when node["json_schema"] is JsonObject js => new ResponseFormat(ResponseFormatKind.JsonSchema,
                (string?)js["name"] ?? "response", js["schema"]?.Deserialize<JsonElement>(), js["strict"] is JsonValue s && s.GetValueKind() == JsonValueKind.True),
            "json_schema" => throw GatewayException.BadRequest("'response_format.json_schema' is required for type json_schema.", "response_format"),
            _ => throw GatewayException.BadRequest("'response_format.type' must be text, json_object or json_schema.", "response_format"),
        };
    }

    /// <summary>Writes a provider request (the OpenAI-compatible adapter).</summary>
    public static JsonObject WriteRequest(ChatRequest request, bool stream, bool useMaxCompletionTokens)
    {
        var body = new JsonObject
        {
            ["model"] = request.Model,
            ["messages"] = new JsonArray(request.Messages.Select(WriteMessage).ToArray<JsonNode?>()),
        };
        Set(body, "temperature", request.Temperature);
        Set(body, "top_p", request.TopP);
        Set(body, "frequency_penalty", request.FrequencyPenalty);
        Set(body, "presence_penalty", request.PresencePenalty);
        if (request.MaxOutputTokens is int max)
        {
            body[useMaxCompletionTokens ? "max_completion_tokens" : "max_tokens"] = max;
        }
        if (request.Stop is { Count: > 0 } stop)
        {
            body["stop"] = new JsonArray(stop.Select(s => (JsonNode?)s).ToArray());
        }
        if (request.Seed is long seed)
        {
            body["seed"] = seed;
        }
        if (request.Tools is { Count: > 0 } tools)
        {
            body["tools"] = new JsonArray(tools.Select(t =>
            {
                var fn = new JsonObject { ["name"] = t.Name };
                if (t.Description is not null) { fn["description"] = t.Description; }
                if (t.Parameters is JsonElement p) { fn["parameters"] = JsonNode.Parse(p.GetRawText()); }
                if (t.Strict is bool s) { fn["strict"] = s; }
                return (JsonNode?)new JsonObject { ["type"] = "function", ["function"] = fn };
            }).ToArray());
        }
        if (request.ToolChoice is { } choice)
        {
            body["tool_choice"] = choice.Mode switch
            {
                ToolChoiceMode.Auto => "auto",
                ToolChoiceMode.None => "none",
                ToolChoiceMode.Required => "required",
                _ => new JsonObject { ["type"] = "function", ["function"] = new JsonObject { ["name"] = choice.FunctionName } },
            };
        }
        if (request.ResponseFormat is { } format)
        {
            body["response_format"] = format.Kind switch
            {
                ResponseFormatKind.Text => new JsonObject { ["type"] = "text" },
                ResponseFormatKind.JsonObject => new JsonObject { ["type"] = "json_object" },
                _ => new JsonObject
                {
                    ["type"] = "json_schema",
                    ["json_schema"] = new JsonObject
                    {
                        ["name"] = format.SchemaName ?? "response",
                        ["schema"] = format.Schema is JsonElement s ? JsonNode.Parse(s.GetRawText()) : new JsonObject(),
                        ["strict"] = format.Strict ?? false,
                    },
                },
            };
        }
        if (request.ReasoningEffort is not null)
        {
            body["reasoning_effort"] = request.ReasoningEffort;
        }
        if (request.EndUser is not null)
        {
            body["user"] = request.EndUser;
        }
        if (stream)
        {
            body["stream"] = true;
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        return body;
    }

    private static JsonObject WriteMessage(ChatMessage m)
    {
        var o = new JsonObject
        {
            ["role"] = m.Role switch
            {
                ChatRole.System => "system",
                ChatRole.User => "user",
                ChatRole.Assistant => "assistant",
                _ => "tool",
            },
        };
        if (m.Content.Count == 1 && m.Content[0] is TextPart only)
        {
            o["content"] = only.Text;
        }
        else if (m.Content.Count > 0)
        {
            o["content"] = new JsonArray(m.Content.Select(p => (JsonNode?)(p switch
            {
                TextPart t => new JsonObject { ["type"] = "text", ["text"] = t.Text },
                ImagePart img => new JsonObject
                {
                    ["type"] = "image_url",
                    ["image_url"] = img.Detail is null ? new JsonObject { ["url"] = img.Url } : new JsonObject { ["url"] = img.Url, ["detail"] = img.Detail },
                },
                _ => throw new NotSupportedException(p.GetType().Name),
            })).ToArray());
        }
        else
        {
            o["content"] = m.Role == ChatRole.Assistant ? null : "";
        }
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            o["tool_calls"] = new JsonArray(calls.Select(c => (JsonNode?)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            }).ToArray());
        }
        if (m.ToolCallId is not null)
        {
            o["tool_call_id"] = m.ToolCallId;
        }
        if (m.Name is not null && m.Role != ChatRole.Tool)
        {
            o["name"] = m.Name;
        }
        return o;
    }

    // :: Responses

    public static ChatResponse ReadResponse(JsonNode body)
    {
        var choice = FirstChoice(body);
        var message = choice?["message"];
        return new ChatResponse
        {
            Id = (string?)body["id"] ?? $"chatcmpl-{Guid.NewGuid():N}",
            Model = (string?)body["model"] ?? "",
            Text = (string?)message?["content"],
            ToolCalls = message?["tool_calls"] is JsonArray calls
                ? calls.Select(c => new ToolCall((string?)c?["id"] ?? "", (string?)c?["function"]?["name"] ?? "", ArgumentsText(c?["function"]?["arguments"]))).ToList()
                : null,
            FinishReason = ReadFinishReason((string?)choice?["finish_reason"]),
            Usage = ReadUsage(body["usage"]),
        };
    }

    public static JsonObject WriteResponse(ChatResponse response, string model, long created)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = response.Text, ["refusal"] = null };
        if (response.ToolCalls is { Count: > 0 } calls)
        {
            message["tool_calls"] = new JsonArray(calls.Select(c => (JsonNode?)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            }).ToArray());
        }
        var body = new JsonObject
        {
            ["id"] = response.Id,
            ["object"] = "chat.completion",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = WriteFinishReason(response.FinishReason ?? FinishReason.Stop),
            }),
        };
        if (response.Usage is { } usage)
        {
            body["usage"] = WriteUsage(usage);
        }
        return body;
    }

    public static ChatStreamUpdate ReadChunk(JsonNode chunk)
    {
        var choice = FirstChoice(chunk);
        var delta = choice?["delta"];
        return new ChatStreamUpdate
        {
            Id = (string?)chunk["id"],
            Model = (string?)chunk["model"],
            TextDelta = (string?)delta?["content"],
            ToolCalls = delta?["tool_calls"] is JsonArray calls
                ? calls.Select(c => new ToolCallDelta((int?)c?["index"] ?? 0, (string?)c?["id"], (string?)c?["function"]?["name"], (string?)c?["function"]?["arguments"])).ToList()
                : null,
            FinishReason = ReadFinishReason((string?)choice?["finish_reason"]),
            Usage = ReadUsage(chunk["usage"]),
        };
    }

    /// <summary>One <c>chat.completion.chunk</c>; <paramref name="first"/> adds the assistant role to the delta.</summary>
    public static JsonObject WriteChunk(ChatStreamUpdate update, string id, string model, long created, bool first)
    {
        var delta = new JsonObject();
        if (first)
        {
            delta["role"] = "assistant";
        }
        if (update.TextDelta is not null)
        {
            delta["content"] = update.TextDelta;
        }
        if (update.ToolCalls is { Count: > 0 } calls)
        {
            delta["tool_calls"] = new JsonArray(calls.Select(c =>
            {
                var fn = new JsonObject();
                if (c.Name is not null) { fn["name"] = c.Name; }
                fn["arguments"] = c.ArgumentsDelta ?? "";
                var o = new JsonObject { ["index"] = c.Index };
                if (c.Id is not null) { o["id"] = c.Id; o["type"] = "function"; }
                o["function"] = fn;
                return (JsonNode?)o;
            }).ToArray());
        }
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["delta"] = delta,
                ["logprobs"] = null,
                ["finish_reason"] = update.FinishReason is { } f ? WriteFinishReason(f) : null,
            }),
        };
    }

    /// <summary>The final chunk OpenAI sends when <c>stream_options.include_usage</c> is set: no choices, usage.</summary>
    public static JsonObject WriteUsageChunk(TokenUsage usage, string id, string model, long created) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = new JsonArray(),
        ["usage"] = WriteUsage(usage),
    };

    public static TokenUsage? ReadUsage(JsonNode? usage)
    {
        if (usage is not JsonObject u)
        {
            return null;
        }
        return new TokenUsage
        {
            InputTokens = (int?)u["prompt_tokens"] ?? 0,
            OutputTokens = (int?)u["completion_tokens"] ?? 0,
            CacheReadInputTokens = (int?)u["prompt_tokens_details"]?["cached_tokens"] ?? (int?)u["prompt_cache_hit_tokens"] ?? 0,
            ReasoningTokens = (int?)u["completion_tokens_details"]?["reasoning_tokens"] ?? 0,
        };
    }

    public static JsonObject WriteUsage(TokenUsage usage) => new()
    {
        ["prompt_tokens"] = usage.InputTokens,
        ["completion_tokens"] = usage.OutputTokens,
        ["total_tokens"] = usage.TotalTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CacheReadInputTokens },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens },
    };

    public static FinishReason? ReadFinishReason(string? value) => value switch
    {
        "stop" => FinishReason.Stop,
        "length" => FinishReason.Length,
        "tool_calls" or "function_call" => FinishReason.ToolCalls,
        "content_filter" => FinishReason.ContentFilter,
        null => null,
        _ => FinishReason.Stop,
    };

    public static string WriteFinishReason(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.ToolCalls => "tool_calls",
        FinishReason.ContentFilter => "content_filter",
        _ => "stop",
    };

    /// <summary>The first choice, or null (usage-only chunks carry an empty <c>choices</c> array).</summary>
    private static JsonNode? FirstChoice(JsonNode body) => body["choices"] is JsonArray { Count: > 0 } choices ? choices[0] : null;

    // :: Helpers: strict about types, so a wrong type is a 400 naming the parameter, never a 500.

    private static string ArgumentsText(JsonNode? node) => node switch
    {
        null => "{}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    internal static double? Number(JsonNode? node, string param) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
        _ => throw GatewayException.BadRequest($"'{param}' must be a number.", param),
    };

    internal static int? Integer(JsonNode? node, string param)
    {
        var n = Number(node, param);
        if (n is null)
        {
            return null;
        }
        if (n < 1 || n > int.MaxValue || n != Math.Floor(n.Value))
        {
            throw GatewayException.BadRequest($"'{param}' must be a positive integer.", param);
        }
        return (int)n;
    }

    internal static string? String(JsonNode? node, string param) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw GatewayException.BadRequest($"'{param}' must be a string.", param),
    };

    private static void Set(JsonObject o, string key, double? value)
    {
        if (value is double d)
        {
            o[key] = d;
        }
    }
}
