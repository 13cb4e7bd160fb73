using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// A fake Anthropic Messages API (<c>POST /v1/messages</c>, plain and streamed, and
/// <c>POST /v1/messages/count_tokens</c>) on real Kestrel. Answers with the scripted <see cref="FakeReply"/>s:
/// an optional signed thinking block (<c>thinking_delta</c>/<c>signature_delta</c> when streamed), text, tool
/// calls, usage with cache writes and reads (in <c>message_start</c>, and in <c>message_delta</c> the output count or,
/// with <see cref="FullDeltaUsage"/>, the whole usage again), errors in Anthropic's own shape. It checks what Anthropic itself checks
/// (<c>x-api-key</c> when <see cref="ApiKey"/> is set, <c>anthropic-version</c>, <c>max_tokens</c>); a count is
/// the reply's <see cref="FakeReply.InputTokens"/>.
/// </summary>
public sealed class FakeAnthropic : FakeProvider
{
    private int _messageCount;

    private FakeAnthropic(FakeProviderHost host) : base(host)
    {
    }

    /// <summary>Whether <c>message_delta</c> repeats the whole usage (input and cache counts too), as Anthropic's API
    /// does now, rather than only <c>output_tokens</c>, as it did first. Both must be metered once.</summary>
    public bool FullDeltaUsage { get; set; }

    /// <summary>When set, requests without this <c>x-api-key</c> get a 401.</summary>
    public string? ApiKey { get; set; }

    public static async Task<FakeAnthropic> StartAsync()
    {
        FakeAnthropic? fake = null;
        var host = await FakeProviderHost.StartAsync("v1/", (routes, h) =>
        {
            routes.MapPost("/v1/messages", (HttpContext context) => fake!.HandleAsync(context));
            routes.MapPost("/v1/messages/count_tokens", (HttpContext context) => fake!.CountTokensAsync(context));
        });
        fake = new FakeAnthropic(host);
        return fake;
    }

