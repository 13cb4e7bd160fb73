using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Anthropic;

/// <summary>Translation between the provider-neutral model and the Anthropic Messages API wire format.</summary>
internal static class AnthropicMapping
{
    /// <summary>Anthropic requires <c>max_tokens</c>; this is used when the caller gave none.</summary>
    public const int DefaultMaxTokens = 4096;

    public static JsonObject BuildRequest(ChatRequest request, bool stream)
    {
        var body = new JsonObject
        {
            ["model"] = request.Model,
            ["max_tokens"] = request.MaxOutputTokens ?? DefaultMaxTokens,
        };

        var system = BuildSystem(request);
        if (system.Length > 0)
        {
            body["system"] = system;
        }
        body["messages"] = BuildMessages(request.Messages);

        if (request.Temperature is { } temperature)
        {
            // OpenAI accepts 0..2, Anthropic 0..1: clamp rather than have the provider reject the call.
            body["temperature"] = Math.Clamp(temperature, 0, 1);
        }
        if (request.TopP is { } topP)
        {
            body["top_p"] = topP;
        }
        if (request.Stop is { Count: > 0 } stop)
        {
            body["stop_sequences"] = new JsonArray([.. stop.Select(s => JsonValue.Create(s))]);
        }
        if (request.EndUser is { Length: > 0 } user)
        {
            body["metadata"] = new JsonObject { ["user_id"] = user };
        }
        if (request.Tools is { Count: > 0 } tools)
        {
            body["tools"] = new JsonArray([.. tools.Select(BuildTool)]);
            if (BuildToolChoice(request.ToolChoice) is { } choice)
            {
                body["tool_choice"] = choice;
            }
        }
        if (stream)
        {
            body["stream"] = true;
        }
        return body;
    }

