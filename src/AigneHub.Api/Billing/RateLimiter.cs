using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AigneHub.Api.Billing;

/// <summary>
/// Requests and tokens per minute, per access key and per user, counted in Redis so that the limits hold across
/// every Api replica. Called by <see cref="ICallRecorder.StartAsync"/> before any database work.
/// </summary>
public interface IRateLimiter
{
    /// <summary>Counts one request and <paramref name="tokens"/> tokens and returns null, or returns a
    /// <see cref="RefusalKind.RateLimited"/> refusal (nothing counted) when any limit would be exceeded.</summary>
    ValueTask<Refusal?> AcquireAsync(Guid? userId, Guid? accessKeyId, int tokens, CancellationToken cancellationToken);

    /// <summary>Adds tokens learnt after the fact (the output), without refusing anything.</summary>
    ValueTask AddTokensAsync(Guid? userId, Guid? accessKeyId, int tokens);

    bool CountsTokens { get; }
}

/// <summary>
/// Fixed one-minute windows. One Lua script checks every counter first and increments only if all fit, so a
/// refused request costs nothing and concurrent requests on different replicas cannot both squeeze past a limit.
/// All of a user's counters share a hash tag (the user id), so the script stays on one shard in a cluster.
/// </summary>
internal sealed partial class RedisRateLimiter(IConnectionMultiplexer redis, IOptionsMonitor<RateLimitOptions> options, ILogger<RedisRateLimiter> logger) : IRateLimiter
{
    /// <summary>How long a caller is asked to wait while Redis cannot count its requests.</summary>
    private static readonly TimeSpan RedisDownRetryAfter = TimeSpan.FromSeconds(5);

    private const long WindowMs = 60_000;

    private const string Script = """
        local window = tonumber(ARGV[1])
        for i = 1, #KEYS do
          local inc = tonumber(ARGV[2 * i])
          local limit = tonumber(ARGV[2 * i + 1])
          if limit > 0 then
            local current = tonumber(redis.call('GET', KEYS[i]) or '0')
            if current + inc > limit then
              local ttl = redis.call('PTTL', KEYS[i])
              if ttl < 0 then ttl = window end
              return ttl
            end
          end
        end
        for i = 1, #KEYS do
          local inc = tonumber(ARGV[2 * i])
          if inc > 0 then
            local value = redis.call('INCRBY', KEYS[i], inc)
            if value == inc then redis.call('PEXPIRE', KEYS[i], window) end
          end
        end
        return 0
        """;

    public bool CountsTokens => options.CurrentValue.AnyTokens;

    public async ValueTask<Refusal?> AcquireAsync(Guid? userId, Guid? accessKeyId, int tokens, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        if (!o.Any)
        {
            return null;
        }
        List<RedisKey> keys = [];
        List<RedisValue> args = [WindowMs];
        Add(keys, args, userId, accessKeyId, o, requests: 1, tokens, withLimits: true);
        if (keys.Count == 0)
        {
            return null;
        }
        long retryMs;
        try
        {
            retryMs = (long)await redis.GetDatabase().ScriptEvaluateAsync(Script, [.. keys], [.. args]);
        }
        catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
        {
            // Configured limits that cannot be checked are not waived: the call is refused (and recorded) until
            // Redis answers again.
            Log.RedisUnavailable(logger, ex);
            return new Refusal(RefusalKind.Unavailable, "Rate limits cannot be checked right now; retry shortly.") { RetryAfter = RedisDownRetryAfter };
        }
        return retryMs > 0
            ? new Refusal(RefusalKind.RateLimited, "Rate limit exceeded; retry after the indicated time.") { RetryAfter = TimeSpan.FromMilliseconds(retryMs) }
            : null;
    }

    public async ValueTask AddTokensAsync(Guid? userId, Guid? accessKeyId, int tokens)
    {
        var o = options.CurrentValue;
        if (!o.AnyTokens || tokens <= 0)
        {
            return;
        }
        List<RedisKey> keys = [];
        List<RedisValue> args = [WindowMs];
        Add(keys, args, userId, accessKeyId, o, requests: 0, tokens, withLimits: false);
        if (keys.Count > 0)
        {
            try
            {
                await redis.GetDatabase().ScriptEvaluateAsync(Script, [.. keys], [.. args], CommandFlags.FireAndForget);
            }
            catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
            {
                // Output tokens learnt after the answer: losing them loosens a limit for a minute, nothing more.
                Log.RedisUnavailable(logger, ex);
            }
        }
    }

    private static void Add(List<RedisKey> keys, List<RedisValue> args, Guid? userId, Guid? accessKeyId, RateLimitOptions o, int requests, int tokens, bool withLimits)
    {
        // The user id is the hash tag of every counter of the call; a key without a user has its own tag.
        var tag = userId?.ToString("N") ?? accessKeyId?.ToString("N");
        if (tag is null)
        {
            return;
        }
        if (accessKeyId is { } key)
        {
            Counter(keys, args, $"aignehub:rl:{{{tag}}}:key:{key:N}:req", requests, withLimits ? o.PerKey.RequestsPerMinute : 0);
            Counter(keys, args, $"aignehub:rl:{{{tag}}}:key:{key:N}:tok", tokens, withLimits ? o.PerKey.TokensPerMinute : 0);
        }
        if (userId is { } user)
        {
            Counter(keys, args, $"aignehub:rl:{{{tag}}}:user:{user:N}:req", requests, withLimits ? o.PerUser.RequestsPerMinute : 0);
            Counter(keys, args, $"aignehub:rl:{{{tag}}}:user:{user:N}:tok", tokens, withLimits ? o.PerUser.TokensPerMinute : 0);
        }
    }

    private static void Counter(List<RedisKey> keys, List<RedisValue> args, string key, int increment, int limit)
    {
        keys.Add(key);
        args.Add(increment);
        args.Add(limit);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Redis is unavailable to the rate limiter; calls are refused with 503 until it answers.")]
        public static partial void RedisUnavailable(ILogger logger, Exception exception);
    }
}
