using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using StackExchange.Redis;

namespace AigneHub.Api.Routing;

/// <summary>
/// Tells every Api replica that the provider configuration (providers, credentials, catalogue, model health)
/// changed, over the Redis channel <c>aignehub:config:changed</c>. Receivers drop their in-memory snapshots and
/// reload them from Postgres on next use. A lost message costs at most <see cref="ProviderCatalog.MaxAge"/> of
/// staleness, so publishing is best effort and never fails the admin request that changed the data.
/// </summary>
public sealed partial class ProviderConfigChanges(
    IConnectionMultiplexer redis,
    ProviderCatalog catalog,
    ModelHealthTracker health,
    ILogger<ProviderConfigChanges> logger) : IHostedService
{
    public const string HealthChanged = "health";

    public static readonly RedisChannel Channel = RedisChannel.Literal("aignehub:config:changed");

    /// <summary>Invalidates this replica's caches at once, then tells the others.</summary>
    public async Task PublishAsync(string what)
    {
        InvalidateLocal(what);
        try
        {
            await redis.GetSubscriber().PublishAsync(Channel, what);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            Log.PublishFailed(logger, ex, what);
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var queue = await redis.GetSubscriber().SubscribeAsync(Channel);
            queue.OnMessage(message => InvalidateLocal(message.Message.ToString()));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The Api still serves; its snapshot just ages out instead of being told.
            Log.SubscribeFailed(logger, ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A health flip only stales model health; anything else stales both.</summary>
    private void InvalidateLocal(string what)
    {
        if (what != HealthChanged)
        {
            catalog.Invalidate();
        }
        health.Invalidate();
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not publish the configuration change '{What}' to the other replicas; they pick it up within a minute.")]
        public static partial void PublishFailed(ILogger logger, Exception exception, string what);

        [LoggerMessage(2, LogLevel.Warning, "Could not subscribe to configuration changes; this replica reloads its provider configuration every minute.")]
        public static partial void SubscribeFailed(ILogger logger, Exception exception);
    }
}
