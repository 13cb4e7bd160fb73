using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.OpenAi;

/// <summary>
/// OpenAI's chat answer: a <c>chat.completion</c>, or <c>chat.completion.chunk</c> events ending in <c>[DONE]</c>
/// (with the usage-only chunk before it when the caller asked for one). An OpenAI-compatible provider's own
/// answer is forwarded as it came.
/// </summary>
internal sealed class OpenAiChatWriter(HttpContext context, long created, bool wantsUsage) : IRawChatAnswerWriter
{
    private readonly string _id = $"chatcmpl-{Guid.NewGuid():N}";
    private bool _first = true;
    private bool _finishSent;

    public CallerResponse Caller { get; } = new(context);

    public Task WriteResponseAsync(ChatResponse response, ModelTarget target) =>
        Caller.WriteJsonAsync(OpenAiChatAnswers.Response(response, ModelName(response.Model, target), created));

    public Task WriteUpdateAsync(ChatStreamUpdate update, ModelTarget target)
    {
        _finishSent |= update.FinishReason is not null;
        var chunk = OpenAiChatAnswers.Chunk(update, _id, ModelName(update.Model, target), created, _first);
        _first = false;
        return Caller.WriteEventAsync(chunk);
    }

    public async Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target)
    {
        if (!_finishSent)
        {
            await WriteUpdateAsync(new ChatStreamUpdate { FinishReason = finishReason ?? FinishReason.Stop }, target);
        }
        if (wantsUsage)
        {
            await Caller.WriteEventAsync(OpenAiChatAnswers.UsageChunk(usage, _id, target.Model, created));
        }
        await Caller.WriteEventAsync("[DONE]");
    }

    public Task WriteFailureAfterCommitAsync(string message) => Caller.WriteEventAsync(OpenAiErrors.StreamEvent(message));

    public Task WriteRawResponseAsync(RawChatAnswer answer) => Caller.WriteJsonAsync(answer.Body);

    /// <summary>The provider's event as it came, except the usage-only chunk the caller did not ask for
    /// (the provider is always asked for usage, so that the call is billed from its own count).</summary>
    public Task WriteRawEventAsync(RawChatEvent providerEvent) =>
        providerEvent.UsageOnly && !wantsUsage ? Task.CompletedTask : Caller.WriteEventAsync(providerEvent.Data);

    private static string ModelName(string? reported, ModelTarget target) => string.IsNullOrEmpty(reported) ? target.Model : reported;
}

/// <summary>The JSON of OpenAI's chat answers, built from the neutral model.</summary>
internal static class OpenAiChatAnswers
{
    public static JsonObject Response(ChatResponse response, string model, long created)
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
                ["finish_reason"] = FinishReasonName(response.FinishReason ?? FinishReason.Stop),
            }),
        };
        if (response.Usage is { } usage)
        {
            body["usage"] = Usage(usage);
        }
        return body;
    }

    /// <summary>One <c>chat.completion.chunk</c>; <paramref name="first"/> adds the assistant role to the delta.</summary>
    public static JsonObject Chunk(ChatStreamUpdate update, string id, string model, long created, bool first)
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
                ["finish_reason"] = update.FinishReason is { } f ? FinishReasonName(f) : null,
            }),
        };
    }

    /// <summary>The final chunk OpenAI sends when <c>stream_options.include_usage</c> is set: no choices, usage.</summary>
    public static JsonObject UsageChunk(TokenUsage usage, string id, string model, long created) => new()
    {
        ["id"] = id,
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = new JsonArray(),
        ["usage"] = Usage(usage),
    };

    public static JsonObject Usage(TokenUsage usage) => new()
    {
        ["prompt_tokens"] = usage.InputTokens,
        ["completion_tokens"] = usage.OutputTokens,
        ["total_tokens"] = usage.TotalTokens,
        ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = usage.CacheReadInputTokens },
        ["completion_tokens_details"] = new JsonObject { ["reasoning_tokens"] = usage.ReasoningTokens },
    };

    public static string FinishReasonName(FinishReason reason) => reason switch
    {
        FinishReason.Length => "length",
        FinishReason.ToolCalls => "tool_calls",
        FinishReason.ContentFilter => "content_filter",
        _ => "stop",
    };
}
