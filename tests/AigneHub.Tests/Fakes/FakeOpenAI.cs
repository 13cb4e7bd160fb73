using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace AigneHub.Tests.Fakes;

/// <summary>What the fake should answer next.</summary>
public sealed record FakeReply
{
    public string Text { get; init; } = "Hello from the fake provider";

    /// <summary>Tool calls to make instead of (or besides) text: (id, name, arguments JSON).</summary>
    public IReadOnlyList<(string Id, string Name, string Arguments)> ToolCalls { get; init; } = [];

    public int PromptTokens { get; init; } = 11;

    public int CompletionTokens { get; init; } = 7;

    public int CachedTokens { get; init; }

    /// <summary>Fail with this status and the provider's own error body.</summary>
    public int? Status { get; init; }

    public TimeSpan HeaderDelay { get; init; }

    public TimeSpan ChunkDelay { get; init; }

    /// <summary>Abort the connection after this many stream events.</summary>
    public int? CutAfterEvents { get; init; }

    /// <summary>Hold the stream after the first event until <see cref="FakeOpenAI.ReleaseTail"/>.</summary>
    public bool HoldAfterFirstEvent { get; init; }

    /// <summary>Send no usage even when asked (a provider that does not report it).</summary>
    public bool OmitUsage { get; init; }
}

