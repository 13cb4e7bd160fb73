using System.Reflection;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;

namespace AigneHub.Api.Infrastructure;

/// <summary>Configuration <c>AigneHub:Cache</c>.</summary>
public sealed class ReplicatedCacheOptions
{
    public const string Section = "AigneHub:Cache";

    /// <summary>
    /// Prefix of the Redis pub/sub channel the replicas of one deployment invalidate each other's caches on.
    /// Pub/sub ignores the Redis database number, so two deployments sharing a Redis server need different
    /// prefixes (the tests give every test deployment its own).
    /// </summary>
    public string ChannelPrefix { get; set; } = "aignehub:cache";
}

/// <summary>
/// The one in-memory cache of the Api's hot path (access keys, apps, the provider, health and rate snapshots),
/// kept coherent across replicas: a change calls <see cref="InvalidateAsync"/>, which expires the entry here at
/// once and, through FusionCache's Redis backplane, on every other replica. A hit is a memory lookup, never a
/// Redis round trip.
/// <list type="bullet">
/// <item>Memory only, no distributed level: every source is a cheap Postgres read, the provider snapshot holds
/// decrypted credentials that must never leave the process, and the health and credential state is per replica.
/// So the backplane carries only invalidations (FusionCache's automatic "set" notifications are off: without a
/// shared level every load would evict the other replicas' copies).</item>
/// <item>Redis down: every replica keeps serving what it has; an entry is at most its own freshness old
/// (30–60 s) before it is reloaded from Postgres. FusionCache's circuit breaker stops trying Redis for 30 s at a
/// time, so an outage is logged once per 30 s, not once per message; its auto-recovery re-sends the invalidations
/// Redis missed when it is back.</item>
/// <item>An invalidation that arrives while a load is running may describe a change that load did not see; the
/// loaded value is then handed to its callers but not cached, so the next read loads again.</item>
/// </list>
/// </summary>
public sealed partial class ReplicatedCache : IHostedService, IDisposable
{
    /// <summary>Invalidations go to every replica (reads never notify anyone), and the change's request waits for
    /// Redis to take the message, so a caller told "done" can rely on the other replicas having been told.</summary>
    private static readonly FusionCacheEntryOptions Broadcast = new() { SkipBackplaneNotifications = false, AllowBackgroundBackplaneOperations = false };

    private static readonly FusionCacheEntryOptions LocalOnly = new() { SkipBackplaneNotifications = true };

    private readonly FusionCache _cache;
    private readonly ILogger _logger;

    /// <summary>Counts invalidations seen here (local or from another replica) so a load can tell one raced it.</summary>
    private long _invalidations;

    public ReplicatedCache(IConnectionMultiplexer redis, IOptions<ReplicatedCacheOptions> options, ILogger<ReplicatedCache> logger,
        ILogger<RedisBackplane> backplaneLogger)
    {
        _logger = logger;
        _cache = new FusionCache(new FusionCacheOptions
        {
            CacheName = "aignehub",
            BackplaneChannelPrefix = options.Value.ChannelPrefix,
            // Subscribed before the host serves, so no invalidation published after start-up is missed.
            WaitForInitialBackplaneSubscribe = true,
            // No tags are used; without them a hit skips FusionCache's tag and clear bookkeeping.
            DisableTagging = true,
            // The invalidation counter must move before the message is applied, not on a thread-pool hop later.
            EnableSyncEventHandlersExecution = true,
            // Redis failing opens the breaker for 30 s: one log line (below) instead of one per message.
            BackplaneCircuitBreakerDuration = TimeSpan.FromSeconds(30),
            DefaultEntryOptions = LocalOnly,
            // No FusionCache logger: with one, every hit pays for an operation id. What deserves a line is logged
            // here: failed loads (with their exception) and the backplane going down and coming back.
        }, memoryCache: null, logger: null);
        _cache.Events.Backplane.CircuitBreakerChange += (_, e) =>
        {
            if (e.IsClosed)
            {
                Log.BackplaneRestored(_logger);
            }
            else
            {
                Log.BackplaneDown(_logger);
            }
        };
        _cache.Events.Backplane.MessageReceived += (_, e) =>
        {
            Interlocked.Increment(ref _invalidations);
            // FusionCache ignores a remote expiry for an entry loaded after the sender's clock said the change
            // happened; with clock skew that entry can predate the change, so expire it here unconditionally.
            if (e.Message.Action == BackplaneMessageAction.EntryExpire && e.Message.CacheKey is { } key)
            {
                _cache.Expire(key, LocalOnly);
            }
        };
        _cache.SetupBackplane(new RedisBackplane(new RedisBackplaneOptions
        {
            ConnectionMultiplexerFactory = () => Task.FromResult(BorrowedMultiplexer.Wrap(redis)),
        }, backplaneLogger));
    }