    private static string BuildSystem(ChatRequest request)
    {
        var parts = request.Messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text).Where(t => t.Length > 0).ToList();
        // Anthropic has no structured-output switch: ask for JSON in the system prompt instead (best effort).
        switch (request.ResponseFormat)
        {
            case { Kind: ResponseFormatKind.JsonObject }:
                parts.Add("Respond with a single valid JSON object only: no prose, no Markdown code fences.");
                break;
            case { Kind: ResponseFormatKind.JsonSchema } format:
                var instruction = new StringBuilder("Respond with a single valid JSON value only: no prose, no Markdown code fences.");
                if (format.Schema is { } schema)
                {
                    instruction.Append(" It must conform to this JSON Schema");
                    if (format.SchemaName is { Length: > 0 } name)
                    {
                        instruction.Append(" (\"").Append(name).Append("\")");
                    }
                    instruction.Append(": ").Append(schema.GetRawText());
                }
                parts.Add(instruction.ToString());
                break;
        }
        return string.Join("\n\n", parts);
    }

    private static JsonArray BuildMessages(IReadOnlyList<ChatMessage> messages)
    {
        var result = new JsonArray();
        JsonArray? pendingToolResults = null;
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                continue;
            }
            if (message.Role == ChatRole.Tool)
            {
                // Consecutive tool results answer one assistant turn: Anthropic wants them in one user message.
                if (pendingToolResults is null)
                {
                    pendingToolResults = [];
                    result.Add(new JsonObject { ["role"] = "user", ["content"] = pendingToolResults });
                }
                pendingToolResults.Add(new JsonObject
                {
                    ["type"] = "tool_result",
                    ["tool_use_id"] = message.ToolCallId ?? "",
                    ["content"] = message.Text,
                });
                continue;
            }
            pendingToolResults = null;

            var blocks = new JsonArray();
            foreach (var part in message.Content)
            {
                switch (part)
                {
                    case TextPart { Text.Length: > 0 } text:
                        // Anthropic rejects empty text blocks, so they are dropped.
                        blocks.Add(new JsonObject { ["type"] = "text", ["text"] = text.Text });
                        break;
                    case ImagePart image:
                        blocks.Add(BuildImage(image));
                        break;
                }
            }
            if (message.Role == ChatRole.Assistant)
            {
                foreach (var call in message.ToolCalls ?? [])
                {
                    blocks.Add(new JsonObject
                    {
                        ["type"] = "tool_use",
                        ["id"] = call.Id,
                        ["name"] = call.Name,
                        ["input"] = ParseArguments(call.Arguments),
                    });
                }
            }
            if (blocks.Count == 0)
            {
                continue;
            }
            result.Add(new JsonObject
            {
                ["role"] = message.Role == ChatRole.Assistant ? "assistant" : "user",
                ["content"] = blocks,
            });
        }
        return result;
    }

    /// <summary>An image or a PDF document block; any other media type is refused before the request is sent
    /// (Anthropic takes JPEG, PNG, GIF and WebP images and PDF documents).</summary>
    private static JsonObject BuildImage(ImagePart image)
    {
        if (image.AsInlineData() is not var (mediaType, data))
        {
            var block = image.MediaType() == "application/pdf" ? "document" : "image";
            return new JsonObject { ["type"] = block, ["source"] = new JsonObject { ["type"] = "url", ["url"] = image.Url } };
        }
        var type = mediaType.ToLowerInvariant() switch
        {
            "image/jpeg" or "image/png" or "image/gif" or "image/webp" => "image",
            "application/pdf" => "document",
            _ => throw new ProviderException(ProviderKinds.Anthropic.Name, ProviderErrorClass.BadRequest, null,
                $"Anthropic does not accept {mediaType} content: it takes JPEG, PNG, GIF and WebP images and PDF documents."),
        };
        return new JsonObject
        {
            ["type"] = type,
            ["source"] = new JsonObject { ["type"] = "base64", ["media_type"] = mediaType, ["data"] = data },
        };
    }

    /// <summary>Tool arguments as an object; Anthropic requires <c>input</c> to be one.</summary>
    private static JsonNode ParseArguments(string arguments)
    {
        if (string.IsNullOrWhiteSpace(arguments))
        {
            return new JsonObject();
        }
        try
        {
            return JsonNode.Parse(arguments) as JsonObject ?? new JsonObject();
        }
        catch (JsonException)
        {
            // A model can emit broken arguments; echoing the turn back must not fail because of it.
            return new JsonObject();
        }
    }

    private static JsonObject BuildTool(ToolDefinition tool)
    {
        var result = new JsonObject { ["name"] = tool.Name };
        if (tool.Description is { Length: > 0 } description)
        {
            result["description"] = description;
        }
        result["input_schema"] = tool.Parameters is { ValueKind: JsonValueKind.Object } schema
            ? JsonNode.Parse(schema.GetRawText())
            : new JsonObject { ["type"] = "object", ["properties"] = new JsonObject() };
        return result;
    }

    private static JsonObject? BuildToolChoice(ToolChoice? choice) => choice switch
    {
        null => null,
        { Mode: ToolChoiceMode.Auto } => new JsonObject { ["type"] = "auto" },
        { Mode: ToolChoiceMode.None } => new JsonObject { ["type"] = "none" },
        { Mode: ToolChoiceMode.Required } => new JsonObject { ["type"] = "any" },
        { Mode: ToolChoiceMode.Function, FunctionName: { } name } => new JsonObject { ["type"] = "tool", ["name"] = name },
        _ => new JsonObject { ["type"] = "any" },
    };

    public static ChatResponse ParseResponse(JsonNode node, string requestedModel)
    {
        var text = new StringBuilder();
        var toolCalls = new List<ToolCall>();
        foreach (var block in node["content"] as JsonArray ?? [])
        {
            switch ((string?)block?["type"])
            {
                case "text":
                    text.Append((string?)block!["text"]);
                    break;
                case "tool_use":
                    toolCalls.Add(new ToolCall(
                        (string?)block!["id"] ?? "",
                        (string?)block["name"] ?? "",
                        block["input"]?.ToJsonString() ?? "{}"));
                    break;
                    // thinking / redacted_thinking blocks are not carried by the neutral model.
            }
        }
        return new ChatResponse
        {
            Id = (string?)node["id"] ?? $"msg_{Guid.NewGuid():N}",
            Model = (string?)node["model"] ?? requestedModel,
            Text = text.Length > 0 || toolCalls.Count == 0 ? text.ToString() : null,
            ToolCalls = toolCalls.Count > 0 ? toolCalls : null,
            FinishReason = MapStopReason((string?)node["stop_reason"]),
            Usage = ReadUsage(node["usage"], null),
        };
    }

    public static FinishReason? MapStopReason(string? stopReason) => stopReason switch
    {
        null => null,
        "max_tokens" or "model_context_window_exceeded" => FinishReason.Length,
        "tool_use" => FinishReason.ToolCalls,
        "refusal" => FinishReason.ContentFilter,
        _ => FinishReason.Stop, // end_turn, stop_sequence, pause_turn
    };

    /// <summary>
    /// Reads Anthropic usage, whose <c>input_tokens</c> exclude cached tokens, into the neutral convention where
    /// input tokens include them. Fields missing from <paramref name="usage"/> keep the value from
    /// <paramref name="previous"/> (a stream spreads usage over <c>message_start</c> and <c>message_delta</c>).
    /// </summary>
    public static TokenUsage ReadUsage(JsonNode? usage, TokenUsage? previous)
    {
        var uncached = Int(usage?["input_tokens"]);
        var cacheCreation = Int(usage?["cache_creation_input_tokens"]) ?? previous?.CacheCreationInputTokens ?? 0;
        var cacheRead = Int(usage?["cache_read_input_tokens"]) ?? previous?.CacheReadInputTokens ?? 0;
        var input = uncached is { } n ? n + cacheCreation + cacheRead : previous?.InputTokens ?? cacheCreation + cacheRead;
        return new TokenUsage
        {
            InputTokens = input,
            OutputTokens = Int(usage?["output_tokens"]) ?? previous?.OutputTokens ?? 0,
            CacheCreationInputTokens = cacheCreation,
            CacheReadInputTokens = cacheRead,
        };
    }

    private static int? Int(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<int>(out var n) ? n : null;
}
