using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.Aigne;

/// <summary>
/// The AIGNE answer: JSON <c>{text?, json?, toolCalls?, model, usage}</c>, or SSE chunks <c>{"delta":{"text":{"text":…}}}</c>
/// and <c>{"delta":{"json":{…}}}</c>, the last carrying the usage; no <c>[DONE]</c>; mid-stream errors as
/// <c>event: error</c>.
/// </summary>
internal sealed class AigneChatWriter(HttpContext context, bool jsonMode) : IChatAnswerWriter
{
    private readonly ToolCallAccumulator _toolCalls = new();
    private readonly StringBuilder _jsonText = new();
    private bool _anyToolCall;

    public CallerResponse Caller { get; } = new(context);

    public Task WriteResponseAsync(ChatResponse response, ModelTarget target)
    {
        var body = new JsonObject();
        if (jsonMode && AigneAnswers.TryParseJson(response.Text) is { } json)
        {
            body["json"] = json;
        }
        else if (response.Text is not null)
        {
            body["text"] = response.Text;
        }
        if (response.ToolCalls is { Count: > 0 } calls)
        {
            body["toolCalls"] = AigneAnswers.ToolCalls(calls);
        }
        body["model"] = target.Model;
        body["modelWithProvider"] = target.PublicName;
        if (response.Usage is { } usage)
        {
            body["usage"] = AigneAnswers.Usage(usage);
        }
        return Caller.WriteJsonAsync(body);
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
            return Caller.StartEventsAsync();
        }
        if (jsonMode)
        {
            _jsonText.Append(text);
            return Caller.StartEventsAsync();
        }
        return Caller.WriteEventAsync(new JsonObject { ["delta"] = new JsonObject { ["text"] = new JsonObject { ["text"] = text } } });
    }

    public async Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target)
    {
        var final = new JsonObject();
        if (jsonMode)
        {
            var json = AigneAnswers.TryParseJson(_jsonText.ToString());
            if (json is not null)
            {
                final["json"] = json;
            }
            else if (_jsonText.Length > 0)
            {
                await Caller.WriteEventAsync(new JsonObject { ["delta"] = new JsonObject { ["text"] = new JsonObject { ["text"] = _jsonText.ToString() } } });
            }
        }
        if (_anyToolCall)
        {
            final["toolCalls"] = AigneAnswers.ToolCalls(_toolCalls.Calls);
        }
        final["model"] = target.Model;
        final["modelWithProvider"] = target.PublicName;
        final["usage"] = AigneAnswers.Usage(usage);
        await Caller.WriteEventAsync(new JsonObject { ["delta"] = new JsonObject { ["json"] = final } });
    }

    public Task WriteFailureAfterCommitAsync(string message) => Caller.WriteEventAsync(AigneErrors.StreamEvent(message), eventName: "error");
}

/// <summary>Joins streamed tool-call deltas into whole calls (the native protocol sends them complete).</summary>
internal sealed class ToolCallAccumulator
{
    private readonly SortedDictionary<int, (string Id, string Name, StringBuilder Arguments)> _calls = [];

    public void Add(IEnumerable<ToolCallDelta> deltas)
    {
        foreach (var d in deltas)
        {
            if (!_calls.TryGetValue(d.Index, out var call))
            {
                call = (d.Id ?? $"call_{d.Index}", d.Name ?? "", new StringBuilder());
            }
            call = (d.Id ?? call.Id, d.Name ?? call.Name, call.Arguments.Append(d.ArgumentsDelta));
            _calls[d.Index] = call;
        }
    }

    public IReadOnlyList<ToolCall> Calls =>
        _calls.Values.Select(c => new ToolCall(c.Id, c.Name, c.Arguments.Length == 0 ? "{}" : c.Arguments.ToString())).ToList();
}

/// <summary>The JSON pieces of AIGNE answers, built from the neutral model.</summary>
internal static class AigneAnswers
{
    public static JsonArray ToolCalls(IEnumerable<ToolCall> calls) => new(calls.Select(c => (JsonNode?)new JsonObject
    {
        ["id"] = c.Id,
        ["type"] = "function",
        ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = ParseArguments(c.Arguments) },
    }).ToArray());

    public static JsonObject Usage(TokenUsage usage)
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
