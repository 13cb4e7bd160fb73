using System.Net;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Providers;

/// <summary>Configuration <c>AigneHub:Providers:Http</c>.</summary>
public sealed class ProviderHttpOptions
{
    public const string Section = "AigneHub:Providers:Http";

    /// <summary>
    /// Longest silence tolerated from a provider, for the response headers and then between any two reads of the
    /// body. Reasoning models can think for minutes before the first token, so the default is generous; it is an
    /// idle timeout, never a total one, so long answers that keep streaming are never cut.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The most bytes read from one provider answer, JSON or stream. Answers are buffered whole where they are not
    /// streamed (a pass-through's JSON, an image's base64), so a provider (or whatever answers at its address) sending
    /// without end would otherwise take the process's memory. Far above any real answer: images in base64 are a few
    /// MiB each.
    /// </summary>
    public long MaxResponseBytes { get; set; } = 128L * 1024 * 1024;
}

/// <summary>
/// The one HTTP client for provider calls: a long-lived <see cref="SocketsHttpHandler"/> with no automatic
/// retries (a POST is never re-sent by the transport; failover is the gateway's decision), no redirects, no
/// cookies, no decompression surprises, and an idle timeout instead of a total timeout. It deliberately bypasses
/// the service defaults' resilience handler, whose 10 s attempt timeout and POST retries are wrong here.
/// </summary>
public sealed class ProviderHttp : IDisposable
{
    private const int MaxErrorBodyBytes = 16 * 1024;

    private readonly TimeProvider _time;

    public ProviderHttp(IOptions<ProviderHttpOptions> options, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        Options = options.Value;
        Client = new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate | DecompressionMethods.Brotli,
            ConnectTimeout = Options.ConnectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
            EnableMultipleHttp2Connections = true,
        }, disposeHandler: true)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    public ProviderHttpOptions Options { get; }

    public HttpClient Client { get; }

    /// <summary>
    /// Sends and waits for the response headers (at most the idle timeout). A non-2xx answer, a transport failure
    /// or a timeout becomes a <see cref="ProviderException"/> carrying the provider's own error message.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(ProviderEndpoint endpoint, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var headerTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        headerTimeout.CancelAfter(Options.IdleTimeout);
        HttpResponseMessage response;
        try
        {
            response = await endpoint.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headerTimeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Timeout, null,
                $"{endpoint.Provider} sent no response within {Options.IdleTimeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException ex)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                $"{endpoint.Provider} is unreachable: {ex.Message}", ex);
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var (message, body) = await ReadErrorAsync(response, cancellationToken);
            var errorClass = ProviderException.Classify(status);
            var hint = errorClass == ProviderErrorClass.RateLimited ? RateLimitHint.Read(response.Headers, body, _time.GetUtcNow()) : default;
            throw new ProviderException(endpoint.Provider, errorClass, status, $"{endpoint.Provider} answered {status}: {message}")
            {
                RetryAfter = hint.RetryAfter,
                ModelScoped = hint.ModelScoped,
            };
        }
    }

    /// <summary>Sends the request (a POST of JSON, or a GET) and reads a JSON answer.</summary>
    public async Task<JsonNode> PostJsonAsync(ProviderEndpoint endpoint, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(endpoint, request, cancellationToken);
        await using var body = OpenBody(endpoint, response);
        try
        {
            return await JsonNode.ParseAsync(body, cancellationToken: cancellationToken)
                ?? throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode, $"{endpoint.Provider} sent an empty body.");
        }
        catch (JsonException ex)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode,
                $"{endpoint.Provider} sent malformed JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Sends and reads the whole answer as bytes (a finished video), with its content type.</summary>
    public async Task<(ReadOnlyMemory<byte> Bytes, string? ContentType)> GetBytesAsync(ProviderEndpoint endpoint, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(endpoint, request, cancellationToken);
        return (await ReadAllAsync(endpoint, response, cancellationToken), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The whole answer body, read through <see cref="OpenBody"/> (idle timeout, size cap).</summary>
    public async Task<ReadOnlyMemory<byte>> ReadAllAsync(ProviderEndpoint endpoint, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var body = OpenBody(endpoint, response);
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken);
        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>The response body, failing with a <see cref="ProviderErrorClass.Timeout"/> when a read stalls.</summary>
    public Stream OpenBody(ProviderEndpoint endpoint, HttpResponseMessage response) =>
        new IdleTimeoutStream(response.Content.ReadAsStream(), Options.IdleTimeout, Options.MaxResponseBytes, endpoint.Provider);

    /// <summary>Server-sent events from a streaming response, one item per event, with the idle timeout.</summary>
    public async IAsyncEnumerable<SseItem<string>> ReadEventsAsync(ProviderEndpoint endpoint, HttpResponseMessage response,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var body = OpenBody(endpoint, response);
        await foreach (var item in SseParser.Create(body).EnumerateAsync(cancellationToken))
        {
            yield return item;
        }
    }

    public static StringContent JsonContent(JsonNode body) =>
        new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>A field of a provider's answer that should be a string; null when it is absent or anything else.</summary>
    public static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>The provider's error message and, when the body is JSON, the body (Gemini puts its retry hint there).</summary>
    private static async Task<(string Message, JsonNode? Body)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var buffer = new byte[MaxErrorBodyBytes];
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            var read = 0;
            int n;
            while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken)) > 0)
            {
                read += n;
            }
            var text = Encoding.UTF8.GetString(buffer, 0, read);
            JsonNode? node = null;
            // Most providers answer {"error":{"message":...}} (OpenAI, Anthropic, Gemini) or {"error":"..."}; Gemini's
            // streaming endpoint wraps its error in an array; Mistral's 422 has {"message":{"detail":[...]}}, an object,
            // kept as its JSON text.
            try
            {
                node = JsonNode.Parse(text);
                var root = node is JsonArray { Count: > 0 } array ? array[0] as JsonObject : node as JsonObject;
                var error = root?["error"];
                var message = error is JsonObject ? TextOf(error["message"]) : error?.GetValueKind() == JsonValueKind.String ? (string?)error : TextOf(root?["message"]);
                if (!string.IsNullOrWhiteSpace(message))
                {
                    return ((string)message!, node);
                }
            }
            catch (JsonException)
            {
                // not JSON: use the text
            }
            return (string.IsNullOrWhiteSpace(text) ? response.ReasonPhrase ?? "no message" : text.Trim(), node);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return (response.ReasonPhrase ?? "no message", null);
        }
    }

    private static string? TextOf(JsonNode? node) => node switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        _ => node.ToJsonString(),
    };

    public void Dispose() => Client.Dispose();

    /// <summary>Each read gets the idle timeout afresh; a long answer that keeps flowing is never cut, unless it
    /// passes <see cref="ProviderHttpOptions.MaxResponseBytes"/>.</summary>
    private sealed class IdleTimeoutStream(Stream inner, TimeSpan idle, long maxBytes, string provider) : Stream
    {
        private long _read;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(idle);
            try
            {
                var n = await inner.ReadAsync(buffer, cts.Token);
                _read += n;
                return _read > maxBytes
                    ? throw new ProviderException(provider, ProviderErrorClass.Unavailable, null,
                        $"{provider} sent an answer larger than {maxBytes / (1024 * 1024)} MiB; it was cut there.")
                    : n;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ProviderException(provider, ProviderErrorClass.Timeout, null,
                    $"{provider} went silent for {idle.TotalSeconds:0} s mid-answer.");
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                throw new ProviderException(provider, ProviderErrorClass.Unavailable, null, $"{provider} cut the answer: {ex.Message}", ex);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