/// <summary>
/// A real HTTP server on loopback speaking OpenAI's wire format (chat completions JSON and SSE, embeddings, image
/// generations), with scripted answers, failures, delays and cuts. Base URL: <see cref="BaseUrl"/> (ends in /v1/).
/// </summary>
public sealed class FakeOpenAI : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _replies = new();
    private TaskCompletionSource _tail = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FakeOpenAI(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request body received, with its Authorization header, in order.</summary>
    public ConcurrentQueue<(string Path, JsonObject Body, string? Authorization)> Requests { get; } = new();

    public TaskCompletionSource FirstEventSent { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource StreamFinished { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Enqueue(params FakeReply[] replies)
    {
        foreach (var r in replies)
        {
            _replies.Enqueue(r);
        }
    }

    public void ReleaseTail() => _tail.TrySetResult();

    public void ResetSignals()
    {
        FirstEventSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
        StreamFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        _tail = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static async Task<FakeOpenAI> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var fake = new FakeOpenAI(app);
        app.MapPost("/v1/chat/completions", fake.ChatAsync);
        app.MapPost("/v1/embeddings", fake.EmbeddingsAsync);
        app.MapPost("/v1/images/generations", fake.ImagesAsync);
        await app.StartAsync();
        var address = app.Urls.First();
        fake.BaseUrl = new Uri(address.TrimEnd('/') + "/v1/");
        return fake;
    }

    private async Task<JsonObject> RecordAsync(HttpContext context)
    {
        var body = (JsonObject)(await JsonNode.ParseAsync(context.Request.Body))!;
        Requests.Enqueue((context.Request.Path, body, context.Request.Headers.Authorization.ToString()));
        return body;
    }

    private FakeReply Next() => _replies.TryDequeue(out var r) ? r : new FakeReply();

    private async Task ChatAsync(HttpContext context)
    {
        var body = await RecordAsync(context);
        var reply = Next();
        await Task.Delay(reply.HeaderDelay);
        if (reply.Status is int status)
        {
            await WriteErrorAsync(context, status);
            return;
        }
        var model = (string?)body["model"] ?? "fake";
        var id = $"chatcmpl-fake-{Guid.NewGuid():N}";
        var usage = new JsonObject
        {
            ["prompt_tokens"] = reply.PromptTokens,
            ["completion_tokens"] = reply.CompletionTokens,
            ["total_tokens"] = reply.PromptTokens + reply.CompletionTokens,
            ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = reply.CachedTokens },
        };

        if (body["stream"]?.GetValue<bool>() != true)
        {
            var message = new JsonObject { ["role"] = "assistant", ["content"] = reply.ToolCalls.Count > 0 && reply.Text.Length == 0 ? null : reply.Text };
            if (reply.ToolCalls.Count > 0)
            {
                message["tool_calls"] = new JsonArray(reply.ToolCalls.Select(c => (JsonNode?)new JsonObject
                {
                    ["id"] = c.Id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
                }).ToArray());
            }
            var response = new JsonObject
            {
                ["id"] = id, ["object"] = "chat.completion", ["created"] = 1700000000, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = reply.ToolCalls.Count > 0 ? "tool_calls" : "stop" }),
                ["extra_provider_field"] = "kept",
            };
            if (!reply.OmitUsage)
            {
                response["usage"] = usage;
            }
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(response.ToJsonString());
            return;
        }

        context.Response.ContentType = "text/event-stream";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var includeUsage = body["stream_options"]?["include_usage"]?.GetValue<bool>() == true && !reply.OmitUsage;
        var events = new List<string>();
        JsonObject Chunk(JsonObject delta, string? finish) => new()
        {
            ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        };
        var words = reply.Text.Length == 0 ? [] : reply.Text.Split(' ');
        for (var i = 0; i < words.Length; i++)
        {
            var delta = new JsonObject { ["content"] = i == 0 ? words[i] : " " + words[i] };
            if (i == 0) { delta["role"] = "assistant"; }
            events.Add(Chunk(delta, null).ToJsonString());
        }
        for (var t = 0; t < reply.ToolCalls.Count; t++)
        {
            var c = reply.ToolCalls[t];
            var half = c.Arguments.Length / 2;
            events.Add(Chunk(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = t, ["id"] = c.Id, ["type"] = "function", ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments[..half] } }) }, null).ToJsonString());
            events.Add(Chunk(new JsonObject { ["tool_calls"] = new JsonArray(new JsonObject { ["index"] = t, ["function"] = new JsonObject { ["arguments"] = c.Arguments[half..] } }) }, null).ToJsonString());
        }
        events.Add(Chunk(new JsonObject(), reply.ToolCalls.Count > 0 ? "tool_calls" : "stop").ToJsonString());
        if (includeUsage)
        {
            events.Add(new JsonObject { ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model, ["choices"] = new JsonArray(), ["usage"] = usage }.ToJsonString());
        }
        events.Add("[DONE]");

        for (var i = 0; i < events.Count; i++)
        {
            if (reply.CutAfterEvents is int cut && i >= cut)
            {
                context.Abort();
                return;
            }
            await context.Response.WriteAsync($"data: {events[i]}\n\n", Encoding.UTF8);
            await context.Response.Body.FlushAsync();
            if (i == 0)
            {
                FirstEventSent.TrySetResult();
                if (reply.HoldAfterFirstEvent)
                {
                    await _tail.Task.WaitAsync(TimeSpan.FromSeconds(30));
                }
            }
            if (reply.ChunkDelay > TimeSpan.Zero)
            {
                await Task.Delay(reply.ChunkDelay);
            }
        }
        StreamFinished.TrySetResult();
    }

    private async Task EmbeddingsAsync(HttpContext context)
    {
        var body = await RecordAsync(context);
        var reply = Next();
        if (reply.Status is int status)
        {
            await WriteErrorAsync(context, status);
            return;
        }
        var inputs = body["input"] is JsonArray a ? a.Select(x => (string)x!).ToList() : [(string)body["input"]!];
        var data = new JsonArray(inputs.Select((text, i) => (JsonNode?)new JsonObject
        {
            ["object"] = "embedding", ["index"] = i,
            ["embedding"] = new JsonArray(text.Length, 0.5, -0.25),
        }).ToArray());
        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["object"] = "list", ["data"] = data, ["model"] = (string?)body["model"],
            ["usage"] = new JsonObject { ["prompt_tokens"] = reply.PromptTokens, ["total_tokens"] = reply.PromptTokens },
        });
    }

    private async Task ImagesAsync(HttpContext context)
    {
        var body = await RecordAsync(context);
        var reply = Next();
        if (reply.Status is int status)
        {
            await WriteErrorAsync(context, status);
            return;
        }
        var n = (int?)body["n"] ?? 1;
        var b64 = (string?)body["response_format"] == "b64_json";
        var data = new JsonArray(Enumerable.Range(0, n).Select(i => (JsonNode?)(b64
            ? new JsonObject { ["b64_json"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"png-{i}")) }
            : new JsonObject { ["url"] = $"https://images.example/{i}.png" })).ToArray());
        await context.Response.WriteAsJsonAsync(new JsonObject { ["created"] = 1700000000, ["data"] = data });
    }

    private static async Task WriteErrorAsync(HttpContext context, int status)
    {
        context.Response.StatusCode = status;
        var (type, message) = status switch
        {
            401 => ("invalid_request_error", "Incorrect API key provided."),
            429 => ("rate_limit_error", "Rate limit reached for requests."),
            404 => ("invalid_request_error", "The model does not exist."),
            400 => ("invalid_request_error", "Invalid parameter."),
            _ => ("server_error", "The server had an error while processing your request."),
        };
        await context.Response.WriteAsJsonAsync(new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = null } });
    }

    public async ValueTask DisposeAsync()
    {
        _tail.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
