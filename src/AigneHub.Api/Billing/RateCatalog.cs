using System.Collections.Frozen;
using AigneHub.Api.Infrastructure;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace AigneHub.Api.Billing;

/// <summary>
/// The model rates as the hot path sees them: an immutable in-memory snapshot, reloaded when any Api replica
/// changes a rate (Redis pub/sub <see cref="RateCatalog.ChangedChannel"/>) and every minute as a safety net — never
/// a database read per request. <c>GET /api/ai/models</c> reads it for its credits-per-token columns.
/// </summary>
public interface IRateCatalog
{
    /// <summary>The current snapshot (loading it on first use).</summary>
    ValueTask<RateSnapshot> GetAsync(CancellationToken cancellationToken);

    /// <summary>Reloads from the database now and tells the other replicas to do the same.</summary>
    Task ReloadAndPublishAsync(CancellationToken cancellationToken);
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

internal sealed partial class RateCatalog(IServiceScopeFactory scopes, IConnectionMultiplexer redis, ILogger<RateCatalog> logger) : IRateCatalog
{
    public static readonly RedisChannel ChangedChannel = RedisChannel.Literal("aignehub:rates:changed");

    private readonly SemaphoreSlim _loadGate = new(1, 1);
    private volatile RateSnapshot? _snapshot;

    public ValueTask<RateSnapshot> GetAsync(CancellationToken cancellationToken) =>
        _snapshot is { } snapshot ? ValueTask.FromResult(snapshot) : new(LoadFirstAsync(cancellationToken));

    public async Task ReloadAndPublishAsync(CancellationToken cancellationToken)
    {
        await ReloadAsync(cancellationToken);
        await redis.GetSubscriber().PublishAsync(ChangedChannel, "1");
    }

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var rates = await db.Set<ModelRate>().AsNoTracking().ToListAsync(cancellationToken);
        _snapshot = new RateSnapshot(rates.Select(RateCard.Of));
        Log.Reloaded(logger, rates.Count);
    }

    private async Task<RateSnapshot> LoadFirstAsync(CancellationToken cancellationToken)
    {
        await _loadGate.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is null)
            {
                await ReloadAsync(cancellationToken);
            }
            return _snapshot!;
        }
        finally
        {
            _loadGate.Release();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Model rates reloaded ({Count} rates).")]
        public static partial void Reloaded(ILogger logger, int count);
    }
}

/// <summary>Keeps the catalogue fresh: on every change notice, and every minute in case a notice was missed.</summary>
internal sealed partial class RateCatalogRefresher(
    RateCatalog catalog,
    IConnectionMultiplexer redis,
    DatabaseMigrationState migrations,
    TimeProvider time,
    ILogger<RateCatalogRefresher> logger) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(60);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await migrations.WhenReady.WaitAsync(stoppingToken);
        var subscription = await redis.GetSubscriber().SubscribeAsync(RateCatalog.ChangedChannel);
        subscription.OnMessage(async _ => await TryReloadAsync(stoppingToken));
        try
        {
            await TryReloadAsync(stoppingToken);
            using var timer = new PeriodicTimer(Period, time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TryReloadAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await subscription.UnsubscribeAsync();
        }
    }

    private async Task TryReloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            await catalog.ReloadAsync(cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // Keep serving the last good snapshot; the next notice or tick tries again.
            Log.ReloadFailed(logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Reloading model rates failed; keeping the previous rates.")]
        public static partial void ReloadFailed(ILogger logger, Exception exception);
    }
}
