using System.Collections.Concurrent;
using System.Threading.Channels;
using AigneHub.Api.Infrastructure;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.EntityFrameworkCore;
using ZiggyCreatures.Caching.Fusion;

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
    DateTimeOffset? RevokedAt,
    AccessKeyScope Scope);

/// <summary>
/// The hot-path key lookup. A cached key costs a SHA-256 and an in-memory hit; the database is read at most once
/// per <see cref="CacheFor"/> per key and replica (a key in use is reloaded in the background, so requests do not
/// wait for it). Revocation (and disabling a user or changing a role) goes through
/// <see cref="AccessKeyRevocations"/>, which expires the entry on every replica over the
/// <see cref="ReplicatedCache"/> backplane, so it takes effect at once; the short TTL is the safety net should a
/// message be lost (e.g. a replica briefly disconnected from Redis).
/// </summary>
public sealed class AccessKeyCache(ReplicatedCache cache, IServiceScopeFactory scopes)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    private static readonly FusionCacheEntryOptions Entry = ReplicatedCache.Lookup(CacheFor);

    public static string CacheKey(byte[] hash) => "ak:" + Convert.ToHexString(hash);

    public ValueTask<CachedAccessKey?> FindAsync(byte[] hash, CancellationToken cancellationToken) =>
        cache.GetOrLoadAsync<CachedAccessKey?>(CacheKey(hash), (context, token) => LoadAsync(hash, context, token), Entry, cancellationToken);

    private async Task<CachedAccessKey?> LoadAsync(byte[] hash, FusionCacheFactoryExecutionContext<CachedAccessKey?> context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var found = await db.AccessKeys.AsNoTracking()
            .Where(k => k.Hash == hash)
            .Select(k => new { k.Id, k.UserId, k.Hash, k.User!.Role, k.User.Disabled, k.Kind, k.ExpiresAt, k.RevokedAt, k.Scope })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            // Not cached: unknown keys are remembered by Abuse.UnknownCredentialGuard (size-bounded), so a flood of
            // made-up keys cannot fill this shared cache.
            context.Options.SkipMemoryCacheWrite = true;
            return null;
        }
        return new CachedAccessKey(found.Id, found.UserId, found.Hash, RoleNames.Of(found.Role), found.Disabled,
            found.Kind, found.ExpiresAt, found.RevokedAt, found.Scope);
    }
}

/// <summary>
/// Invalidates cached keys on every replica, this one included (at once here; elsewhere as soon as Redis delivers
/// the message). Call it after the database change: revoking a key, disabling a user, changing a role.
/// </summary>
public sealed class AccessKeyRevocations(ReplicatedCache cache)
{
    /// <summary>Never throws for Redis: the database change has happened and the TTL bounds how long another
    /// replica may still accept the key.</summary>
    public async Task PublishAsync(IEnumerable<byte[]> hashes)
    {
        foreach (var hash in hashes)
        {
            await cache.InvalidateAsync(AccessKeyCache.CacheKey(hash));
        }
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

public static class ScopeNames
{
    public const string Inference = "inference";
    public const string Full = "full";

    public static string Of(AccessKeyScope scope) => scope == AccessKeyScope.Full ? Full : Inference;

    public static bool TryParse(string? value, out AccessKeyScope scope)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case Inference: scope = AccessKeyScope.Inference; return true;
            case Full: scope = AccessKeyScope.Full; return true;
            default: scope = AccessKeyScope.Inference; return false;
        }
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