    /// <summary>
    /// For entries looked up by id (an access key, an app): fresh for <paramref name="freshFor"/>, reloaded in the
    /// background by a hit in its last tenth; a failed load fails the caller (never a stale answer about a
    /// credential).
    /// </summary>
    public static FusionCacheEntryOptions Lookup(TimeSpan freshFor) => new()
    {
        Duration = freshFor,
        EagerRefreshThreshold = 0.9f,
        SkipBackplaneNotifications = true,
    };

    /// <summary>
    /// For whole-table snapshots (providers, health, rates): as <see cref="Lookup"/>, but when Postgres cannot be
    /// read the last snapshot keeps serving, and the load is retried every 5 s rather than on every request.
    /// </summary>
    public static FusionCacheEntryOptions Snapshot(TimeSpan freshFor) => new()
    {
        Duration = freshFor,
        EagerRefreshThreshold = 0.9f,
        IsFailSafeEnabled = true,
        FailSafeMaxDuration = TimeSpan.FromDays(1),
        FailSafeThrottleDuration = TimeSpan.FromSeconds(5),
        SkipBackplaneNotifications = true,
    };

    /// <summary>The cached value, or what <paramref name="load"/> returns (one load per key at a time); the load
    /// may adapt its entry's options through the context (e.g. a shorter life for "not found").</summary>
    public ValueTask<T> GetOrLoadAsync<T>(string key, Func<FusionCacheFactoryExecutionContext<T>, CancellationToken, Task<T>> load,
        FusionCacheEntryOptions entry, CancellationToken cancellationToken) =>
        _cache.GetOrSetAsync<T>(key, async (context, token) =>
        {
            var seen = Interlocked.Read(ref _invalidations);
            T value;
            try
            {
                value = await load(context, token);
            }
            catch (Exception ex) when (!token.IsCancellationRequested)
            {
                Log.LoadFailed(_logger, ex, key);
                throw;
            }
            if (Interlocked.Read(ref _invalidations) != seen)
            {
                context.Options.SkipMemoryCacheWrite = true;
            }
            return value;
        }, entry, cancellationToken);

    /// <summary>
    /// The source of <paramref name="key"/> changed: the entry is expired here at once and on every other replica
    /// as soon as Redis delivers the message. Never throws for Redis (it waits at most the Redis timeout, and not at
    /// all while the breaker is open): the change is already in Postgres, and the entry's freshness bounds how long
    /// another replica may miss it.
    /// </summary>
    public ValueTask InvalidateAsync(string key)
    {
        Interlocked.Increment(ref _invalidations);
        return _cache.ExpireAsync(key, Broadcast);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _cache.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Loading cache entry '{Key}' failed; a snapshot keeps serving its previous value, a lookup fails its caller.")]
        public static partial void LoadFailed(ILogger logger, Exception exception, string key);

        [LoggerMessage(2, LogLevel.Warning, "Redis cannot be reached: cache invalidations between replicas are paused (re-sent when it is back); until then each replica reloads an entry when its freshness (30-60 s) runs out.")]
        public static partial void BackplaneDown(ILogger logger);

        [LoggerMessage(3, LogLevel.Information, "Cache invalidations between replicas resume (Redis answered, or its 30 s pause ended and it is tried again).")]
        public static partial void BackplaneRestored(ILogger logger);
    }

    /// <summary>
    /// The Aspire-registered connection, lent to the backplane without a second connection. The backplane
    /// disposes "its" multiplexer when the cache is disposed (tried with FusionCache 2.9.0: the shared
    /// connection was closed), so the loan forwards everything except closing; DI disposes the real one.
    /// (Not sealed: <see cref="DispatchProxy"/> derives from it.)
    /// </summary>
    internal class BorrowedMultiplexer : DispatchProxy
    {
        private IConnectionMultiplexer _inner = null!;

        public static IConnectionMultiplexer Wrap(IConnectionMultiplexer inner)
        {
            var proxy = Create<IConnectionMultiplexer, BorrowedMultiplexer>();
            ((BorrowedMultiplexer)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            switch (targetMethod.Name)
            {
                case nameof(IDisposable.Dispose) or nameof(IConnectionMultiplexer.Close):
                    return null;
                case nameof(IAsyncDisposable.DisposeAsync):
                    return ValueTask.CompletedTask;
                case nameof(IConnectionMultiplexer.CloseAsync):
                    return Task.CompletedTask;
            }
            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(ex.InnerException);
                throw;
            }
        }
    }
}

public static class ReplicatedCacheExtensions
{
    /// <summary>
    /// The <see cref="ReplicatedCache"/> over the Redis connection <c>redis</c> (registered by
    /// <c>AddDataServices</c>), subscribed when the host starts. Configuration: <c>AigneHub:Cache</c>.
    /// </summary>
    public static IHostApplicationBuilder AddReplicatedCache(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ReplicatedCacheOptions>().BindConfiguration(ReplicatedCacheOptions.Section)
            .Validate(o => !string.IsNullOrWhiteSpace(o.ChannelPrefix), $"{ReplicatedCacheOptions.Section}:ChannelPrefix must not be empty.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ReplicatedCache>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReplicatedCache>());
        return builder;
    }
}
