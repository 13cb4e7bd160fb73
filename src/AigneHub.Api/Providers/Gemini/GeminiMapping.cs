using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Gemini;

/// <summary>Translation between the provider-neutral model and the Gemini <c>generateContent</c> wire format.</summary>
internal static class GeminiMapping
{
    /// <summary>
    /// Gemini 2.5+ returns a thought signature with function calls and wants it back with the call in the next
    /// turn. The neutral model has no field for it, so it rides inside the tool call id that clients echo back.
    /// </summary>
    public const string ThoughtSignatureSeparator = "__ts__";

    // The OpenAPI subset Gemini's Schema accepts; anything else (additionalProperties, $schema, strict, $ref...)
    // makes Gemini reject the whole request.
    private static readonly HashSet<string> _schemaKeys =
    [
        "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required",
        "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering",
        "default", "items", "minimum", "maximum",
    ];

    public static JsonObject BuildRequest(ChatRequest request)
    {
        var body = new JsonObject();
        var system = string.Join("\n\n", request.Messages.Where(m => m.Role == ChatRole.System).Select(m => m.Text).Where(t => t.Length > 0));
        if (system.Length > 0)
        {
            body["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = system }) };
        }
        body["contents"] = BuildContents(request.Messages);

        if (request.Tools is { Count: > 0 } tools)
        {
            body["tools"] = new JsonArray(new JsonObject
            {
                ["functionDeclarations"] = new JsonArray([.. tools.Select(BuildFunctionDeclaration)]),
            });
            if (BuildFunctionCallingConfig(request.ToolChoice) is { } config)
            {
                body["toolConfig"] = new JsonObject { ["functionCallingConfig"] = config };
            }
        }

        var generation = new JsonObject();
        if (request.Temperature is { } temperature)
        {
            generation["temperature"] = temperature;
        }
        if (request.TopP is { } topP)
        {
            generation["topP"] = topP;
        }
        if (request.MaxOutputTokens is { } maxTokens)
        {
            generation["maxOutputTokens"] = maxTokens;
        }
        if (request.Stop is { Count: > 0 } stop)
        {
            generation["stopSequences"] = new JsonArray([.. stop.Select(s => JsonValue.Create(s))]);
        }
        if (request.Seed is { } seed)
        {
            generation["seed"] = seed;
        }
        if (request.PresencePenalty is { } presence)
        {
            generation["presencePenalty"] = presence;
        }
        if (request.FrequencyPenalty is { } frequency)
        {
            generation["frequencyPenalty"] = frequency;
        }
        if (request.ResponseFormat is { Kind: ResponseFormatKind.JsonObject or ResponseFormatKind.JsonSchema } format)
        {
            generation["responseMimeType"] = "application/json";
            if (format is { Kind: ResponseFormatKind.JsonSchema, Schema: { ValueKind: JsonValueKind.Object } schema })
            {
                generation["responseSchema"] = SanitizeSchema(JsonNode.Parse(schema.GetRawText()));
            }
        }
        if (generation.Count > 0)
        {
            body["generationConfig"] = generation;
        }
        return body;
    }

    private static JsonArray BuildContents(IReadOnlyList<ChatMessage> messages)
    {
        var contents = new JsonArray();
        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonArray? pendingResponses = null;
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                continue;
            }
            if (message.Role == ChatRole.Tool)
            {
                // Gemini pairs function responses with the calls of the previous model turn: one user turn for all.
                if (pendingResponses is null)
                {
                    pendingResponses = [];
                    contents.Add(new JsonObject { ["role"] = "user", ["parts"] = pendingResponses });
                }
                var name = message.Name
                    ?? (message.ToolCallId is { } callId && toolNames.TryGetValue(callId, out var known) ? known : null)
                    ?? "";
                pendingResponses.Add(new JsonObject
                {
                    ["functionResponse"] = new JsonObject { ["name"] = name, ["response"] = BuildFunctionResponse(message.Text) },
                });
                continue;
            }
            pendingResponses = null;

            var parts = new JsonArray();
            foreach (var part in message.Content)
            {
                switch (part)
                {
                    case TextPart { Text.Length: > 0 } text:
                        parts.Add(new JsonObject { ["text"] = text.Text });
                        break;
                    case ImagePart image:
                        parts.Add(BuildImage(image));
                        break;
                }
            }
            if (message.Role == ChatRole.Assistant)
            {
                foreach (var call in message.ToolCalls ?? [])
                {
                    toolNames[call.Id] = call.Name;
                    var functionCall = new JsonObject { ["name"] = call.Name, ["args"] = ParseArguments(call.Arguments) };
                    var part = new JsonObject { ["functionCall"] = functionCall };
                    var separator = call.Id.IndexOf(ThoughtSignatureSeparator, StringComparison.Ordinal);
                    if (separator >= 0)
                    {
                        part["thoughtSignature"] = call.Id[(separator + ThoughtSignatureSeparator.Length)..];
                    }
                    parts.Add(part);
                }
            }
            if (parts.Count == 0)
            {
                continue;
            }
            contents.Add(new JsonObject { ["role"] = message.Role == ChatRole.Assistant ? "model" : "user", ["parts"] = parts });
        }
        return contents;
    }

    /// <summary>
    /// Gemini wants the response as an object: a JSON object result is passed as is, anything else (plain text,
    /// arrays, numbers) goes under <c>output</c>, the key Gemini documents for a function's output.
    /// </summary>
    private static JsonObject BuildFunctionResponse(string text)
    {
        JsonNode? parsed = null;
        try
        {
            parsed = string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            // plain text result
        }
        return parsed switch
        {
            JsonObject obj => obj,
            null => new JsonObject { ["output"] = text },
            _ => new JsonObject { ["output"] = parsed },
        };
    }

    private static JsonObject BuildImage(ImagePart image)
    {
        if (image.AsInlineData() is var (mediaType, data))
        {
            return new JsonObject { ["inlineData"] = new JsonObject { ["mimeType"] = mediaType, ["data"] = data } };
        }
        return new JsonObject
        {
            ["fileData"] = new JsonObject { ["mimeType"] = image.MediaType(), ["fileUri"] = image.Url },
        };
    }

    private static JsonObject ParseArguments(string arguments)
    {
        try
        {
            return string.IsNullOrWhiteSpace(arguments) ? [] : JsonNode.Parse(arguments) as JsonObject ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private static JsonObject BuildFunctionDeclaration(ToolDefinition tool)
    {
        var declaration = new JsonObject { ["name"] = tool.Name };
        if (tool.Description is { Length: > 0 } description)
        {
            declaration["description"] = description;
        }
        // A function without parameters must omit them: Gemini rejects an object schema with no properties.
        if (tool.Parameters is { ValueKind: JsonValueKind.Object } schema
            && SanitizeSchema(JsonNode.Parse(schema.GetRawText())) is JsonObject parameters
            && !(parameters["properties"] is JsonObject { Count: 0 } || ((string?)parameters["type"] == "object" && parameters["properties"] is null)))
        {
            declaration["parameters"] = parameters;
        }
        return declaration;
    }

    private static JsonObject? BuildFunctionCallingConfig(ToolChoice? choice) => choice switch
    {
        null => null,
        { Mode: ToolChoiceMode.Auto } => new JsonObject { ["mode"] = "AUTO" },
        { Mode: ToolChoiceMode.None } => new JsonObject { ["mode"] = "NONE" },
        { Mode: ToolChoiceMode.Function, FunctionName: { } name } =>
            new JsonObject { ["mode"] = "ANY", ["allowedFunctionNames"] = new JsonArray(name) },
        _ => new JsonObject { ["mode"] = "ANY" },
    };

    /// <summary>
    /// Keeps only the schema keys Gemini accepts, recursively; turns <c>"type": ["string","null"]</c> into
    /// <c>type</c> + <c>nullable</c> and <c>const</c> into a one-value <c>enum</c>.
    /// </summary>
    public static JsonNode? SanitizeSchema(JsonNode? node)
    {
        if (node is not JsonObject schema)
        {
            return node?.DeepClone();
        }
        var result = new JsonObject();
        foreach (var (key, value) in schema)
        {
            switch (key)
            {
                case "type" when value is JsonArray types:
                    var names = types.Select(t => (string?)t).Where(t => t is not null).ToList();
                    if (names.Remove("null"))
                    {
                        result["nullable"] = true;
                    }
                    if (names.Count > 0)
                    {
                        result["type"] = names[0];
                    }
                    break;
                case "const":
                    result["enum"] = new JsonArray(value?.DeepClone());
                    break;
                case "properties" when value is JsonObject properties:
                    var sanitized = new JsonObject();
                    foreach (var (name, property) in properties)
                    {
                        sanitized[name] = SanitizeSchema(property);
                    }
                    result["properties"] = sanitized;
                    break;
                case "items":
                    result["items"] = SanitizeSchema(value);
                    break;
                case "anyOf" when value is JsonArray variants:
                    result["anyOf"] = new JsonArray([.. variants.Select(SanitizeSchema)]);
                    break;
                case "enum" when value is JsonArray values:
                    // Gemini enums are strings only.
                    result["enum"] = new JsonArray([.. values.Select(v => JsonValue.Create(v is JsonValue s && s.GetValueKind() == JsonValueKind.String ? (string?)s : v?.ToJsonString()))]);
                    break;
                default:
                    if (_schemaKeys.Contains(key))
                    {
                        result[key] = value?.DeepClone();
                    }
                    break;
            }
        }
        return result;
    }

    public static (string? Text, List<(string? Id, string Name, string Arguments, string? Signature)> Calls, string? FinishReason) ReadCandidate(JsonNode? node)
    {
        var candidate = (node?["candidates"] as JsonArray)?.FirstOrDefault();
        StringBuilder? text = null;
        var calls = new List<(string?, string, string, string?)>();
        foreach (var part in candidate?["content"]?["parts"] as JsonArray ?? [])
        {
            if (part?["functionCall"] is JsonObject call)
            {
                calls.Add(((string?)call["id"], (string?)call["name"] ?? "", call["args"]?.ToJsonString() ?? "{}", (string?)part["thoughtSignature"]));
            }
            else if ((string?)part?["text"] is { } piece && !IsThought(part))
            {
                // Thought summaries (thought: true) are reasoning, not the answer.
                (text ??= new StringBuilder()).Append(piece);
            }
        }
        var finish = (string?)candidate?["finishReason"];
        // A prompt blocked outright has no candidate, only promptFeedback.blockReason.
        if (candidate is null && (string?)node?["promptFeedback"]?["blockReason"] is { } blocked)
        {
            finish = "SAFETY";
        }
        return (text?.ToString(), calls, finish);
    }

    public static string ToolCallId(string? providerId, int index, string? signature) =>
        (providerId is { Length: > 0 } ? providerId : $"call_{index}") + (signature is { Length: > 0 } ? ThoughtSignatureSeparator + signature : "");

    public static FinishReason? MapFinishReason(string? reason, bool hasToolCalls) => reason switch
    {
        _ when hasToolCalls => FinishReason.ToolCalls,
        null or "FINISH_REASON_UNSPECIFIED" => null,
        "MAX_TOKENS" => FinishReason.Length,
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" => FinishReason.ContentFilter,
        _ => FinishReason.Stop, // STOP, MALFORMED_FUNCTION_CALL, OTHER, LANGUAGE
    };

    /// <summary>
    /// Gemini's <c>promptTokenCount</c> already includes cached content (the neutral convention);
    /// tool-use prompt tokens are billed as input too; thinking tokens are billed as output.
    /// </summary>
    public static TokenUsage? ReadUsage(JsonNode? usage)
    {
        if (usage is not JsonObject)
        {
            return null;
        }
        var thoughts = Int(usage["thoughtsTokenCount"]);
        return new TokenUsage
        {
            InputTokens = Int(usage["promptTokenCount"]) + Int(usage["toolUsePromptTokenCount"]),
            OutputTokens = Int(usage["candidatesTokenCount"]) + thoughts,
            CacheReadInputTokens = Int(usage["cachedContentTokenCount"]),
            ReasoningTokens = thoughts,
        };
    }

    private static bool IsThought(JsonNode part) => part["thought"] is JsonValue value && value.TryGetValue<bool>(out var thought) && thought;

    private static int Int(JsonNode? node) => node is JsonValue value && value.TryGetValue<int>(out var n) ? n : 0;

    /// <summary>Every <c>inlineData</c> part of the answer's candidates, in order (generated images or speech).</summary>
    internal static IEnumerable<(string? MimeType, string Data)> InlineData(JsonNode answer)
    {
        foreach (var candidate in answer["candidates"] as JsonArray ?? [])
        {
            foreach (var part in candidate?["content"]?["parts"] as JsonArray ?? [])
            {
                if (part?["inlineData"] is JsonObject inline && ProviderHttp.StringOf(inline["data"]) is { Length: > 0 } data)
                {
                    yield return (ProviderHttp.StringOf(inline["mimeType"]), data);
                }
            }
        }
    }

    /// <summary>Why an answer holds less than asked: the prompt's <c>blockReason</c>, else the first candidate
    /// <c>finishReason</c> that is not <c>STOP</c>; null when neither says.</summary>
    internal static string? BlockedReason(JsonNode answer) =>
        ProviderHttp.StringOf(answer["promptFeedback"]?["blockReason"])
        ?? (answer["candidates"] as JsonArray)?.Select(c => ProviderHttp.StringOf(c?["finishReason"])).FirstOrDefault(r => r is not null and not "STOP");
}
