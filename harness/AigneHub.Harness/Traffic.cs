using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace AigneHub.Harness;

/// <summary>What one call got: its status, its call id, whether a refusal said when to retry, whether the answer was
/// whole (JSON with choices, or a stream up to <c>[DONE]</c>), an in-stream error event, exception text in the body;
/// when the first bytes of the body arrived (a stream's first event) and the longest wait between two reads of it.</summary>
public sealed record CallOutcome(string RequestId, bool Streaming, int? Status, Guid? CallId, bool RetryAfter, bool Completed,
    bool StreamError, bool ExceptionText, string? Transport, string Snippet, TimeSpan Took, DateTimeOffset SentAt, Uri Api,
    TimeSpan? FirstBytes = null, TimeSpan LongestGap = default)
{
    public bool Served => Status == 200 && Completed;

    public bool Refused => Status is 429 or 503 or 529 && RetryAfter;

    public bool Failed => !Served && !Refused;
}

/// <summary>Sends chat calls to the Api over real HTTP (loopback only) and keeps every outcome.</summary>
public sealed class Traffic : IDisposable
{
    /// <summary>Text that never belongs in a caller's body: exception type names and stack frames.</summary>
    private static readonly string[] ExceptionMarkers = ["Exception", "   at ", "Npgsql", "StackExchange", "System."];

    private readonly HttpClient _client;

    public Traffic(TimeSpan perCall)
    {
        _client = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = int.MaxValue,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
        })
        { Timeout = perCall };
    }

    public ConcurrentQueue<CallOutcome> Outcomes { get; } = new();

    /// <summary>One chat call to <paramref name="path"/> on <paramref name="api"/> (the Api's route unless told: the
    /// benchmark sends the same body straight to the provider, or to a forwarder in front of it).</summary>
    public async Task<CallOutcome> CallAsync(Uri api, string key, bool stream, int holdMs, CancellationToken ct = default,
        string path = "/api/v2/chat/completions")
    {
        var requestId = Guid.NewGuid().ToString("N");
        var sentAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var body = $$"""{"model":"{{Hub.Model}}","stream":{{(stream ? "true" : "false")}},"max_tokens":50,"messages":[{"role":"user","content":"hold={{holdMs}}"}]}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, path))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", key);
        request.Headers.Add("x-request-id", requestId);
        int? status = null;
        Guid? callId = null;
        var retryAfter = false;
        var text = new StringBuilder();
        string? transport = null;
        TimeSpan? firstBytes = null;
        var longestGap = TimeSpan.Zero;
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            callId = response.Headers.TryGetValues("x-aignehub-call-id", out var ids) && Guid.TryParse(ids.First(), out var g) ? g : null;
            retryAfter = response.Headers.RetryAfter is not null;
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            var buffer = new char[4096];
            int read;
            var lastRead = clock.Elapsed;
            while ((read = await reader.ReadAsync(buffer, ct)) > 0 && text.Length < 64 * 1024)
            {
                var now = clock.Elapsed;
                firstBytes ??= now;
                longestGap = now - lastRead > longestGap && text.Length > 0 ? now - lastRead : longestGap;
                lastRead = now;
                text.Append(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            transport = ex.GetType().Name + ": " + ex.Message;
        }
        var all = text.ToString();
        var completed = transport is null && status == 200 && (stream ? all.Contains("data: [DONE]", StringComparison.Ordinal) : all.Contains("\"choices\"", StringComparison.Ordinal));
        var outcome = new CallOutcome(requestId, stream, status, callId, retryAfter, completed,
            StreamError: stream && all.Contains("\"error\"", StringComparison.Ordinal),
            ExceptionText: ExceptionMarkers.Any(m => all.Contains(m, StringComparison.Ordinal)),
            transport, all.Length > 300 ? all[..300] : all, clock.Elapsed, sentAt, api, firstBytes, longestGap);
        Outcomes.Enqueue(outcome);
        return outcome;
    }

    /// <summary>Keeps <paramref name="concurrency"/> callers busy until <paramref name="until"/> is cancelled or
    /// <paramref name="maxCalls"/> calls were sent, whichever comes first (every loop bounded in count and time).</summary>
    public async Task LoadAsync(Func<int, (Uri Api, string Key, bool Stream, int HoldMs)> next, int concurrency, int maxCalls, CancellationToken until)
    {
        var sent = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            while (!until.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sent);
                if (n > maxCalls)
                {
                    return;
                }
                var (api, key, stream, hold) = next(n);
                var outcome = await CallAsync(api, key, stream, hold);
                if (outcome.Transport is not null && !until.IsCancellationRequested)
                {
                    await Task.Delay(100, CancellationToken.None); // a refused connection answers at once: do not spin
                }
            }
        }));
    }

    /// <summary>Sends a new call every <paramref name="every"/> whether or not the earlier ones were answered (so a
    /// stall does not stop the arrivals, as it stops <see cref="LoadAsync"/>'s callers), bounded in count and time.</summary>
    public async Task PaceAsync(Func<int, (Uri Api, string Key, bool Stream, int HoldMs)> next, TimeSpan every, int maxCalls, CancellationToken until)
    {
        var calls = new List<Task>();
        for (var n = 1; n <= maxCalls && !until.IsCancellationRequested; n++)
        {
            var (api, key, stream, hold) = next(n);
            calls.Add(CallAsync(api, key, stream, hold));
            try
            {
                await Task.Delay(every, until);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(calls);
    }

    public void Dispose() => _client.Dispose();
}
