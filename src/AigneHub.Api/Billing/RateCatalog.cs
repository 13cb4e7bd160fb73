using System.Collections.Frozen;
using AigneHub.Api.Infrastructure;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.EntityFrameworkCore;
using ZiggyCreatures.Caching.Fusion;

namespace AigneHub.Api.Billing;

/// <summary>
/// The model rates as the hot path sees them: an immutable in-memory snapshot in the
/// <see cref="ReplicatedCache"/>, reloaded when any Api replica changes a rate (<see cref="InvalidateAsync"/>) and
/// every minute as a safety net (in the background while it is in use) — never a database read per request. While
/// Postgres cannot be read the previous rates keep serving. <c>GET /api/ai/models</c> reads it for its
/// credits-per-token columns.
/// </summary>
public interface IRateCatalog
{
    /// <summary>The current snapshot (loading it on first use).</summary>
    ValueTask<RateSnapshot> GetAsync(CancellationToken cancellationToken);

    /// <summary>The rates changed in the database: this replica and every other reload them on next use.</summary>
    ValueTask InvalidateAsync();
}

/// <summary>Rates keyed by provider + model + type (provider and model compared case-insensitively).</summary>
public sealed class RateSnapshot
{
    private readonly FrozenDictionary<RateKey, RateCard> _byKey;

    public RateSnapshot(IEnumerable<RateCard> rates)
    {
        All = [.. rates.OrderBy(r => r.Provider, StringComparer.Ordinal).ThenBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Type)];
        _byKey = All.ToFrozenDictionary(r => new RateKey(r.Provider, r.Model, r.Type), RateKeyComparer.Instance);
    }

    public IReadOnlyList<RateCard> All { get; }

    public RateCard? Find(string provider, string model, ModelType type) =>
        _byKey.TryGetValue(new RateKey(provider, model, type), out var rate) ? rate : null;

    private readonly record struct RateKey(string Provider, string Model, ModelType Type);

    private sealed class RateKeyComparer : IEqualityComparer<RateKey>
    {
        public static readonly RateKeyComparer Instance = new();

        public bool Equals(RateKey x, RateKey y) =>
            x.Type == y.Type
            && string.Equals(x.Provider, y.Provider, StringComparison.OrdinalIgnoreCase)
            && string.Equals(x.Model, y.Model, StringComparison.OrdinalIgnoreCase);

        public int GetHashCode(RateKey key) => HashCode.Combine(
            StringComparer.OrdinalIgnoreCase.GetHashCode(key.Provider),
            StringComparer.OrdinalIgnoreCase.GetHashCode(key.Model),
            key.Type);
    }
}

internal sealed partial class RateCatalog(ReplicatedCache cache, IServiceScopeFactory scopes, ILogger<RateCatalog> logger) : IRateCatalog
{
    private const string CacheKey = "billing:rates";

    private static readonly FusionCacheEntryOptions Entry = ReplicatedCache.Snapshot(TimeSpan.FromSeconds(60));

    public ValueTask<RateSnapshot> GetAsync(CancellationToken cancellationToken) =>
        cache.GetOrLoadAsync<RateSnapshot>(CacheKey, (_, token) => LoadAsync(token), Entry, cancellationToken);

    public ValueTask InvalidateAsync() => cache.InvalidateAsync(CacheKey);

    private async Task<RateSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var rates = await db.Set<ModelRate>().AsNoTracking().ToListAsync(cancellationToken);
        Log.Reloaded(logger, rates.Count);
        return new RateSnapshot(rates.Select(RateCard.Of));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Model rates reloaded ({Count} rates).")]
        public static partial void Reloaded(ILogger logger, int count);
    }
}
