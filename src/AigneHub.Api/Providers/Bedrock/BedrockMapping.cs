using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Bedrock;

/// <summary>The neutral chat model ↔ Bedrock's Converse wire (the request body, the answer, the usage).</summary>
public static class BedrockMapping
{
    public static JsonObject WriteRequest(ProviderEndpoint endpoint, ChatRequest request)
    {
        var body = new JsonObject();
        var system = request.Messages.Where(m => m.Role == ChatRole.System && m.Text.Length > 0)
            .Select(m => (JsonNode?)new JsonObject { ["text"] = m.Text }).ToArray();
        if (system.Length > 0)
        {
            body["system"] = new JsonArray(system);
        }

        // Converse wants user and assistant turns alternating; tool results are content of a user turn. Consecutive
        // messages of one role become one turn.
        var messages = new JsonArray();
        JsonObject? turn = null;
        foreach (var message in request.Messages.Where(m => m.Role != ChatRole.System))
        {
            var role = message.Role == ChatRole.Assistant ? "assistant" : "user";
            if (turn is null || (string?)turn["role"] != role)
            {
                turn = new JsonObject { ["role"] = role, ["content"] = new JsonArray() };
                messages.Add(turn);
            }
            var content = (JsonArray)turn["content"]!;
            foreach (var block in Blocks(endpoint, message))
            {
                content.Add(block);
            }
        }
        body["messages"] = messages;

        var inference = new JsonObject();
        if (request.MaxOutputTokens is int max) { inference["maxTokens"] = max; }
        if (request.Temperature is double t) { inference["temperature"] = t; }
        if (request.TopP is double p) { inference["topP"] = p; }
        if (request.Stop is { Count: > 0 } stop) { inference["stopSequences"] = new JsonArray(stop.Select(s => (JsonNode?)s).ToArray()); }
        if (inference.Count > 0)
        {
            body["inferenceConfig"] = inference;
        }

        // Converse has no "none" tool choice: the tools are left out instead.
        if (request.Tools is { Count: > 0 } tools && request.ToolChoice?.Mode != ToolChoiceMode.None)
        {
            var config = new JsonObject
            {
                ["tools"] = new JsonArray(tools.Select(tool =>
                {
                    var spec = new JsonObject
                    {
                        ["name"] = tool.Name,
                        ["inputSchema"] = new JsonObject
                        {
                            ["json"] = tool.Parameters is JsonElement schema ? JsonNode.Parse(schema.GetRawText()) : new JsonObject { ["type"] = "object" },
                        },
                    };
                    if (tool.Description is not null) { spec["description"] = tool.Description; }
                    return (JsonNode?)new JsonObject { ["toolSpec"] = spec };
                }).ToArray()),
            };
            if (request.ToolChoice is { } choice)
            {
                config["toolChoice"] = choice.Mode switch
                {
                    ToolChoiceMode.Required => new JsonObject { ["any"] = new JsonObject() },
                    ToolChoiceMode.Function => new JsonObject { ["tool"] = new JsonObject { ["name"] = choice.FunctionName } },
                    _ => new JsonObject { ["auto"] = new JsonObject() },
                };
            }
            body["toolConfig"] = config;
        }
        return body;
    }

    private static IEnumerable<JsonObject> Blocks(ProviderEndpoint endpoint, ChatMessage message)
    {
        if (message.Role == ChatRole.Tool)
        {
            yield return new JsonObject
            {
                ["toolResult"] = new JsonObject
                {
                    ["toolUseId"] = message.ToolCallId ?? "",
                    ["content"] = new JsonArray(new JsonObject { ["text"] = message.Text }),
                },
            };
            yield break;
        }
        foreach (var part in message.Content)
        {
            switch (part)
            {
                case TextPart { Text.Length: > 0 } text:
                    yield return new JsonObject { ["text"] = text.Text };
                    break;
                case ImagePart image:
                    yield return Image(endpoint, image);
                    break;
            }
        }
        foreach (var call in message.ToolCalls ?? [])
        {
            yield return new JsonObject
            {
                ["toolUse"] = new JsonObject { ["toolUseId"] = call.Id, ["name"] = call.Name, ["input"] = ToolInput(call.Arguments) },
            };
        }
    }

    /// <summary>Converse takes image bytes only (no URLs), in four formats.</summary>
    private static JsonObject Image(ProviderEndpoint endpoint, ImagePart image)
    {
        if (image.AsInlineData() is not { } inline)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.BadRequest, null,
                $"{endpoint.Provider} takes images as data: URLs only (base64), not links.");
        }
        var (mediaType, base64) = inline;
        var format = mediaType.ToLowerInvariant() switch
        {
            "image/png" => "png",
            "image/jpeg" or "image/jpg" => "jpeg",
            "image/gif" => "gif",
            "image/webp" => "webp",
            _ => throw new ProviderException(endpoint.Provider, ProviderErrorClass.BadRequest, null,
                $"{endpoint.Provider} takes png, jpeg, gif or webp images, not {mediaType}."),
        };
        return new JsonObject { ["image"] = new JsonObject { ["format"] = format, ["source"] = new JsonObject { ["bytes"] = base64 } } };
    }

    /// <summary>A tool call's arguments as the JSON object Converse wants (text that is not an object is wrapped).</summary>
    private static JsonNode ToolInput(string arguments)
    {
        try
        {
            return JsonNode.Parse(arguments) is JsonObject o ? o : new JsonObject { ["value"] = arguments };
        }
        catch (JsonException)
        {
            return new JsonObject { ["value"] = arguments };
        }
    }

    public static ChatResponse ReadResponse(JsonNode body, string model)
    {
        var content = body["output"]?["message"]?["content"] as JsonArray ?? [];
        var text = string.Concat(content.Select(b => (string?)b?["text"]));
        var calls = content.Where(b => b?["toolUse"] is JsonObject)
            .Select(b => new ToolCall((string?)b!["toolUse"]!["toolUseId"] ?? "", (string?)b["toolUse"]!["name"] ?? "",
                b["toolUse"]!["input"]?.ToJsonString() ?? "{}"))
            .ToList();
        return new ChatResponse
        {
            Id = $"bedrock-{Guid.NewGuid():N}",
            Model = model,
            Text = text.Length > 0 || calls.Count == 0 ? text : null,
            ToolCalls = calls.Count > 0 ? calls : null,
            FinishReason = ReadStopReason((string?)body["stopReason"]),
            Usage = ReadUsage(body["usage"]),
        };
    }

    public static FinishReason? ReadStopReason(string? reason) => reason switch
    {
        null => null,
        "max_tokens" => FinishReason.Length,
        "tool_use" => FinishReason.ToolCalls,
        "content_filtered" or "guardrail_intervened" => FinishReason.ContentFilter,
        _ => FinishReason.Stop,
    };

    /// <summary>
    /// Converse's usage: <c>inputTokens</c> EXCLUDES the prompt's cache reads and writes (<c>totalTokens</c> =
    /// input + output + cacheRead + cacheWrite), so the neutral prompt is their sum — mapped here, once.
    /// </summary>
    public static TokenUsage? ReadUsage(JsonNode? usage)
    {
        if (usage is not JsonObject u)
        {
            return null;
        }
        var read = (int?)u["cacheReadInputTokens"] ?? 0;
        var write = (int?)u["cacheWriteInputTokens"] ?? 0;
        return new TokenUsage
        {
            InputTokens = ((int?)u["inputTokens"] ?? 0) + read + write,
            OutputTokens = (int?)u["outputTokens"] ?? 0,
            CacheReadInputTokens = read,
            CacheCreationInputTokens = write,
        };
    }
}
