using System.Security.Cryptography;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace AigneHub.Api.Routing;

/// <summary>A configured provider as the hot path sees it (secrets decrypted, in memory only).</summary>
public sealed record ProviderEntry(Guid Id, ProviderKind Kind, string? DisplayName, Uri BaseUrl, bool Enabled, IReadOnlyList<CredentialEntry> Credentials)
{
    public ProviderSettings Settings { get; init; } = ProviderSettings.None;

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
/// An immutable picture of the provider configuration: providers, their credentials, the model catalogue and the
/// model aliases. Readers never lock; a reload swaps the whole picture.
/// </summary>
public sealed class ProviderSnapshot
{
    public ProviderSnapshot(IReadOnlyList<ProviderEntry> providers, IReadOnlyList<CatalogModel> models, DateTimeOffset loadStartedAt,
        ModelAliases? aliases = null)
    {
        Providers = providers;
        Models = models;
        LoadStartedAt = loadStartedAt;
        Aliases = aliases ?? ModelAliases.Empty;
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

    /// <summary>The enabled model aliases.</summary>
    public ModelAliases Aliases { get; }
}

/// <summary>
/// The model catalogue for the public model lists (<c>GET /api/v2/models</c>, <c>GET /api/ai/models</c>):
/// enabled entries of enabled providers, in catalogue order.
/// </summary>
public interface IModelCatalog
{
    ValueTask<IReadOnlyList<CatalogModel>> ListAsync(ModelType? type, CancellationToken cancellationToken);

    /// <summary>The exact aliases callers can send, each with its first target whose provider is enabled (patterns
    /// are not names, so they are not listed; the catalogue models they match are).</summary>
    ValueTask<IReadOnlyList<ListedAlias>> ListAliasesAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Keeps the <see cref="ProviderSnapshot"/> in the <see cref="ReplicatedCache"/> so that resolving a model and
/// picking a credential never touch Postgres. <see cref="InvalidateAsync"/> (an admin mutation, a credential
/// deactivated) makes every replica reload it on next use; it is reloaded at the latest every <see cref="MaxAge"/>
/// as a safety net for a missed message, and while Postgres cannot be read the previous snapshot keeps serving.
/// </summary>
public sealed partial class ProviderCatalog(
    ReplicatedCache cache,
    IServiceScopeFactory scopes,
    CredentialProtector protector,
    IOptionsMonitor<DemoProviderOptions> demo,
    TimeProvider time,
    ILogger<ProviderCatalog> logger) : IModelCatalog
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    private const string CacheKey = "routing:providers";

    private static readonly FusionCacheEntryOptions Entry = ReplicatedCache.Snapshot(MaxAge);

    public ValueTask<ProviderSnapshot> GetAsync(CancellationToken cancellationToken) =>
        cache.GetOrLoadAsync<ProviderSnapshot>(CacheKey, (_, token) => LoadAsync(token), Entry, cancellationToken);

    /// <summary>The provider configuration changed in Postgres: every replica reloads the snapshot on next use.</summary>
    public ValueTask InvalidateAsync() => cache.InvalidateAsync(CacheKey);

    public async ValueTask<IReadOnlyList<CatalogModel>> ListAsync(ModelType? type, CancellationToken cancellationToken)
    {
        var snapshot = await GetAsync(cancellationToken);
        IEnumerable<CatalogModel> listed = snapshot.Models.Where(m => m.Enabled && (type is null || m.Type == type)
            && snapshot.ById.TryGetValue(m.ProviderId, out var p) && p.Enabled);
        // The demo model resolves without a catalogue entry (ModelResolver); listing it is how a new user finds it.
        return demo.CurrentValue.Enabled && type is null or ModelType.Chat ? [DemoModel, .. listed] : [.. listed];
    }

    public async ValueTask<IReadOnlyList<ListedAlias>> ListAliasesAsync(CancellationToken cancellationToken)
    {
        var snapshot = await GetAsync(cancellationToken);
        List<ListedAlias> listed = [];
        foreach (var alias in snapshot.Aliases.Exact)
        {
            foreach (var target in alias.TargetsFor(alias.Name))
            {
                var slash = target.IndexOf('/', StringComparison.Ordinal);
                if (slash > 0 && snapshot.ByName.TryGetValue(target[..slash], out var provider) && provider.Enabled)
                {
                    listed.Add(new ListedAlias(alias.Name, provider.Kind.Name, target[(slash + 1)..]));
                    break;
                }
            }
        }
        return listed;
    }

    /// <summary><c>demo/echo</c> as the model lists show it while the demo provider is on; it has no catalogue row.</summary>
    public static readonly CatalogModel DemoModel = new(Guid.Empty, Guid.Empty, ProviderKinds.Demo.Name, ProviderKinds.Demo.DisplayName,
        Providers.Demo.DemoChatAdapter.Model, ModelType.Chat, null, null, true, DateTimeOffset.UnixEpoch);

    private async Task<ProviderSnapshot> LoadAsync(CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var providers = await db.Set<Provider>().AsNoTracking().OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).ToListAsync(cancellationToken);
        var credentials = await db.Set<ProviderCredential>().AsNoTracking().OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).ToListAsync(cancellationToken);
        var models = await db.Set<AiModel>().AsNoTracking().ToListAsync(cancellationToken);
        var aliases = await db.Set<ModelAlias>().AsNoTracking().Where(a => a.Enabled).ToListAsync(cancellationToken);

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
            var settings = ProviderSettings.FromJson(provider.Settings);
            entries.Add(new ProviderEntry(provider.Id, kind, provider.DisplayName, BaseUrlOf(kind, provider.BaseUrl, settings), provider.Enabled,
                [.. credentialsByProvider[provider.Id].Select(Decrypt)]) { Settings = settings });
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
        return new ProviderSnapshot(entries, catalog, startedAt, new ModelAliases(aliases.Select(a => new AliasEntry(a.Id, a.Name, [.. a.Targets]))));
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
    public static Uri BaseUrlOf(ProviderKind kind, string? configured, ProviderSettings settings)
    {
        var url = string.IsNullOrWhiteSpace(configured) ? kind.DefaultBaseUrlFor(settings).AbsoluteUri : configured.Trim();
        return new Uri(url.EndsWith('/') ? url : url + "/", UriKind.Absolute);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Provider row '{Name}' names no known provider kind; it is ignored.")]
        public static partial void UnknownProvider(ILogger logger, string name);

        [LoggerMessage(2, LogLevel.Error, "Credential {CredentialId} cannot be decrypted with the configured master key (AigneHub:Secrets:MasterKey); it is not used.")]
        public static partial void UndecryptableCredential(ILogger logger, Guid credentialId);
    }
}
