using System.Security.Cryptography;
using AigneHub.Api.Billing;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Demo;
using AigneHub.Api.Routing;
using AigneHub.Contracts.Management;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Data.Gateway;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Management;

/// <summary>What the setup routes read: the hot path's own snapshots, so "servable" means what the gateway would do.</summary>
public sealed class ModelSetupServices(
    AigneHubDbContext db,
    ProviderCatalog catalog,
    IRateCatalog rates,
    CredentialPool pool,
    CredentialProtector protector,
    ICredentialTester tester,
    ProviderModelList modelList,
    IOptionsMonitor<BillingOptions> billing,
    IOptionsMonitor<DemoProviderOptions> demo,
    TimeProvider time)
{
    public AigneHubDbContext Db { get; } = db;

    public ProviderCatalog Catalog { get; } = catalog;

    public IRateCatalog Rates { get; } = rates;

    public CredentialPool Pool { get; } = pool;

    public CredentialProtector Protector { get; } = protector;

    public ICredentialTester Tester { get; } = tester;

    public ProviderModelList ModelList { get; } = modelList;

    public IOptionsMonitor<BillingOptions> Billing { get; } = billing;

    public IOptionsMonitor<DemoProviderOptions> Demo { get; } = demo;

    public TimeProvider Time { get; } = time;
}

