using System.Collections.Concurrent;
using System.Threading.Channels;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using StackExchange.Redis;

namespace AigneHub.Api.Identity;

/// <summary>What the hot path needs to know about a key, cached in memory by the key's hash.</summary>
public sealed record CachedAccessKey(
    Guid KeyId,
    Guid UserId,
    byte[] Hash,
    string Role,
    bool UserDisabled,
    AccessKeyKind Kind,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt);

/// <summary>
/// The hot-path key lookup. A cached key costs a SHA-256 and a dictionary hit; the database is read at most once
/// per <see cref="CacheFor"/> per key and replica. Revocation (and disabling a user or changing a role) is pushed
/// to every replica over Redis pub/sub by <see cref="AccessKeyRevocations"/>, so it takes effect at once; the
/// short TTL is the safety net should a message be lost (e.g. a replica briefly disconnected from Redis).
/// </summary>
public sealed class AccessKeyCache(IMemoryCache cache, IServiceScopeFactory scopes)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    public static string CacheKey(string hashHex) => "ak:" + hashHex;

    public async ValueTask<CachedAccessKey?> FindAsync(byte[] hash, CancellationToken cancellationToken)
    {
        var cacheKey = CacheKey(Convert.ToHexString(hash));
        if (cache.TryGetValue(cacheKey, out var hit))
        {
            return hit as CachedAccessKey;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var found = await db.AccessKeys.AsNoTracking()
            .Where(k => k.Hash == hash)
            .Select(k => new { k.Id, k.UserId, k.Hash, k.User!.Role, k.User.Disabled, k.Kind, k.ExpiresAt, k.RevokedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            // Unknown keys are remembered by Abuse.UnknownCredentialGuard (size-bounded), not in this shared cache.
            return null;
        }
        var entry = new CachedAccessKey(found.Id, found.UserId, found.Hash, RoleNames.Of(found.Role), found.Disabled,
            found.Kind, found.ExpiresAt, found.RevokedAt);
        cache.Set(cacheKey, entry, CacheFor);
        return entry;
    }

    public void Evict(string hashHex) => cache.Remove(CacheKey(hashHex.ToUpperInvariant()));
}

/// <summary>
/// Publishes key invalidations on the Redis channel <see cref="Channel"/> (message: the key's SHA-256 in hex) and
/// evicts on every replica that hears one, this one included.
/// </summary>
public sealed partial class AccessKeyRevocations(
    IConnectionMultiplexer redis,
    AccessKeyCache cache,
    ILogger<AccessKeyRevocations> logger) : IHostedService
{
    public const string Channel = "aignehub:keys:revoked";
    private static readonly RedisChannel RedisChannelName = RedisChannel.Literal(Channel);

    /// <summary>Evicts locally at once, then tells the other replicas. A Redis failure is logged, not thrown: the
    /// database change has happened and the TTL bounds how long another replica may still accept the key.</summary>
    public async Task PublishAsync(IEnumerable<byte[]> hashes)
    {
        foreach (var hash in hashes)
        {
            var hex = Convert.ToHexString(hash);
            cache.Evict(hex);
            try
            {
                await redis.GetSubscriber().PublishAsync(RedisChannelName, hex);
            }
            catch (RedisException ex)
            {
                Log.PublishFailed(logger, ex);
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await redis.GetSubscriber().SubscribeAsync(RedisChannelName, (_, message) =>
            {
                if (message.HasValue)
                {
                    cache.Evict(message!);
                }
            });
        }
        catch (RedisException ex)
        {
            // Starting without Redis beats not starting: the TTL still bounds how long a revoked key lives here.
            Log.SubscribeFailed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        redis.GetSubscriber().UnsubscribeAsync(RedisChannelName);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Publishing an access-key revocation failed; other replicas drop the key when their cache entry expires.")]
        public static partial void PublishFailed(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Error, "Subscribing to access-key revocations failed; revocations by other replicas reach this one only by cache expiry (30 s).")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception);
    }
}

/// <summary>
/// Records <c>LastUsedAt</c> / <c>LastSeenAt</c> off the request path: at most one write per key per
/// <see cref="Interval"/> per replica, batched by a background loop.
/// </summary>
public sealed partial class AccessKeyUsageRecorder(
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<AccessKeyUsageRecorder> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Guid, long> _lastRecorded = new();
    private readonly Channel<(Guid KeyId, Guid UserId)> _pending =
        System.Threading.Channels.Channel.CreateBounded<(Guid, Guid)>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Touch(Guid keyId, Guid userId)
    {
        var now = time.GetTimestamp();
        if (_lastRecorded.TryGetValue(keyId, out var last) && time.GetElapsedTime(last, now) < Interval)
        {
            return;
        }
        _lastRecorded[keyId] = now;
        _pending.Writer.TryWrite((keyId, userId));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _pending.Reader;
        while (await reader.WaitToReadAsync(stoppingToken))
        {
            var keys = new HashSet<Guid>();
            var users = new HashSet<Guid>();
            while (keys.Count < 500 && reader.TryRead(out var item))
            {
                keys.Add(item.KeyId);
                users.Add(item.UserId);
            }
            try
            {
                var now = time.GetUtcNow();
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
                await db.AccessKeys.Where(k => keys.Contains(k.Id)).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), stoppingToken);
                await db.Users.Where(u => users.Contains(u.Id)).ExecuteUpdateAsync(s => s.SetProperty(u => u.LastSeenAt, now), stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.RecordFailed(logger, ex, keys.Count);
            }
            Prune();
        }
    }

    private void Prune()
    {
        if (_lastRecorded.Count < 50_000)
        {
            return;
        }
        var now = time.GetTimestamp();
        foreach (var (key, last) in _lastRecorded)
        {
            if (time.GetElapsedTime(last, now) >= Interval)
            {
                _lastRecorded.TryRemove(key, out _);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Recording last use of {Count} access keys failed.")]
        public static partial void RecordFailed(ILogger logger, Exception exception, int count);
    }
}

public static class RoleNames
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Member = "member";
    public const string Guest = "guest";

    public static string Of(UserRole role) => role switch
    {
        UserRole.Owner => Owner,
        UserRole.Admin => Admin,
        UserRole.Member => Member,
        _ => Guest,
    };

    public static bool TryParse(string? value, out UserRole role)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case Owner: role = UserRole.Owner; return true;
            case Admin: role = UserRole.Admin; return true;
            case Member: role = UserRole.Member; return true;
            case Guest: role = UserRole.Guest; return true;
            default: role = UserRole.Guest; return false;
        }
    }
}
