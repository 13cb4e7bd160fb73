using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>
/// The one writer of everything a call sends its caller: a JSON answer, or server-sent events. Its first write is
/// the call's commit point — from then on failing over would send a second answer, so <see cref="Committed"/> turns
/// true and <see cref="FirstByteAt"/> is stamped here and nowhere else. Writes never throw when the caller has gone:
/// they set <see cref="Gone"/>, so the pipeline can stop the provider and settle what was generated.
/// Events: no buffering, no compression, one flush per event, data of several lines sent as several <c>data:</c>
/// lines (<c>System.Net.ServerSentEvents.SseFormatter</c> writes from an enumerable it pulls; this writer is pushed
/// one event at a time and must see each write fail or succeed, so it formats the few bytes itself).
/// </summary>
public sealed class CallerResponse(HttpContext context)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();

    // Event payloads are JSON read by API clients, never embedded in HTML: no need to escape quotes and non-ASCII.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private bool _eventsStarted;

    /// <summary>A byte of the answer (headers included) was handed to the caller's connection.</summary>
    public bool Committed { get; private set; }

    public bool Gone { get; private set; }

    /// <summary>The durable call this answer belongs to, set by the pipeline once billing admitted it (an answer that
    /// is kept, like a stored Responses object, is kept under it).</summary>
    public Guid? CallId { get; set; }

    /// <summary>Stopwatch timestamp of the first write (for time-to-first-byte).</summary>
    public long? FirstByteAt { get; private set; }

    /// <summary>Writes a whole JSON answer (200). A caller that left meanwhile marks <see cref="Gone"/>.</summary>
    public Task WriteJsonAsync(JsonNode body) => WriteAsync(() => Results.Json(body).ExecuteAsync(context));

    /// <summary>Writes a JSON answer that is already bytes (a provider's, passed through).</summary>
    public Task WriteJsonAsync(ReadOnlyMemory<byte> utf8Json) => WriteAsync(async () =>
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(utf8Json, context.RequestAborted);
    });

    /// <summary>Writes a whole answer of any type (a transcript as text, SRT or VTT; a provider's JSON).</summary>
    public Task WriteBodyAsync(string contentType, ReadOnlyMemory<byte> body) => WriteAsync(async () =>
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    });

    /// <summary>Writes the next piece of a byte stream (audio as it arrives), flushed; the first sets the status and
    /// <paramref name="contentType"/> and turns response buffering off.</summary>
    public Task WriteChunkAsync(string contentType, ReadOnlyMemory<byte> chunk) => WriteAsync(async () =>
    {
        var response = context.Response;
        if (!response.HasStarted)
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = contentType;
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        }
        await response.Body.WriteAsync(chunk, context.RequestAborted);
        await response.Body.FlushAsync(context.RequestAborted);
    });

    /// <summary>Ends a committed byte stream as broken: it has no error event, so the caller must see a cut transfer
    /// rather than a clean end of a truncated answer.</summary>
    public void Abort()
    {
        Gone = true;
        context.Abort();
    }

    /// <summary>Starts the event stream (headers, flushed) without an event: the answer is committed.</summary>
    public Task StartEventsAsync() => _eventsStarted ? Task.CompletedTask : WriteAsync(() => Task.CompletedTask, events: true);

    public Task WriteEventAsync(JsonNode payload, string? eventName = null)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        WriteEventName(writer, eventName);
        writer.Write(DataPrefix);
        using (var json = new Utf8JsonWriter(writer, WriterOptions))
        {
            payload.WriteTo(json);
        }
        writer.Write("\n\n"u8);
        return WriteEventBytesAsync(writer.WrittenMemory);
    }

    /// <summary>An event of raw text (<c>[DONE]</c>, or a provider's event passed through untouched, with its name
    /// when its wire names events).</summary>
    public Task WriteEventAsync(string data, string? eventName = null)
    {
        var writer = new ArrayBufferWriter<byte>(DataPrefix.Length + Encoding.UTF8.GetMaxByteCount(data.Length) + 16);
        WriteEventName(writer, eventName);
        // A line break inside data would end the field early: each line is a data field of its own, which a
        // reader joins back with "\n" (the SSE specification).
        var rest = data.AsSpan();
        while (true)
        {
            writer.Write(DataPrefix);
            var end = rest.IndexOfAny('\r', '\n');
            var line = end < 0 ? rest : rest[..end];
            var span = writer.GetSpan(Encoding.UTF8.GetMaxByteCount(line.Length));
            writer.Advance(Encoding.UTF8.GetBytes(line, span));
            writer.Write("\n"u8);
            if (end < 0)
            {
                break;
            }
            var skip = rest[end] == '\r' && end + 1 < rest.Length && rest[end + 1] == '\n' ? 2 : 1;
            rest = rest[(end + skip)..];
        }
        writer.Write("\n"u8);
        return WriteEventBytesAsync(writer.WrittenMemory);
    }

    private static void WriteEventName(ArrayBufferWriter<byte> writer, string? eventName)
    {
        if (eventName is not null)
        {
            writer.Write(EventPrefix);
            writer.Write(Encoding.UTF8.GetBytes(eventName));
            writer.Write("\n"u8);
        }
    }

    private Task WriteEventBytesAsync(ReadOnlyMemory<byte> bytes) => WriteAsync(async () =>
    {
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }, events: true);

    /// <summary>Ends the answer for the caller (its body is complete) while the call goes on: a video job is
    /// followed after its creation was answered.</summary>
    public async Task CompleteAsync()
    {
        try
        {
            await context.Response.CompleteAsync();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            Gone = true;
        }
    }

    private async Task WriteAsync(Func<Task> write, bool events = false)
    {
        if (Gone)
        {
            return;
        }
        Committed = true;
        try
        {
            if (events && !_eventsStarted)
            {
                _eventsStarted = true;
                var response = context.Response;
                response.StatusCode = StatusCodes.Status200OK;
                response.ContentType = "text/event-stream; charset=utf-8";
                response.Headers.CacheControl = "no-cache";
                response.Headers["X-Accel-Buffering"] = "no";
                context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
                await response.Body.FlushAsync(context.RequestAborted);
            }
            await write();
            FirstByteAt ??= Stopwatch.GetTimestamp();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            Gone = true;
        }
    }
}