/// <summary>
/// The operator's way from a configured provider to a served model, and the live view of a provider in trouble.
/// Mapped into <see cref="ProviderAdminApi"/>'s group (same policy, tag and audit). Read-only except the test call,
/// which — like the credential test — is a probe: not billed and not in the call log.
/// </summary>
internal static class ModelSetupApi
{
    /// <summary>How far back the provider health counts failed calls.</summary>
    public const int HealthWindowMinutes = 15;

    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/models/servable", ListServable).WithName("ListServableModels")
            .WithSummary("Every catalogue entry with its rate and whether it can be served now, naming what is missing.");
        group.MapPost("/models/{id:guid}/test", TestModel).WithName("TestCatalogModel")
            .WithSummary("A one-token test call to a catalogue model with its provider's first active credential (not billed).");
        group.MapGet("/providers/{id:guid}/upstream-models", UpstreamModels).WithName("ListUpstreamModels")
            .WithSummary("The model ids the provider's own model list names, to pre-fill a catalogue entry.");
        group.MapGet("/providers/health", ProvidersHealth).WithName("GetProvidersHealth")
            .WithSummary($"Live provider health: credentials cooling down (time left), 429 and 5xx counts and the last error of the last {HealthWindowMinutes} minutes.");
    }

    internal static async Task<Ok<ModelSetupResponse>> ListServable([AsParameters] ModelSetupServices s, CancellationToken cancellationToken)
    {
        var snapshot = await s.Catalog.GetAsync(cancellationToken);
        var rates = await s.Rates.GetAsync(cancellationToken);
        var pool = s.Pool.Snapshot();
        var now = s.Time.GetUtcNow();
        var billingOn = s.Billing.CurrentValue.Enabled;
        var demoOn = s.Demo.CurrentValue.Enabled;

        List<ServableModelResponse> models = [];
        if (demoOn)
        {
            var rate = rates.Find(ProviderKinds.Demo.Name, DemoChatAdapter.Model, ModelType.Chat);
            List<string> missing = billingOn && rate is null ? [NoRate] : [];
            models.Add(Row(null, ProviderKinds.Demo.Name, DemoChatAdapter.Model, ModelType.Chat, "Demo (development only)", true, rate, missing));
        }
        foreach (var m in snapshot.Models)
        {
            var provider = snapshot.ById[m.ProviderId];
            var rate = rates.Find(m.Provider, m.Model, m.Type);
            models.Add(Row(m.Id, m.Provider, m.Model, m.Type, m.DisplayName, m.Enabled, rate, Missing(m, provider, rate, pool, billingOn, now)));
        }
        return TypedResults.Ok(new ModelSetupResponse(billingOn, demoOn, models));

        static ServableModelResponse Row(Guid? id, string provider, string model, ModelType type, string? displayName, bool enabled, RateCard? rate,
            List<string> missing) =>
            new(id, provider, model, ModelTypes.Name(type), displayName, enabled, rate?.Id, rate?.InputRate, rate?.OutputRate, missing.Count == 0, missing);
    }

    private const string NoRate = "no rate while credit billing is on: calls are refused until it has one";

    /// <summary>Everything between this entry and a served call, in the order an operator fixes them.</summary>
    internal static List<string> Missing(CatalogModel model, ProviderEntry provider, RateCard? rate,
        IReadOnlyDictionary<Guid, CredentialPoolState> pool, bool billingOn, DateTimeOffset now)
    {
        List<string> missing = [];
        if (!provider.Enabled)
        {
            missing.Add($"provider {provider.Kind.Name} is disabled");
        }
        if (provider.Kind.RequiresKey)
        {
            var active = provider.Credentials.Where(c => c.Active && (!pool.TryGetValue(c.Id, out var state) || state.Active)).ToList();
            if (active.Count == 0)
            {
                missing.Add($"no active credential for {provider.Kind.Name}: add one (or enter a disabled one's key again) under Providers");
            }
            else if (active.All(c => pool.TryGetValue(c.Id, out var state) && state.CoolingUntil > now))
            {
                var until = active.Min(c => pool[c.Id].CoolingUntil!.Value);
                missing.Add($"every credential of {provider.Kind.Name} is rate limited, cooling down for {Seconds(until - now)} s");
            }
        }
        if (!model.Enabled)
        {
            missing.Add("the catalogue entry is disabled");
        }
        if (billingOn && rate is null)
        {
            missing.Add(NoRate);
        }
        return missing;
    }

    internal static async Task<Results<Ok<CredentialTestResponse>, JsonHttpResult<ErrorEnvelope>>> TestModel(
        Guid id, [AsParameters] ModelSetupServices s, CancellationToken cancellationToken)
    {
        var model = await s.Db.Set<AiModel>().AsNoTracking().Include(m => m.Provider).FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (model?.Provider is not { } provider)
        {
            return ApiErrors.NotFound($"Model {id} does not exist in the catalogue.");
        }
        if (ProviderKinds.Find(provider.Name) is not { } kind)
        {
            return ApiErrors.BadRequest($"Provider '{provider.Name}' is not a known provider kind.");
        }
        if (model.Type != ModelType.Chat)
        {
            return ApiErrors.BadRequest($"Only chat models have a test call; {provider.Name}/{model.Model} is {ModelTypes.Name(model.Type)}.");
        }
        string? secret = null;
        if (kind.RequiresKey)
        {
            var credential = await s.Db.Set<ProviderCredential>().AsNoTracking()
                .Where(c => c.ProviderId == provider.Id && c.Status == CredentialStatus.Active)
                .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).FirstOrDefaultAsync(cancellationToken);
            if (credential is null)
            {
                return TypedResults.Ok(new CredentialTestResponse(false, null, $"{provider.Name} has no active credential to test with."));
            }
            try
            {
                secret = s.Protector.Unprotect(credential.Id, credential.EncryptedValue);
            }
            catch (CryptographicException)
            {
                return TypedResults.Ok(new CredentialTestResponse(false, null,
                    $"{provider.Name}'s credential cannot be decrypted with the configured {SecretsOptions.MasterKeyPath}; enter it again."));
            }
        }
        var settings = ProviderSettings.FromJson(provider.Settings);
        var result = await s.Tester.TestAsync(kind, ProviderCatalog.BaseUrlOf(kind, provider.BaseUrl, settings), settings, secret ?? "", model.Model, cancellationToken);
        return TypedResults.Ok(result.Ok
            ? new CredentialTestResponse(true, result.LatencyMs, null)
            : new CredentialTestResponse(false, null, result.Error ?? "The test call failed."));
    }

    internal static async Task<Results<Ok<UpstreamModelsResponse>, JsonHttpResult<ErrorEnvelope>>> UpstreamModels(
        Guid id, [AsParameters] ModelSetupServices s, CancellationToken cancellationToken)
    {
        var provider = await s.Db.Set<Provider>().AsNoTracking().FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (provider is null)
        {
            return ApiErrors.NotFound($"Provider {id} does not exist.");
        }
        if (ProviderKinds.Find(provider.Name) is not { } kind)
        {
            return ApiErrors.BadRequest($"Provider '{provider.Name}' is not a known provider kind.");
        }
        var credential = await s.Db.Set<ProviderCredential>().AsNoTracking()
            .Where(c => c.ProviderId == id && c.Status == CredentialStatus.Active)
            .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).FirstOrDefaultAsync(cancellationToken);
        if (credential is null && kind.RequiresKey)
        {
            return TypedResults.Ok(new UpstreamModelsResponse([], $"{provider.Name} has no active credential to read its model list with."));
        }
        try
        {
            var secret = credential is null ? null : s.Protector.Unprotect(credential.Id, credential.EncryptedValue);
            var models = await s.ModelList.ListAsync(kind, ProviderCatalog.BaseUrlOf(kind, provider.BaseUrl, ProviderSettings.FromJson(provider.Settings)), secret, cancellationToken);
            return TypedResults.Ok(new UpstreamModelsResponse(models, null));
        }
        catch (ProviderException ex)
        {
            return TypedResults.Ok(new UpstreamModelsResponse([], ex.Message));
        }
        catch (CryptographicException)
        {
            return TypedResults.Ok(new UpstreamModelsResponse([], $"{provider.Name}'s credential cannot be decrypted; enter it again."));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return TypedResults.Ok(new UpstreamModelsResponse([], $"{provider.Name} did not send its model list within {ProviderModelList.Timeout.TotalSeconds:0} s."));
        }
    }

    internal static async Task<Ok<ProvidersHealthResponse>> ProvidersHealth([AsParameters] ModelSetupServices s, CancellationToken cancellationToken)
    {
        var now = s.Time.GetUtcNow();
        var since = now.AddMinutes(-HealthWindowMinutes);
        var providers = await s.Db.Set<Provider>().AsNoTracking().OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).ToListAsync(cancellationToken);
        var credentials = (await s.Db.Set<ProviderCredential>().AsNoTracking().OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).ToListAsync(cancellationToken))
            .ToLookup(c => c.ProviderId);
        var calls = await s.Db.Set<ModelCall>().AsNoTracking()
            .Where(c => c.CreatedAt >= since && c.Provider != null)
            .GroupBy(c => c.Provider!)
            .Select(g => new
            {
                Provider = g.Key,
                Calls = g.Count(),
                RateLimited = g.Count(c => c.Status == ModelCallStatus.Failed && (EF.Functions.Like(c.ErrorReason!, RateLimitedByProvider)
                    || EF.Functions.Like(c.ErrorReason!, RateLimitedInPool))),
                ServerErrors = g.Count(c => c.StatusCode >= 500 && !(EF.Functions.Like(c.ErrorReason!, RateLimitedByProvider)
                    || EF.Functions.Like(c.ErrorReason!, RateLimitedInPool))),
            })
            .ToDictionaryAsync(g => g.Provider, cancellationToken);
        var lastErrors = await s.Db.Set<ModelCall>().AsNoTracking()
            .Where(c => c.CreatedAt >= since && c.Provider != null && c.Status == ModelCallStatus.Failed && c.ErrorReason != null)
            .GroupBy(c => c.Provider!)
            .Select(g => g.OrderByDescending(c => c.CreatedAt).Select(c => new { c.Provider, c.ErrorReason, c.CreatedAt }).First())
            .ToDictionaryAsync(e => e.Provider!, cancellationToken);
        var pool = s.Pool.Snapshot();

        List<ProviderHealthResponse> health = [];
        foreach (var p in providers)
        {
            var kind = ProviderKinds.Find(p.Name);
            List<CredentialHealthResponse> rows = [];
            foreach (var c in credentials[p.Id])
            {
                var state = pool.GetValueOrDefault(c.Id);
                var status = c.Status switch
                {
                    CredentialStatus.Disabled => "disabled",
                    CredentialStatus.Inactive => "inactive",
                    _ when state is { Active: false } => "inactive",
                    _ when state?.CoolingUntil > now => "cooling",
                    _ => "active",
                };
                rows.Add(new CredentialHealthResponse(c.Id, c.Name, c.MaskedValue, status,
                    status == "cooling" ? Seconds(state!.CoolingUntil!.Value - now) : null));
            }
            var (overall, summary) = Overall(p, kind, rows);
            var counts = calls.GetValueOrDefault(p.Name);
            var last = lastErrors.GetValueOrDefault(p.Name);
            health.Add(new ProviderHealthResponse(p.Id, p.Name, p.DisplayName, p.Enabled, overall, summary,
                counts?.Calls ?? 0, counts?.RateLimited ?? 0, counts?.ServerErrors ?? 0,
                last is null ? null : CallerErrorText.Sanitize(last.ErrorReason), last?.CreatedAt, rows));
        }
        return TypedResults.Ok(new ProvidersHealthResponse(HealthWindowMinutes, health));
    }

    // A provider's 429 reaches the caller as a 503 (it is not the caller's rate limit), so the record's status code
    // cannot tell it from a 5xx; its error text can: ProviderHttp writes "<provider> answered <status>: …" and the
    // pool "Every credential of <provider> is rate limited; …".
    private const string RateLimitedByProvider = "% answered 429:%";
    private const string RateLimitedInPool = "% is rate limited;%";

    private static (string Status, string Summary) Overall(Provider p, ProviderKind? kind, List<CredentialHealthResponse> credentials)
    {
        if (!p.Enabled)
        {
            return ("disabled", "disabled");
        }
        if (kind is { RequiresKey: false })
        {
            return ("ok", "needs no credential");
        }
        var usable = credentials.Where(c => c.Status is "active" or "cooling").ToList();
        if (usable.Count == 0)
        {
            return ("down", credentials.Count == 0 ? "no credential configured" : "no active credential");
        }
        var cooling = usable.Where(c => c.Status == "cooling").ToList();
        if (cooling.Count == usable.Count)
        {
            return ("cooling", $"every credential is rate limited; back in {cooling.Min(c => c.CoolingSecondsLeft)} s");
        }
        return cooling.Count > 0
            ? ("degraded", $"{cooling.Count} of {usable.Count} credentials cooling down")
            : ("ok", usable.Count == 1 ? "1 active credential" : $"{usable.Count} active credentials");
    }

    private static int Seconds(TimeSpan left) => (int)Math.Max(1, Math.Ceiling(left.TotalSeconds));
}
