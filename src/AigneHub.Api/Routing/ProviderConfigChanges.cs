namespace AigneHub.Api.Routing;

/// <summary>
/// What the admin APIs call after changing the provider configuration (providers, credentials, the model
/// catalogue) in Postgres: every Api replica reloads its <see cref="ProviderSnapshot"/> on next use. Best effort
/// across replicas (see <see cref="Infrastructure.ReplicatedCache"/>): a lost message costs at most
/// <see cref="ProviderCatalog.MaxAge"/> of staleness, and it never fails the admin request.
/// </summary>
public sealed partial class ProviderConfigChanges(ProviderCatalog catalog, ILogger<ProviderConfigChanges> logger)
{
    /// <param name="what">What changed (<c>provider</c>, <c>credential</c>, <c>model</c>), for the log.</param>
    public async Task PublishAsync(string what)
    {
        await catalog.InvalidateAsync();
        Log.Published(logger, what);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Provider configuration changed ({What}); every replica reloads it on next use.")]
        public static partial void Published(ILogger logger, string what);
    }
}
