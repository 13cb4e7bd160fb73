using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Abuse;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AigneHub.Api.Identity;

/// <summary>
/// Password sign-in throttling across replicas (Redis, one Lua script per attempt, so a concurrent burst cannot slip
/// past it). Two counters, so that an attacker can neither guess fast nor lock the real person out:
/// <list type="bullet">
/// <item>Per (email, client address): <see cref="AuthOptions.MaxFailedLogins"/> attempts are free, then each
/// further one has to wait 1 s, 2 s, 4 s, … (at most <see cref="AuthOptions.LockoutWindow"/>) after the previous.
/// The count is forgotten <see cref="AuthOptions.LockoutWindow"/> after the last attempt, and a success clears it.
/// Someone guessing from one address is slowed to a crawl; the owner at another address is not affected at all.</item>
/// <item>Per email, across addresses: failures within <see cref="AuthOptions.LockoutWindow"/>. Past
/// <see cref="AuthOptions.MaxFailedLoginsPerEmail"/> the email is under attack from many addresses, and every
/// address gets a single free attempt before the delays start. That slows a botnet to one guess per address plus
/// the delays, while a correct password from a new address still signs in at its first attempt: a ceiling that
/// slows, never one that locks out.</item>
/// </list>
/// IPv6 clients are counted per /64, the block one subscriber usually holds.
/// </summary>
public sealed class LoginThrottle(IConnectionMultiplexer redis, IOptions<AuthOptions> options, TimeProvider time)
{
    /// <summary>The wait after the first attempt beyond the free ones; it doubles per attempt.</summary>
    public static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    /// <summary>Free attempts per address while the email is over its ceiling.</summary>
    public const int FreeAttemptsUnderAttack = 1;

    // KEYS[1] the (email, address) hash {count, next}; KEYS[2] the email's failure counter.
    // ARGV: now ms, window ms, free attempts, free attempts under attack, email ceiling, first delay ms, longest delay ms.
    // Answers 0 (go ahead; the attempt is counted as a failure until Succeeded is called) or the ms left to wait.
    private const string ReserveScript = """
        local now = tonumber(ARGV[1])
        local nextAt = tonumber(redis.call('HGET', KEYS[1], 'next') or '0')
        if nextAt > now then return nextAt - now end
        local free = tonumber(ARGV[3])
        if tonumber(redis.call('GET', KEYS[2]) or '0') >= tonumber(ARGV[5]) then free = tonumber(ARGV[4]) end
        local count = redis.call('HINCRBY', KEYS[1], 'count', 1)
        if count >= free then
          redis.call('HSET', KEYS[1], 'next', now + math.min(tonumber(ARGV[7]), tonumber(ARGV[6]) * 2 ^ (count - free)))
        end
        redis.call('PEXPIRE', KEYS[1], ARGV[2])
        if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
        return 0
        """;

    // A success: the address starts afresh, and the attempt is taken back from the email's failure count.
    private const string SucceededScript = """
        redis.call('DEL', KEYS[1])
        if redis.call('GET', KEYS[2]) and redis.call('DECR', KEYS[2]) <= 0 then redis.call('DEL', KEYS[2]) end
        return 0
        """;

    /// <summary>Counts an attempt before the password is checked; returns how long to wait when it must not be made.</summary>
    public async Task<TimeSpan?> TryReserveAsync(string email, IPAddress? client)
    {
        var o = options.Value;
        var wait = (long)await redis.GetDatabase().ScriptEvaluateAsync(ReserveScript, Keys(email, client),
        [
            time.GetUtcNow().ToUnixTimeMilliseconds(),
            (long)o.LockoutWindow.TotalMilliseconds,
            o.MaxFailedLogins,
            FreeAttemptsUnderAttack,
            o.MaxFailedLoginsPerEmail,
            (long)FirstDelay.TotalMilliseconds,
            (long)o.LockoutWindow.TotalMilliseconds,
        ]);
        return wait > 0 ? TimeSpan.FromMilliseconds(wait) : null;
    }

    public async Task SucceededAsync(string email, IPAddress? client) =>
        await redis.GetDatabase().ScriptEvaluateAsync(SucceededScript, Keys(email, client));

    /// <summary>Both keys share the email's hash tag, so the script's keys live on one Redis Cluster slot.</summary>
    private static RedisKey[] Keys(string email, IPAddress? client)
    {
        var tag = Hash(email);
        return [$"aignehub:login:{{{tag}}}:from:{Hash(ClientAddress.PartitionOf(client))}", $"aignehub:login:{{{tag}}}:failures"];
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>Whole seconds for <c>Retry-After</c>, at least one.</summary>
    public static string RetryAfterSeconds(TimeSpan wait) =>
        ((long)Math.Max(1, Math.Ceiling(wait.TotalSeconds))).ToString(CultureInfo.InvariantCulture);
}
