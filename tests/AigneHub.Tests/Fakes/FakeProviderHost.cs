using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace AigneHub.Tests.Fakes;

/// <summary>
/// A fake provider's server: real Kestrel on 127.0.0.1 with a free port, the routes a fake maps, the requests it
/// received, and a queue of scripted replies. Fakes for each wire protocol (FakeAnthropic, FakeGemini, FakeOpenAI)
/// are built on it.
/// </summary>
public sealed class FakeProviderHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _replies = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    private FakeProviderHost(WebApplication app) => _app = app;

    /// <summary>The base URL a provider endpoint would be configured with, e.g. <c>http://127.0.0.1:5123/v1/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request received, in order, recorded before it was answered.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public RecordedRequest LastRequest => _requests.LastOrDefault() ?? throw new InvalidOperationException("The fake received no request.");

    /// <summary>Starts a host; <paramref name="pathBase"/> (e.g. <c>v1/</c>) is appended to the root URL for <see cref="BaseUrl"/>.</summary>
    public static async Task<FakeProviderHost> StartAsync(string pathBase, Action<IEndpointRouteBuilder, FakeProviderHost> mapRoutes)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var host = new FakeProviderHost(app);
        mapRoutes(app, host);
        await app.StartAsync();
        host.BaseUrl = new Uri(new Uri(app.Urls.First().TrimEnd('/') + "/"), pathBase);
        return host;
    }

    /// <summary>Scripts the next answer; with nothing queued the fake answers with a default <see cref="FakeReply"/>.</summary>
    public void Enqueue(FakeReply reply) => _replies.Enqueue(reply);

    public FakeReply NextReply() => _replies.TryDequeue(out var reply) ? reply : new FakeReply();

    /// <summary>Reads and records the request (headers and JSON body).</summary>
    public async Task<RecordedRequest> RecordAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var text = await reader.ReadToEndAsync(context.RequestAborted);
        JsonNode? body = null;
        try
        {
            body = text.Length > 0 ? JsonNode.Parse(text) : null;
        }
        catch (JsonException)
        {
            // recorded with a null body; the fake decides how to answer
        }
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", headers, body, text);
        _requests.Enqueue(recorded);
        return recorded;
    }

    /// <summary>Reads and records a multipart form: its text fields as the body's members (repeated ones joined by
    /// commas), each file's name, content type and length under its part's name, and the first file's bytes as
    /// <see cref="RecordedRequest.File"/>.</summary>
    public async Task<RecordedRequest> RecordFormAsync(HttpContext context)
    {
        var form = await context.Request.ReadFormAsync(context.RequestAborted);
        var body = new JsonObject();
        foreach (var (name, values) in form)
        {
            body[name] = values.ToString();
        }
        byte[]? bytes = null;
        foreach (var file in form.Files)
        {
            using var buffer = new MemoryStream();
            await file.CopyToAsync(buffer, context.RequestAborted);
            bytes ??= buffer.ToArray();
            body[file.Name] = new JsonObject { ["filename"] = file.FileName, ["content_type"] = file.ContentType, ["length"] = (int)buffer.Length };
        }
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", headers, body, "")
        {
            File = bytes,
        };
        _requests.Enqueue(recorded);
        return recorded;
    }

    /// <summary>
    /// Writes a reply's raw or huge 200 answer, if it has one (then true): a fake calls it before answering properly.
    /// </summary>
    public static async Task<bool> WriteMalformedAsync(HttpContext context, FakeReply reply)
    {
        if (reply.RawBody is { } raw)
        {
            context.Response.ContentType = reply.RawContentType;
            await context.Response.WriteAsync(raw, context.RequestAborted);
            return true;
        }
        if (reply.HugeBodyBytes is not { } size)
        {
            return false;
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("{\"pad\":\"", context.RequestAborted);
        var block = new string('x', 64 * 1024);
        for (long sent = 0; sent < size; sent += block.Length)
        {
            await context.Response.WriteAsync(block, context.RequestAborted);
        }
        await context.Response.WriteAsync("\"}", context.RequestAborted);
        return true;
    }

    /// <summary>Sets a scripted failure's headers; call before writing the error body.</summary>
    public static void ApplyFailHeaders(HttpContext context, FakeReply reply)
    {
        foreach (var (name, value) in reply.FailHeaders)
        {
            context.Response.Headers[name] = value;
        }
    }

    /// <summary>Writes a JSON answer with a status code.</summary>
    public static async Task WriteJsonAsync(HttpContext context, int status, JsonNode body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    /// <summary>
    /// Streams <paramref name="events"/> as server-sent events, applying the reply's pacing and faults: the delay
    /// between events, the delay before the last one, an in-stream provider error, a clean early end or an aborted
    /// connection after N events. Signals <see cref="FakeReply.LastEventSent"/> once the last event is flushed.
    /// </summary>
    public static async Task StreamAsync(HttpContext context, FakeReply reply, IReadOnlyList<SseEvent> events, SseEvent errorEvent)
    {
        var ct = context.RequestAborted;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(ct);
        for (var i = 0; i < events.Count; i++)
        {
            if (reply.CutAfterEvents == i)
            {
                // A reset can make the client's kernel drop data it has not read yet; give it a moment so the
                // events before the cut really arrive, as they would before a real mid-answer failure.
                await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
                context.Abort();
                return;
            }
            if (reply.EndAfterEvents == i)
            {
                return;
            }
            if (reply.StallAfterEvents == i)
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            if (reply.ErrorAfterEvents == i)
            {
                await WriteEventAsync(context, errorEvent, ct);
                return;
            }
            if (i > 0 && reply.DelayBetweenEvents > TimeSpan.Zero)
            {
                await Task.Delay(reply.DelayBetweenEvents, ct);
            }
            if (i == events.Count - 1 && reply.DelayBeforeLastEvent > TimeSpan.Zero)
            {
                await Task.Delay(reply.DelayBeforeLastEvent, ct);
            }
            await WriteEventAsync(context, events[i], ct);
        }
        reply.LastEventSent.TrySetResult();
    }

    private static async Task WriteEventAsync(HttpContext context, SseEvent sse, CancellationToken ct)
    {
        var text = (sse.Event is null ? "" : $"event: {sse.Event}\n") + $"data: {sse.RawData ?? sse.Data!.ToJsonString()}\n\n";
        await context.Response.WriteAsync(text, ct);
        await context.Response.Body.FlushAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>What every fake provider exposes: its host, base URL, the requests it received and its reply script.</summary>
public abstract class FakeProvider(FakeProviderHost host) : IAsyncDisposable
{
    public FakeProviderHost Host { get; } = host;

    /// <summary>The base URL a provider endpoint would be configured with (the provider's default shape).</summary>
    public Uri BaseUrl => Host.BaseUrl;

    public IReadOnlyList<RecordedRequest> Requests => Host.Requests;

    public RecordedRequest LastRequest => Host.LastRequest;

    public void Enqueue(params FakeReply[] replies)
    {
        foreach (var reply in replies)
        {
            Host.Enqueue(reply);
        }
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();
}

/// <summary>One server-sent event; <see cref="Event"/> is the <c>event:</c> line (Anthropic names events, Gemini does not);
/// <see cref="RawData"/> is sent as is instead of JSON (OpenAI's <c>[DONE]</c>).</summary>
public sealed record SseEvent(string? Event, JsonNode? Data, string? RawData = null);

/// <summary>A request a fake received.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, JsonNode? Body, string RawBody)
{
    /// <summary>The uploaded file of a multipart request.</summary>
    public byte[]? File { get; init; }

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;

    public JsonNode RequiredBody => Body ?? throw new InvalidOperationException("The request had no JSON body.");
}

/// <summary>A tool call the fake model makes. <see cref="Id"/> null lets the fake choose (Gemini sends none).</summary>
public sealed record FakeToolCall(string Name, string ArgumentsJson, string? Id = null);

/// <summary>
/// What a fake answers to one request. Token counts are the provider's own (e.g. Anthropic's input tokens
/// exclude cached ones); each fake writes them in its wire format.
/// </summary>
public sealed class FakeReply
{
    public string Text { get; init; } = "Hello from the fake provider.";

    /// <summary>How the text is split into stream deltas; by default word by word.</summary>
    public IReadOnlyList<string>? TextChunks { get; init; }

    public IReadOnlyList<FakeToolCall> ToolCalls { get; init; } = [];

    /// <summary>The provider's own finish/stop reason; by default derived (tool calls, else a normal stop).</summary>
    public string? FinishReason { get; init; }

    public int InputTokens { get; init; } = 11;

    public int OutputTokens { get; init; } = 7;

    public int CacheCreationInputTokens { get; init; }

    public int CacheReadInputTokens { get; init; }

    public int ReasoningTokens { get; init; }

    /// <summary>Audio fakes: the speech to send (by default a few bytes naming the input), sent in <see cref="AudioChunkBytes"/> pieces.</summary>
    public byte[]? Audio { get; init; }

    public int AudioChunkBytes { get; init; } = 5;

    /// <summary>Audio fakes: the duration a transcription reports (<c>usage.seconds</c> in json, <c>duration</c> in
    /// verbose_json). By default json reports none and verbose_json the duration of the WAV it received.</summary>
    public double? ReportedSeconds { get; init; }

    /// <summary>Anthropic fakes: an extended-thinking block before the answer, signed with <see cref="ThinkingSignature"/>.</summary>
    public string? Thinking { get; init; }

    public string ThinkingSignature { get; init; } = "sig-fake-0123456789";

    /// <summary>OpenAI-compatible fakes report cache hits DeepSeek's way (<c>prompt_cache_hit_tokens</c>/<c>_miss_tokens</c>).</summary>
    public bool DeepSeekCacheFields { get; init; }

    /// <summary>Fail with this status and the provider's own error JSON instead of answering.</summary>
    public int? FailStatus { get; init; }

    public string? FailMessage { get; init; }

    /// <summary>Headers sent with the failure (a 429's <c>retry-after</c>, OpenAI's <c>x-ratelimit-*</c>).</summary>
    public IReadOnlyDictionary<string, string> FailHeaders { get; init; } = new Dictionary<string, string>();

    /// <summary>Gemini fakes: entries of the error's <c>details</c> array (<c>google.rpc.RetryInfo</c>, <c>QuotaFailure</c>).</summary>
    public JsonArray? FailDetails { get; init; }

    public TimeSpan DelayBeforeHeaders { get; init; }

    /// <summary>The answer waits for this (a test's gate) before its headers.</summary>
    public Task Hold { get; init; } = Task.CompletedTask;

    public TimeSpan DelayBetweenEvents { get; init; }

    /// <summary>Holds the last stream event back (the tail of the answer) for this long.</summary>
    public TimeSpan DelayBeforeLastEvent { get; init; }

    /// <summary>Aborts the connection before stream event number N (0-based): a cut, not a clean end.</summary>
    public int? CutAfterEvents { get; init; }

    /// <summary>Ends the response cleanly before stream event number N: a truncation that looks like a normal end.</summary>
    public int? EndAfterEvents { get; init; }

    /// <summary>Sends the provider's in-stream error event in place of stream event number N and ends the stream.</summary>
    public int? ErrorAfterEvents { get; init; }

    /// <summary>Stops sending before stream event number N (0-based) and holds the connection open until the client leaves.</summary>
    public int? StallAfterEvents { get; init; }

    /// <summary>Answers 200 with this body as it is (malformed JSON, malformed SSE), with <see cref="RawContentType"/>.</summary>
    public string? RawBody { get; init; }

    public string RawContentType { get; init; } = "application/json";

    /// <summary>Answers 200 with a JSON object padded to about this many bytes, sent in 64 KiB writes.</summary>
    public long? HugeBodyBytes { get; init; }

    /// <summary>Completed once the last stream event has been flushed to the client.</summary>
    public TaskCompletionSource LastEventSent { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string> StreamChunks()
    {
        if (TextChunks is not null)
        {
            return TextChunks;
        }
        var chunks = new List<string>();
        var start = 0;
        for (var i = 0; i < Text.Length; i++)
        {
            if (Text[i] == ' ' && i > start)
            {
                chunks.Add(Text[start..i]);
                start = i;
            }
        }
        if (start < Text.Length)
        {
            chunks.Add(Text[start..]);
        }
        return chunks;
    }
}
