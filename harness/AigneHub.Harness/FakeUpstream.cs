using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AigneHub.Harness;

/// <summary>
/// A loopback OpenAI-compatible provider (chat completions, JSON and SSE) and a meter sink, on one Kestrel host.
/// Every answer is the same five tokens for a prompt of ten (so a drill computes each charge from the rates), and
/// a <c>hold=&lt;ms&gt;</c> in the prompt makes the answer take that long: a stream sends its first chunk at once
/// and spreads the hold over the rest (the call is committed and in flight), a JSON answer waits before its body.
/// The meter sink de-duplicates by <c>Idempotency-Key</c> as a billing system must (a repeat is a 409).
/// It speaks the rest of OpenAI's wire too (<c>FakeUpstream.Media.cs</c>: embeddings, image generations and edits,
/// speech, transcriptions and translations, the videos API), each answer's units kept in <see cref="Reports"/>.
/// </summary>
public sealed partial class FakeUpstream : IAsyncDisposable
{
    public const int PromptTokens = 10;
    public const int CompletionTokens = 5;
    private static readonly string[] Chunks = ["a", " b", " c", " d", " e"];

    private readonly WebApplication _app;

    private FakeUpstream(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public Uri MeterSinkUrl => new(BaseUrl, "/meter");

    private int _chatRequests;

    public int ChatRequests => Volatile.Read(ref _chatRequests);

    /// <summary>Meter events accepted (first delivery of each key).</summary>
    public ConcurrentDictionary<string, decimal> MeterAccepted { get; } = new();

    private int _meterPosts;

    /// <summary>Every POST the sink received, repeats included.</summary>
    public int MeterPosts => Volatile.Read(ref _meterPosts);

    /// <summary>How long the sink takes per event (so a Worker can be killed while delivering).</summary>
    public TimeSpan MeterDelay { get; set; }

    /// <summary>How long every answer waits before its first byte (a provider's time to first token).</summary>
    public TimeSpan TimeToFirstToken { get; set; }

    /// <summary>Content chunks of a stream (<see cref="CompletionTokens"/> by default), each one completion token;
    /// the usage says as many. With <see cref="TokenInterval"/>, a slow stream: one chunk per interval.</summary>
    public int StreamTokens { get; set; } = CompletionTokens;

    public TimeSpan TokenInterval { get; set; }

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Limits.MaxConcurrentConnections = null).UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeUpstream(app);
        app.MapPost("/v1/chat/completions", fake.ChatAsync);
        app.MapPost("/meter", fake.MeterAsync);
        fake.MapMedia(app);
        await app.StartAsync();
        fake.BaseUrl = new Uri(app.Urls.First().TrimEnd('/') + "/v1/");
        return fake;
    }

    private async Task ChatAsync(HttpContext context)
    {
        Interlocked.Increment(ref _chatRequests);
        var ct = context.RequestAborted;
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ct);
        var body = JsonNode.Parse(text)!.AsObject();
        var hold = HoldPattern().Match(text) is { Success: true } m
            ? TimeSpan.FromMilliseconds(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            : TimeSpan.Zero;
        var model = (string?)body["model"] ?? "fake";
        var id = $"chatcmpl-drill-{Guid.NewGuid():N}";
        var streamTokens = StreamTokens;
        JsonObject Usage(int completion) => new()
        {
            ["prompt_tokens"] = PromptTokens,
            ["completion_tokens"] = completion,
            ["total_tokens"] = PromptTokens + completion,
        };
        try
        {
            if (TimeToFirstToken > TimeSpan.Zero)
            {
                await Task.Delay(TimeToFirstToken, ct);
            }
            if (body["stream"]?.GetValue<bool>() != true)
            {
                await Task.Delay(hold, ct);
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(new JsonObject
                {
                    ["id"] = id, ["object"] = "chat.completion", ["created"] = 1700000000, ["model"] = model,
                    ["choices"] = new JsonArray(new JsonObject
                    {
                        ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(Chunks) }, ["finish_reason"] = "stop",
                    }),
                    ["usage"] = Usage(CompletionTokens),
                }.ToJsonString(), ct);
                return;
            }
            context.Response.ContentType = "text/event-stream";
            async Task EventAsync(string data)
            {
                await context.Response.WriteAsync($"data: {data}\n\n", ct);
                await context.Response.Body.FlushAsync(ct);
            }
            JsonObject Chunk(JsonObject delta, string? finish) => new()
            {
                ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
            };
            for (var i = 0; i < streamTokens; i++)
            {
                if (i > 0)
                {
                    await Task.Delay(hold / Math.Max(1, streamTokens - 1) + TokenInterval, ct);
                }
                var delta = new JsonObject { ["content"] = Chunks[i % Chunks.Length] };
                if (i == 0)
                {
                    delta["role"] = "assistant";
                }
                await EventAsync(Chunk(delta, null).ToJsonString());
            }
            await EventAsync(Chunk([], "stop").ToJsonString());
            if (body["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
            {
                await EventAsync(new JsonObject
                {
                    ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = 1700000000, ["model"] = model,
                    ["choices"] = new JsonArray(), ["usage"] = Usage(streamTokens),
                }.ToJsonString());
            }
            await EventAsync("[DONE]");
        }
        catch (OperationCanceledException)
        {
            // the Api went away (killed, or the call was ended): nothing to answer
        }
    }

    private async Task MeterAsync(HttpContext context)
    {
        Interlocked.Increment(ref _meterPosts);
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        var body = JsonNode.Parse(await new StreamReader(context.Request.Body).ReadToEndAsync(context.RequestAborted))!;
        if (MeterDelay > TimeSpan.Zero)
        {
            await Task.Delay(MeterDelay, context.RequestAborted);
        }
        var credits = decimal.Parse((string)body["credits"]!, CultureInfo.InvariantCulture);
        context.Response.StatusCode = MeterAccepted.TryAdd(key, credits) ? 200 : 409;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [GeneratedRegex(@"hold=(\d{1,6})")]
    private static partial Regex HoldPattern();
}
