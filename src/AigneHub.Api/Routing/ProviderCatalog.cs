using System.Security.Cryptography;
using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Routing;

/// <summary>A configured provider as the hot path sees it (secrets decrypted, in memory only).</summary>
public sealed record ProviderEntry(Guid Id, ProviderKind Kind, string? DisplayName, Uri BaseUrl, bool Enabled, IReadOnlyList<CredentialEntry> Credentials)
{
    public bool HasActiveCredential => Credentials.Any(c => c.Active);
}

/// <summary>A credential as the pool uses it. <see cref="Secret"/> is null when it could not be decrypted.</summary>
public sealed record CredentialEntry(Guid Id, string? Secret, int Weight, bool Active)
{
    public override string ToString() => $"CredentialEntry {{ Id = {Id}, Weight = {Weight}, Active = {Active} }}";
}

/// <summary>An entry of the model catalogue, with its provider's name.</summary>
public sealed record CatalogModel(Guid Id, Guid ProviderId, string Provider, string? ProviderDisplayName, string Model, ModelType Type,
    string? DisplayName, string? Metadata, bool Enabled, DateTimeOffset CreatedAt)
{
    public string PublicName => $"{Provider}/{Model}";
}

/// <summary>
/// An immutable picture of the provider configuration: providers, their credentials and the model catalogue.
/// Readers never lock; a reload swaps the whole picture.
/// </summary>
public sealed class ProviderSnapshot
{
    public static readonly ProviderSnapshot Empty = new([], [], DateTimeOffset.MinValue, -1);

    public ProviderSnapshot(IReadOnlyList<ProviderEntry> providers, IReadOnlyList<CatalogModel> models, DateTimeOffset loadStartedAt, long generation)
    {
        Providers = providers;
        Models = models;
        LoadStartedAt = loadStartedAt;
        Generation = generation;
        ByName = providers.ToDictionary(p => p.Kind.Name, StringComparer.OrdinalIgnoreCase);
        ById = providers.ToDictionary(p => p.Id);
        ByModel = models.GroupBy(m => (m.Model, m.Type))
            .ToDictionary(g => g.Key, g => (IReadOnlyList<CatalogModel>)[.. g.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id)]);
    }

    public IReadOnlyList<ProviderEntry> Providers { get; }

    /// <summary>Every catalogue entry (enabled or not) of a known provider, in catalogue order.</summary>
    public IReadOnlyList<CatalogModel> Models { get; }

    public IReadOnlyDictionary<string, ProviderEntry> ByName { get; }

    public IReadOnlyDictionary<Guid, ProviderEntry> ById { get; }

    public IReadOnlyDictionary<(string Model, ModelType Type), IReadOnlyList<CatalogModel>> ByModel { get; }

    /// <summary>When the database was read; anything the pool learnt after this is newer than the snapshot.</summary>
    public DateTimeOffset LoadStartedAt { get; }

    internal long Generation { get; }
}

/// <summary>
/// The model catalogue for the public model lists (<c>GET /api/v2/models</c>, <c>GET /api/ai/models</c>):
/// enabled entries of enabled providers, in catalogue order.
/// </summary>
public interface IModelCatalog
{
    ValueTask<IReadOnlyList<CatalogModel>> ListAsync(ModelType? type, CancellationToken cancellationToken);
}

