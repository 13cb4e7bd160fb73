using System.Threading.RateLimiting;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AigneHub.Api.Abuse;

/// <summary>
/// Keeps made-up credentials (random bearer tokens, random <c>x-app-id</c>s) from turning into database queries.
/// <list type="bullet">
/// <item>A credential found not to exist is remembered per replica in a size-bounded cache, so repeating it is free.</item>
/// <item>Each distinct one counts against the caller's address (<see cref="ClientLimitOptions.UnknownCredentialsPerMinute"/>,
/// in Redis across replicas). Past the limit the address is refused with 429 before any lookup, remembered locally
/// until its window ends so that a refused flood costs neither Postgres nor Redis.</item>
/// </list>
/// Valid credentials never count, so a working client is never slowed. The authentication handlers call
/// <see cref="RetryAfter"/> and <see cref="IsKnownUnknown"/> before their lookup, <see cref="RecordUnknownAsync"/> after a miss.
/// </summary>
public sealed class UnknownCredentialGuard : IDisposable
{
    private readonly MemoryCache _unknown;
    private readonly MemoryCache _refused;
    private readonly ClientLimitOptions _options;
    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeProvider _time;

    public UnknownCredentialGuard(IOptions<ClientLimitOptions> options, IConnectionMultiplexer redis, TimeProvider time, ILogger<UnknownCredentialGuard> logger)
    {
        _options = options.Value;
        _time = time;
        // Size 1 per entry: the limit is a count. A full cache simply stops remembering (and compacts), it never grows.
        _unknown = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.NegativeCacheEntries });
        _refused = new MemoryCache(new MemoryCacheOptions { SizeLimit = _options.NegativeCacheEntries });
        _limiter = PartitionedRateLimiter.Create<string, string>(address => ClientRateLimits.RedisPartition(
            "aignehub:client:unknown-credential:" + address, _options.UnknownCredentialsPerMinute, redis, logger));
    }

    /// <summary>Seconds until this address may present unknown credentials again, or null when it may now.</summary>
    public int? RetryAfter(HttpContext context) =>
        _refused.TryGetValue(ClientAddress.PartitionOf(context), out DateTimeOffset until) && until > _time.GetUtcNow()
            ? (int)Math.Max(1, Math.Ceiling((until - _time.GetUtcNow()).TotalSeconds))
            : null;

    /// <param name="credential">A kind-prefixed lookup key, e.g. <c>ak:&lt;hash&gt;</c> or <c>app:&lt;id&gt;</c>.</param>
    public bool IsKnownUnknown(string credential) => _unknown.TryGetValue(credential, out _);

    /// <summary>Remembers <paramref name="credential"/> as unknown and counts it against the caller; returns the
    /// seconds to wait when this one took the address over its limit, else null.</summary>
    public async ValueTask<int?> RecordUnknownAsync(HttpContext context, string credential)
    {
        _unknown.Set(credential, true, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = _options.NegativeCacheFor });
        var address = ClientAddress.PartitionOf(context);
        using var lease = await _limiter.AcquireAsync(address, 1, context.RequestAborted);
        if (lease.IsAcquired)
        {
            return null;
        }
        var seconds = ClientRateLimits.RetryAfterOf(lease);
        _refused.Set(address, _time.GetUtcNow().AddSeconds(seconds),
            new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(seconds) });
        return seconds;
    }

    public void Dispose()
    {
        _unknown.Dispose();
        _refused.Dispose();
        _limiter.Dispose();
    }
}

/// <summary>The failure an authentication handler reports for an address refused by <see cref="UnknownCredentialGuard"/>;
/// its challenge answers 429 with <c>Retry-After</c> instead of 401.</summary>
public sealed class TooManyUnknownCredentialsException(int retryAfterSeconds)
    : Exception("Too many unknown credentials from this address; retry after the indicated time.")
{
    public int RetryAfterSeconds { get; } = retryAfterSeconds;

    /// <summary>Writes the 429 when <paramref name="failure"/> is one; false otherwise.</summary>
    public static async Task<bool> TryWriteAsync(Exception? failure, HttpResponse response)
    {
        if (failure is not TooManyUnknownCredentialsException refused)
        {
            return false;
        }
        await ClientRateLimits.WriteRefusalAsync(response, refused.RetryAfterSeconds, refused.Message);
        return true;
    }
}
