using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using ZiggyCreatures.Caching.Fusion;
using HealthStates = System.Collections.Concurrent.ConcurrentDictionary<(string Provider, string Model, AigneHub.Data.ModelType Type), AigneHub.Api.Routing.ModelHealthStatus>;

namespace AigneHub.Api.Routing;

/// <summary>What is known about a provider's model: available, or the class and message of its last failure.</summary>
public sealed record ModelHealthStatus(bool Available, string? ErrorClass, string? LastError, int ResponseTimeMs, DateTimeOffset ChangedAt);

/// <summary>Reads model health, for the status route and the public model list.</summary>
public interface IModelHealthView
{
    /// <returns>Null when nothing has been recorded (treat as available).</returns>
    ValueTask<ModelHealthStatus?> GetAsync(string provider, string model, ModelType type, CancellationToken cancellationToken);
}

/// <summary>
/// Model health in memory, written to <c>model_health</c> only when availability flips or the error class
/// changes — so a healthy model costs no write per call. The table is read into the <see cref="ReplicatedCache"/>
/// (again after any replica writes a flip, and at the latest every <see cref="MaxAge"/>), and between reads this
/// replica's memory is the source of truth. A caller's own mistake (<see cref="ProviderErrorClass.BadRequest"/>)
/// says nothing about the model.
/// </summary>
public sealed partial class ModelHealthTracker(
    ReplicatedCache cache,
    IServiceScopeFactory scopes,
    TimeProvider time,
    ILogger<ModelHealthTracker> logger) : IModelHealthTracker, IModelHealthView
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    private const string CacheKey = "routing:health";

    private static readonly FusionCacheEntryOptions Entry = ReplicatedCache.Snapshot(MaxAge);

    public async ValueTask RecordAsync(ModelTarget target, ProviderException? error, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        if (error is { ErrorClass: ProviderErrorClass.BadRequest })
        {
            return;
        }
        HealthStates states;
        try
        {
            states = await StatesAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            Log.WriteFailed(logger, ex, target.Kind.Name, target.Model);
            return;
        }
        var key = (target.Kind.Name, target.Model, target.Type);
        var errorClass = error?.ErrorClass.ToString();
        if (states.TryGetValue(key, out var known) && known.Available == (error is null) && known.ErrorClass == errorClass)
        {
            return;
        }

        var now = time.GetUtcNow();
        var status = new ModelHealthStatus(error is null, errorClass, Truncate(error?.Message), (int)Math.Min(int.MaxValue, elapsed.TotalMilliseconds), now);
        // Only the caller that changes the state writes it; concurrent callers seeing the same flip do not.
        var changed = known is null ? states.TryAdd(key, status) : states.TryUpdate(key, status, known);
        if (!changed)
        {
            return;
        }
        try
        {
            await WriteAsync(key, status, cancellationToken);
            Log.Flipped(logger, target.Kind.Name, target.Model, target.Type, status.Available, errorClass);
            await cache.InvalidateAsync(CacheKey);
        }
        catch (Exception ex) when (ex is DbUpdateException or NpgsqlException or InvalidOperationException)
        {
            // Health is advisory: a failed write must never fail the call being served.
            Log.WriteFailed(logger, ex, target.Kind.Name, target.Model);
        }
    }

    public async ValueTask<ModelHealthStatus?> GetAsync(string provider, string model, ModelType type, CancellationToken cancellationToken)
    {
        var states = await StatesAsync(cancellationToken);
        return states.TryGetValue((provider.ToLowerInvariant(), model, type), out var status) ? status : null;
    }

    private ValueTask<HealthStates> StatesAsync(CancellationToken cancellationToken) =>
        cache.GetOrLoadAsync<HealthStates>(CacheKey, (_, token) => LoadAsync(token), Entry, cancellationToken);

    private async Task<HealthStates> LoadAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var rows = await db.Set<ModelHealth>().AsNoTracking().ToListAsync(cancellationToken);
        return new(
            rows.Select(r => KeyValuePair.Create((r.ProviderName, r.Model, r.Type),
                new ModelHealthStatus(r.Available, r.ErrorClass, r.LastError, r.ResponseTimeMs, r.ChangedAt))));
    }

    private async Task WriteAsync((string Provider, string Model, ModelType Type) key, ModelHealthStatus status, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        // An upsert: another replica may have written the row since this one read the table.
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO aignehub.model_health (provider_name, model, type, available, error_class, last_error, response_time_ms, changed_at, checked_at)
            VALUES ({key.Provider}, {key.Model}, {key.Type.ToString()}, {status.Available}, {status.ErrorClass}, {status.LastError}, {status.ResponseTimeMs}, {status.ChangedAt}, {status.ChangedAt})
            ON CONFLICT (provider_name, model, type) DO UPDATE SET
                available = excluded.available, error_class = excluded.error_class, last_error = excluded.last_error,
                response_time_ms = excluded.response_time_ms, changed_at = excluded.changed_at, checked_at = excluded.checked_at
            """, cancellationToken);
    }

    private static string? Truncate(string? message) => message is { Length: > 1000 } ? message[..1000] : message;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Model {Provider}/{Model} ({Type}) is now {Available} ({ErrorClass}).")]
        public static partial void Flipped(ILogger logger, string provider, string model, ModelType type, bool available, string? errorClass);

        [LoggerMessage(2, LogLevel.Warning, "Could not record the health of {Provider}/{Model}.")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string provider, string model);
    }
}