/// <summary>
/// Keeps the <see cref="ProviderSnapshot"/> in memory so that resolving a model and picking a credential never
/// touch Postgres. It reloads when told the configuration changed (an admin mutation here, or the Redis message
/// from another replica; see <see cref="ProviderConfigChanges"/>) and at the latest every
/// <see cref="MaxAge"/>, as a safety net for a missed message. One caller reloads; the others wait for it.
/// </summary>
public sealed partial class ProviderCatalog(
    IServiceScopeFactory scopes,
    CredentialProtector protector,
    TimeProvider time,
    ILogger<ProviderCatalog> logger) : IModelCatalog, IDisposable
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan StaleRetry = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _reload = new(1, 1);
    private volatile ProviderSnapshot _current = ProviderSnapshot.Empty;
    private long _generation;

    public ValueTask<ProviderSnapshot> GetAsync(CancellationToken cancellationToken)
    {
        var snapshot = _current;
        return IsFresh(snapshot) ? ValueTask.FromResult(snapshot) : new(ReloadAsync(cancellationToken));
    }

    /// <summary>Marks the snapshot stale; the next reader reloads it.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    public async ValueTask<IReadOnlyList<CatalogModel>> ListAsync(ModelType? type, CancellationToken cancellationToken)
    {
        var snapshot = await GetAsync(cancellationToken);
        return [.. snapshot.Models.Where(m => m.Enabled && (type is null || m.Type == type)
            && snapshot.ById.TryGetValue(m.ProviderId, out var p) && p.Enabled)];
    }

    private bool IsFresh(ProviderSnapshot snapshot) =>
        snapshot.Generation == Interlocked.Read(ref _generation) && time.GetUtcNow() - snapshot.LoadStartedAt < MaxAge;

    private async Task<ProviderSnapshot> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reload.WaitAsync(cancellationToken);
        try
        {
            if (IsFresh(_current))
            {
                return _current;
            }
            // Read the generation before the database: an invalidation during the load leaves this snapshot stale.
            var generation = Interlocked.Read(ref _generation);
            var startedAt = time.GetUtcNow();
            ProviderSnapshot snapshot;
            try
            {
                snapshot = await LoadAsync(generation, startedAt, cancellationToken);
            }
            catch (Exception ex) when (_current != ProviderSnapshot.Empty && !cancellationToken.IsCancellationRequested)
            {
                // Postgres is unreachable: keep serving what we know rather than failing every call, and try again
                // in a few seconds rather than on every request.
                Log.ReloadFailed(logger, ex);
                var stale = _current;
                snapshot = new ProviderSnapshot(stale.Providers, stale.Models, startedAt - MaxAge + StaleRetry, generation);
            }
            _current = snapshot;
            return snapshot;
        }
        finally
        {
            _reload.Release();
        }
    }

    private async Task<ProviderSnapshot> LoadAsync(long generation, DateTimeOffset startedAt, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var providers = await db.Set<Provider>().AsNoTracking().OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).ToListAsync(cancellationToken);
        var credentials = await db.Set<ProviderCredential>().AsNoTracking().OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).ToListAsync(cancellationToken);
        var models = await db.Set<AiModel>().AsNoTracking().ToListAsync(cancellationToken);

        var credentialsByProvider = credentials.ToLookup(c => c.ProviderId);
        List<ProviderEntry> entries = [];
        foreach (var provider in providers)
        {
            var kind = ProviderKinds.Find(provider.Name);
            if (kind is null || kind == ProviderKinds.Demo)
            {
                Log.UnknownProvider(logger, provider.Name);
                continue;
            }
            entries.Add(new ProviderEntry(provider.Id, kind, provider.DisplayName, BaseUrlOf(kind, provider.BaseUrl), provider.Enabled,
                [.. credentialsByProvider[provider.Id].Select(Decrypt)]));
        }

        var byId = entries.ToDictionary(e => e.Id);
        List<CatalogModel> catalog = [];
        foreach (var m in models.OrderBy(m => m.CreatedAt).ThenBy(m => m.Id))
        {
            if (byId.TryGetValue(m.ProviderId, out var p))
            {
                catalog.Add(new CatalogModel(m.Id, m.ProviderId, p.Kind.Name, p.DisplayName ?? p.Kind.DisplayName, m.Model, m.Type,
                    m.DisplayName, m.Metadata, m.Enabled, m.CreatedAt));
            }
        }
        return new ProviderSnapshot(entries, catalog, startedAt, generation);
    }

    private CredentialEntry Decrypt(ProviderCredential credential)
    {
        string? secret = null;
        try
        {
            secret = protector.Unprotect(credential.Id, credential.EncryptedValue);
        }
        catch (CryptographicException)
        {
            // Wrong master key or a tampered row: the credential is unusable, and saying so is all we can log.
            Log.UndecryptableCredential(logger, credential.Id);
        }
        return new CredentialEntry(credential.Id, secret, credential.Weight, credential.Status == CredentialStatus.Active && secret is not null);
    }

    /// <summary>The provider's base URL, with the trailing slash relative URIs need.</summary>
    public static Uri BaseUrlOf(ProviderKind kind, string? configured)
    {
        var url = string.IsNullOrWhiteSpace(configured) ? kind.DefaultBaseUrl.AbsoluteUri : configured.Trim();
        return new Uri(url.EndsWith('/') ? url : url + "/", UriKind.Absolute);
    }

    public void Dispose() => _reload.Dispose();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Provider row '{Name}' names no known provider kind; it is ignored.")]
        public static partial void UnknownProvider(ILogger logger, string name);

        [LoggerMessage(2, LogLevel.Error, "Credential {CredentialId} cannot be decrypted with the configured master key (AigneHub:Secrets:MasterKey); it is not used.")]
        public static partial void UndecryptableCredential(ILogger logger, Guid credentialId);

        [LoggerMessage(3, LogLevel.Warning, "Could not reload the provider configuration; serving the previous one for now.")]
        public static partial void ReloadFailed(ILogger logger, Exception exception);
    }
}
