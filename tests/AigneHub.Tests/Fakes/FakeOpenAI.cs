using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// A fake OpenAI-compatible provider on <see cref="FakeProviderHost"/>: chat completions (JSON and SSE with
/// <c>[DONE]</c>, usage when <c>stream_options.include_usage</c> asks for it), embeddings and image generations,
/// with OpenAI's own error JSON. Base URL ends in <c>/v1/</c>.
/// </summary>
public sealed class FakeOpenAI : FakeProvider
{
    private FakeOpenAI(FakeProviderHost host) : base(host)
    {
    }

    public static async Task<FakeOpenAI> StartAsync()
    {
        FakeOpenAI? fake = null;
        var host = await FakeProviderHost.StartAsync("v1/", (routes, h) =>
        {
            routes.MapPost("/v1/chat/completions", context => fake!.ChatAsync(context));
            routes.MapPost("/v1/embeddings", context => fake!.EmbeddingsAsync(context));
            routes.MapPost("/v1/images/generations", context => fake!.ImagesAsync(context));
        });
        fake = new FakeOpenAI(host);
        return fake;
    }

    private async Task ChatAsync(HttpContext context)
    {
        var body = (await Host.RecordAsync(context)).RequiredBody;
        var reply = Host.NextReply();
        await Task.Delay(reply.DelayBeforeHeaders);
        if (reply.FailStatus is int status)
        {
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var model = (string?)body["model"] ?? "fake";
        var id = $"chatcmpl-fake-{Guid.NewGuid():N}";
        var usage = new JsonObject
        {
            ["prompt_tokens"] = reply.InputTokens,
            ["completion_tokens"] = reply.OutputTokens,
            ["total_tokens"] = reply.InputTokens + reply.OutputTokens,
        };
        if (reply.DeepSeekCacheFields)
        {
            // DeepSeek: prompt_tokens = prompt_cache_hit_tokens + prompt_cache_miss_tokens, no prompt_tokens_details.
            usage["prompt_cache_hit_tokens"] = reply.CacheReadInputTokens;
            usage["prompt_cache_miss_tokens"] = reply.InputTokens - reply.CacheReadInputTokens;
        }
        else
        {
            usage["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = reply.CacheReadInputTokens };
        }
        var finish = reply.FinishReason ?? (reply.ToolCalls.Count > 0 ? "tool_calls" : "stop");

        if (body["stream"]?.GetValue<bool>() != true)
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.ToolCalls.Count > 0 && reply.Text.Length == 0 ? null : reply.Text };
            if (reply.ToolCalls.Count > 0)
            {
                message["tool_calls"] = new JsonArray(reply.ToolCalls.Select((c, i) => (JsonNode?)new JsonObject
                {
                    ["id"] = c.Id ?? $"call_{i}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson },
                }).ToArray());
            }
            await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = 1700000000, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finish }),
                ["usage"] = usage,
                ["extra_provider_field"] = "kept",
            });
            return;
        }

        JsonObject Chunk(JsonObject delta, string? finishReason) => new()
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finishReason }),
        };
        var events = new List<SseEvent>();
        var chunks = reply.Text.Length == 0 ? [] : reply.StreamChunks();
        for (var i = 0; i < chunks.Count; i++)
        {
            var delta = new JsonObject { ["content"] = chunks[i] };
            if (i == 0)
            {
                delta["role"] = "assistant";
            }
            events.Add(new SseEvent(null, Chunk(delta, null)));
        }
        for (var t = 0; t < reply.ToolCalls.Count; t++)
        {
            var c = reply.ToolCalls[t];
            var half = c.ArgumentsJson.Length / 2;
            events.Add(new SseEvent(null, Chunk(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = t, ["id"] = c.Id ?? $"call_{t}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.ArgumentsJson[..half] } }) }, null)));
            events.Add(new SseEvent(null, Chunk(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = t, ["function"] = new JsonObject { ["arguments"] = c.ArgumentsJson[half..] } }) }, null)));
        }
        events.Add(new SseEvent(null, Chunk(new JsonObject(), finish)));
        if (body["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
        {
            events.Add(new SseEvent(null, new JsonObject { ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model, ["choices"] = new JsonArray(), ["usage"] = usage }));
        }
        events.Add(new SseEvent(null, null, "[DONE]"));
        await FakeProviderHost.StreamAsync(context, reply, events,
            new SseEvent(null, new JsonObject { ["error"] = new JsonObject { ["message"] = reply.FailMessage ?? "The server had an error while processing your request.", ["type"] = "server_error" } }));
    }

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var body = (await Host.RecordAsync(context)).RequiredBody;
        var reply = Host.NextReply();
        if (reply.FailStatus is int status)
        {
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var inputs = body["input"] is JsonArray a ? a.Select(x => (string)x!).ToList() : [(string)body["input"]!];
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(inputs.Select((text, i) => (JsonNode?)new JsonObject
            {
                ["object"] = "embedding", ["index"] = i, ["embedding"] = new JsonArray(text.Length, 0.5, -0.25),
            }).ToArray()),
            ["model"] = (string?)body["model"],
            ["usage"] = new JsonObject { ["prompt_tokens"] = reply.InputTokens, ["total_tokens"] = reply.InputTokens },
        });
    }

    private async Task ImagesAsync(HttpContext context)
    {
        var body = (await Host.RecordAsync(context)).RequiredBody;
        var reply = Host.NextReply();
        if (reply.FailStatus is int status)
        {
            await WriteErrorAsync(context, status, reply.FailMessage);
            return;
        }
        var n = (int?)body["n"] ?? 1;
        var b64 = (string?)body["response_format"] == "b64_json";
        await FakeProviderHost.WriteJsonAsync(context, 200, new JsonObject
        {
            ["created"] = 1700000000,
            ["data"] = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode?)(b64
                ? new JsonObject { ["b64_json"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"png-{i}")) }
                : new JsonObject { ["url"] = $"https://images.example/{i}.png" })).ToArray()),
        });
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string? message)
    {
        var (type, text) = status switch
        {
            401 => ("invalid_request_error", "Incorrect API key provided."),
            429 => ("rate_limit_error", "Rate limit reached for requests."),
            404 => ("invalid_request_error", "The model does not exist."),
            400 => ("invalid_request_error", "Invalid parameter."),
            _ => ("server_error", "The server had an error while processing your request."),
        };
        return FakeProviderHost.WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message ?? text, ["type"] = type, ["param"] = null, ["code"] = null },
        });
    }
}
