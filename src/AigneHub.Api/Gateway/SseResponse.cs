using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace AigneHub.Api.Gateway;

/// <summary>
/// Writes server-sent events to the caller: no buffering, no compression, one flush per event. Writes never
/// throw when the caller has gone: they mark <see cref="CallerGone"/> so the pipeline can settle the call.
/// </summary>
public sealed class SseResponse(HttpContext context)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventSeparator = "\n\n"u8.ToArray();

    // Event payloads are JSON read by API clients, never embedded in HTML: no need to escape quotes and non-ASCII.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool Started { get; private set; }

    public bool CallerGone { get; private set; }

    /// <summary>When the first event reached the wire (for time-to-first-byte).</summary>
    public long? FirstWriteTimestamp { get; private set; }

    public async Task StartAsync()
    {
        if (Started)
        {
            return;
        }
        Started = true;
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await FlushAsync();
    }

    public Task WriteDataAsync(JsonNode payload, string? eventName = null)
    {
        var writer = new ArrayBufferWriter<byte>(256);
        if (eventName is not null)
        {
            writer.Write(Encoding.UTF8.GetBytes($"event: {eventName}\n"));
        }
        writer.Write(DataPrefix);
        using (var json = new Utf8JsonWriter(writer, WriterOptions))
        {
            payload.WriteTo(json);
        }
        writer.Write(EventSeparator);
        return WriteRawAsync(writer.WrittenMemory);
    }

    /// <summary>A <c>data:</c> line with raw text (e.g. <c>[DONE]</c>, or an event passed through untouched).</summary>
    public Task WriteDataAsync(string data)
    {
        var bytes = new byte[DataPrefix.Length + Encoding.UTF8.GetByteCount(data) + EventSeparator.Length];
        DataPrefix.CopyTo(bytes, 0);
        var n = Encoding.UTF8.GetBytes(data, 0, data.Length, bytes, DataPrefix.Length);
        EventSeparator.CopyTo(bytes, DataPrefix.Length + n);
        return WriteRawAsync(bytes);
    }

    private async Task WriteRawAsync(ReadOnlyMemory<byte> bytes)
    {
        if (CallerGone)
        {
            return;
        }
        await StartAsync();
        try
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            FirstWriteTimestamp ??= System.Diagnostics.Stopwatch.GetTimestamp();
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            CallerGone = true;
        }
    }

    private async Task FlushAsync()
    {
        try
        {
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            CallerGone = true;
        }
    }
}
