using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// The provider side of OpenAI's chat-completions wire: the neutral request written for an OpenAI-compatible
/// provider, and its answers (whole, chunk by chunk, usage) read back. The caller side of the same wire lives in
/// the gateway (<c>Gateway/Protocols/OpenAi</c>). Provider answers are trusted for shape only as far as a
/// malformed one becomes a clean 502 (the pipeline catches it), never a torn connection.
/// </summary>
public static class OpenAiChatMapping
{
    // :: Requests

    /// <summary>Writes a provider request in the fields <paramref name="dialect"/> reads (see <see cref="OpenAiChatAdapter"/>).</summary>
    public static JsonObject WriteRequest(ChatRequest request, bool stream, OpenAiDialect dialect)
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
            body[dialect.OutputCapField] = max;
        }
        if (request.Stop is { Count: > 0 } stop)
        {
            body["stop"] = new JsonArray(stop.Select(s => (JsonNode?)s).ToArray());
        }
        if (request.Seed is long seed)
        {
            body[dialect.SeedField] = seed;
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
        if (request.EndUser is not null && dialect.AcceptsEndUser)
        {
            body["user"] = request.EndUser;
        }
        if (stream)
        {
            body["stream"] = true;
            if (dialect.StreamUsageOption)
            {
                body["stream_options"] = new JsonObject { ["include_usage"] = true };
            }
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
                ImagePart img => BuildMedia(img),
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

    // :: Answers

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
            Usage = ReadChunkUsage(chunk),
        };
    }

    /// <summary>A chunk's usage: OpenAI's <c>usage</c>, or Groq's <c>x_groq.usage</c> on its last chunk.</summary>
    public static TokenUsage? ReadChunkUsage(JsonNode chunk) => ReadUsage(chunk["usage"] ?? chunk["x_groq"]?["usage"]);

    /// <summary>A provider's usage object (DeepSeek reports cache hits as <c>prompt_cache_hit_tokens</c>).</summary>
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

    public static FinishReason? ReadFinishReason(string? value) => value switch
    {
        "stop" => FinishReason.Stop,
        "length" => FinishReason.Length,
        "tool_calls" or "function_call" => FinishReason.ToolCalls,
        "content_filter" => FinishReason.ContentFilter,
        null => null,
        _ => FinishReason.Stop,
    };

    /// <summary>The first choice, or null (usage-only chunks carry an empty <c>choices</c> array).</summary>
    private static JsonNode? FirstChoice(JsonNode body) => body["choices"] is JsonArray { Count: > 0 } choices ? choices[0] : null;

    private static string ArgumentsText(JsonNode? node) => node switch
    {
        null => "{}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    private static void Set(JsonObject o, string key, double? value)
    {
        if (value is double d)
        {
            o[key] = d;
        }
    }
    /// <summary>An image (by URL or inline), an inline PDF as a file part, inline WAV or MP3 as input audio; any other
    /// inline media type is refused before the request is sent.</summary>
    private static JsonObject BuildMedia(ImagePart part)
    {
        switch (part.AsInlineData()?.MediaType.ToLowerInvariant())
        {
            case null or "image/png" or "image/jpeg" or "image/gif" or "image/webp":
                return new JsonObject
                {
                    ["type"] = "image_url",
                    ["image_url"] = part.Detail is null ? new JsonObject { ["url"] = part.Url } : new JsonObject { ["url"] = part.Url, ["detail"] = part.Detail },
                };
            case "application/pdf":
                return new JsonObject { ["type"] = "file", ["file"] = new JsonObject { ["filename"] = "document.pdf", ["file_data"] = part.Url } };
            case "audio/wav" or "audio/x-wav" or "audio/wave":
                return InputAudio(part, "wav");
            case "audio/mpeg" or "audio/mp3":
                return InputAudio(part, "mp3");
            case var other:
                throw new ProviderException("openai", ProviderErrorClass.BadRequest, null,
                    $"The OpenAI chat API does not accept {other} content: it takes images, PDF files and WAV or MP3 audio.");
        }
    }

    private static JsonObject InputAudio(ImagePart part, string format) => new()
    {
        ["type"] = "input_audio",
        ["input_audio"] = new JsonObject { ["data"] = part.AsInlineData()!.Value.Base64, ["format"] = format },
    };
}