    private async Task CountTokensAsync(HttpContext context)
    {
        var request = await Host.RecordAsync(context);
        var reply = Host.NextReply();
        if (ApiKey is not null && request.Header("x-api-key") != ApiKey)
        {
            await WriteErrorAsync(context, 401, "invalid x-api-key");
            return;
        }
        if (reply.FailStatus is { } status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage ?? $"fake failure {status}");
            return;
        }
        if (request.Body is not JsonObject body || body["messages"] is not JsonArray || body["model"] is null)
        {
            await WriteErrorAsync(context, 400, "messages: Field required");
            return;
        }
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject { ["input_tokens"] = reply.InputTokens });
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = await Host.RecordAsync(context);
        var reply = Host.NextReply();
        if (reply.DelayBeforeHeaders > TimeSpan.Zero)
        {
            await Task.Delay(reply.DelayBeforeHeaders, context.RequestAborted);
        }

        if (ApiKey is not null && request.Header("x-api-key") != ApiKey)
        {
            await WriteErrorAsync(context, 401, "invalid x-api-key");
            return;
        }
        if (reply.FailStatus is { } status)
        {
            FakeProviderHost.ApplyFailHeaders(context, reply);
            await WriteErrorAsync(context, status, reply.FailMessage ?? $"fake failure {status}");
            return;
        }
        if (request.Header("anthropic-version") is null)
        {
            await WriteErrorAsync(context, 400, "anthropic-version: header is required");
            return;
        }
        var body = request.Body as JsonObject;
        if (body?["max_tokens"] is null || body["messages"] is not JsonArray)
        {
            await WriteErrorAsync(context, 400, "max_tokens: Field required");
            return;
        }

        var id = $"msg_fake_{Interlocked.Increment(ref _messageCount)}";
        var model = (string?)body["model"] ?? "claude-fake";
        if ((bool?)body["stream"] == true)
        {
            await FakeProviderHost.StreamAsync(context, reply, StreamEvents(id, model, reply, FullDeltaUsage), new SseEvent("error", Error("overloaded_error", "Overloaded")));
            return;
        }

        var content = new JsonArray();
        if (reply.Thinking is not null)
        {
            content.Add(new JsonObject { ["type"] = "thinking", ["thinking"] = reply.Thinking, ["signature"] = reply.ThinkingSignature });
        }
        if (reply.Text.Length > 0)
        {
            content.Add(new JsonObject { ["type"] = "text", ["text"] = reply.Text });
        }
        for (var i = 0; i < reply.ToolCalls.Count; i++)
        {
            var call = reply.ToolCalls[i];
            content.Add(new JsonObject
            {
                ["type"] = "tool_use",
                ["id"] = call.Id ?? $"toolu_fake_{i}",
                ["name"] = call.Name,
                ["input"] = JsonNode.Parse(call.ArgumentsJson),
            });
        }
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["id"] = id,
            ["type"] = "message",
            ["role"] = "assistant",
            ["model"] = model,
            ["content"] = content,
            ["stop_reason"] = StopReason(reply),
            ["stop_sequence"] = null,
            ["usage"] = Usage(reply, reply.OutputTokens),
        });
    }

    private static List<SseEvent> StreamEvents(string id, string model, FakeReply reply, bool fullDeltaUsage)
    {
        var events = new List<SseEvent>
        {
            new("message_start", new JsonObject
            {
                ["type"] = "message_start",
                ["message"] = new JsonObject
                {
                    ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model,
                    ["content"] = new JsonArray(), ["stop_reason"] = null, ["stop_sequence"] = null,
                    ["usage"] = Usage(reply, outputTokens: 1),
                },
            }),
            new("ping", new JsonObject { ["type"] = "ping" }),
        };
        var index = 0;
        if (reply.Thinking is not null)
        {
            events.Add(new("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = index,
                ["content_block"] = new JsonObject { ["type"] = "thinking", ["thinking"] = "", ["signature"] = "" },
            }));
            events.Add(Delta(index, new JsonObject { ["type"] = "thinking_delta", ["thinking"] = reply.Thinking }));
            events.Add(Delta(index, new JsonObject { ["type"] = "signature_delta", ["signature"] = reply.ThinkingSignature }));
            events.Add(new("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index }));
            index++;
        }
        if (reply.Text.Length > 0)
        {
            events.Add(new("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = index,
                ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" },
            }));
            foreach (var chunk in reply.StreamChunks())
            {
                events.Add(Delta(index, new JsonObject { ["type"] = "text_delta", ["text"] = chunk }));
            }
            events.Add(new("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index }));
            index++;
        }
        for (var i = 0; i < reply.ToolCalls.Count; i++, index++)
        {
            var call = reply.ToolCalls[i];
            events.Add(new("content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = index,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = call.Id ?? $"toolu_fake_{i}", ["name"] = call.Name, ["input"] = new JsonObject() },
            }));
            // Like Anthropic: an empty first delta, then the JSON in arbitrary pieces.
            events.Add(Delta(index, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = "" }));
            var json = JsonNode.Parse(call.ArgumentsJson)!.ToJsonString();
            for (var start = 0; start < json.Length && json != "{}"; start += 7)
            {
                events.Add(Delta(index, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = json.Substring(start, Math.Min(7, json.Length - start)) }));
            }
            events.Add(new("content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = index }));
        }
        events.Add(new("message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = StopReason(reply), ["stop_sequence"] = null },
            // Anthropic's message_delta may repeat the whole (cumulative) usage, cache counts included.
            ["usage"] = fullDeltaUsage ? Usage(reply, reply.OutputTokens) : new JsonObject { ["output_tokens"] = reply.OutputTokens },
        }));
        events.Add(new("message_stop", new JsonObject { ["type"] = "message_stop" }));
        return events;
    }

    private static SseEvent Delta(int index, JsonObject delta) =>
        new("content_block_delta", new JsonObject { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = delta });

    private static string StopReason(FakeReply reply) => reply.FinishReason ?? (reply.ToolCalls.Count > 0 ? "tool_use" : "end_turn");

    private static JsonObject Usage(FakeReply reply, int outputTokens) => new()
    {
        ["input_tokens"] = reply.InputTokens,
        ["cache_creation_input_tokens"] = reply.CacheCreationInputTokens,
        ["cache_read_input_tokens"] = reply.CacheReadInputTokens,
        ["output_tokens"] = outputTokens,
    };

    private static JsonObject Error(string type, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = type, ["message"] = message },
    };

    private static Task WriteErrorAsync(HttpContext context, int status, string message)
    {
        var type = status switch
        {
            400 => "invalid_request_error",
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            _ => "api_error",
        };
        return FakeProviderHost.WriteJsonAsync(context, status, Error(type, message));
    }
}
