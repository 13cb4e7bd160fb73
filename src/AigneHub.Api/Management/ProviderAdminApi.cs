using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Bedrock;
using AigneHub.Api.Routing;
using AigneHub.Contracts.Management;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Management;

/// <summary>What the admin handlers need, bundled for <c>[AsParameters]</c>.</summary>
public sealed class ProviderAdminServices(
    AigneHubDbContext db,
    CredentialProtector protector,
    ProviderConfigChanges changes,
    ICredentialTester tester,
    TimeProvider time)
{
    public AigneHubDbContext Db { get; } = db;

    public CredentialProtector Protector { get; } = protector;

    public ProviderConfigChanges Changes { get; } = changes;

    public ICredentialTester Tester { get; } = tester;

    public TimeProvider Time { get; } = time;
}

/// <summary>
/// <c>/api/admin/providers</c> and their credentials, and <c>/api/admin/models</c> (the catalogue); owners and
/// admins only. Every mutation tells all replicas to reload their provider snapshot.
/// </summary>
public static partial class ProviderAdminApi
{
    public const string Tag = "Admin: providers";
    private const int MaxTextLength = 200;
    private const int MaxSecretLength = 8192;

    public static RouteGroupBuilder MapProviderAdminApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin")
            .RequireAuthorization(AuthorizationPolicies.Admin)
            .WithTags(Tag)
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(ErrorEnvelope), ["application/json"]));

        group.MapGet("/providers", ListProviders).WithName("ListProviders").WithSummary("List the configured providers.");
        group.MapPost("/providers", CreateProvider).WithName("CreateProvider").WithSummary("Configure a provider.")
            .Accepts<ProviderRequest>("application/json");
        group.MapPut("/providers/{id:guid}", UpdateProvider).WithName("UpdateProvider").WithSummary("Change a provider (omitted fields keep their value).")
            .Accepts<ProviderRequest>("application/json");
        group.MapDelete("/providers/{id:guid}", DeleteProvider).WithName("DeleteProvider").WithSummary("Remove a provider with its credentials and catalogue entries.");

        group.MapGet("/providers/{id:guid}/credentials", ListCredentials).WithName("ListProviderCredentials")
            .WithSummary("List a provider's credentials (masked).");
        group.MapPost("/providers/{id:guid}/credentials", CreateCredential).WithName("CreateProviderCredential")
            .WithSummary("Add a credential (stored encrypted).").Accepts<CredentialRequest>("application/json");
        group.MapPut("/providers/{id:guid}/credentials/{credentialId:guid}", UpdateCredential).WithName("UpdateProviderCredential")
            .WithSummary("Change a credential; a new value re-activates it.").Accepts<CredentialRequest>("application/json");
        group.MapDelete("/providers/{id:guid}/credentials/{credentialId:guid}", DeleteCredential).WithName("DeleteProviderCredential")
            .WithSummary("Remove a credential.");
        group.MapPost("/providers/{id:guid}/credentials/{credentialId:guid}/test", TestCredential).WithName("TestProviderCredential")
            .WithSummary("Make a one-token test call with a credential; success re-activates it.").Accepts<CredentialTestRequest>("application/json");

        ModelCatalogAdminApi.Map(group);
        ModelSetupApi.Map(group);
        return group;
    }

    // :: Providers

    internal static async Task<Ok<List<ProviderResponse>>> ListProviders([AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var rows = await s.Db.Set<Provider>().AsNoTracking().OrderBy(p => p.CreatedAt).ThenBy(p => p.Id)
            .Select(p => new
            {
                Provider = p,
                Count = p.Credentials.Count,
                Active = p.Credentials.Count(c => c.Status == CredentialStatus.Active),
            })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(r => ToResponse(r.Provider, r.Count, r.Active)).ToList());
    }

    internal static async Task<Results<Created<ProviderResponse>, JsonHttpResult<ErrorEnvelope>>> CreateProvider(
        HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, ManagementJsonContext.Default.ProviderRequest);
        if (error is not null)
        {
            return error;
        }
        if (ValidateProvider(body!, requireName: true) is { } invalid)
        {
            return invalid;
        }
        var name = body!.Name!.Trim().ToLowerInvariant();
        var kind = ProviderKinds.Find(name)!;
        if (kind.RequiresBaseUrl && string.IsNullOrWhiteSpace(body.BaseUrl))
        {
            return ApiErrors.BadRequest($"'baseUrl' is required for {name}: the resource's own address, e.g. {kind.DefaultBaseUrl}.", "baseUrl");
        }
        var (settings, settingsError) = ReadSettings(kind, body.Settings);
        if (settingsError is not null)
        {
            return settingsError;
        }
        if (await s.Db.Set<Provider>().AnyAsync(p => p.Name == name, cancellationToken))
        {
            return ApiErrors.Conflict($"Provider '{name}' is already configured.", "name");
        }
        var now = s.Time.GetUtcNow();
        var provider = new Provider
        {
            Name = name,
            DisplayName = EmptyToNull(body.DisplayName),
            BaseUrl = EmptyToNull(body.BaseUrl),
            Settings = settings.ToJson(),
            Enabled = body.Enabled ?? true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        s.Db.Add(provider);
        if (!await TrySaveAsync(s.Db, cancellationToken))
        {
            return ApiErrors.Conflict($"Provider '{name}' is already configured.", "name");
        }
        await s.Changes.PublishAsync("provider");
        return TypedResults.Created($"/api/admin/providers/{provider.Id}", ToResponse(provider, 0, 0));
    }

    /// <summary>
    /// Changing where a provider's calls go (its effective base URL: the URL itself, or a rename to another kind
    /// whose default differs) is owner-only and disables every stored credential until its value is entered again:
    /// otherwise an admin could point the provider at their own server, press Test and read the masked keys there.
    /// </summary>
    internal static async Task<Results<Ok<ProviderResponse>, JsonHttpResult<ErrorEnvelope>>> UpdateProvider(
        Guid id, HttpRequest request, ClaimsPrincipal caller, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var provider = await s.Db.Set<Provider>().FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (provider is null)
        {
            return ApiErrors.NotFound($"Provider {id} does not exist.");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, ManagementJsonContext.Default.ProviderRequest);
        if (error is not null)
        {
            return error;
        }
        if (ValidateProvider(body!, requireName: false) is { } invalid)
        {
            return invalid;
        }
        var name = body!.Name is null ? provider.Name : body.Name.Trim().ToLowerInvariant();
        if (name != provider.Name && await s.Db.Set<Provider>().AnyAsync(p => p.Name == name, cancellationToken))
        {
            return ApiErrors.Conflict($"Provider '{name}' is already configured.", "name");
        }
        var baseUrl = body.BaseUrl is null ? provider.BaseUrl : EmptyToNull(body.BaseUrl);
        if (ProviderKinds.Find(name) is not { } kind)
        {
            // A row written by hand with a name no kind has: nothing here can say what it needs.
            return ApiErrors.BadRequest($"Provider '{name}' is not a known provider kind; rename it to one of: {string.Join(", ", ProviderKinds.Configurable.Select(k => k.Name))}.", "name");
        }
        if (kind.RequiresBaseUrl && baseUrl is null)
        {
            return ApiErrors.BadRequest($"'baseUrl' is required for {name}: the resource's own address, e.g. {kind.DefaultBaseUrl}.", "baseUrl");
        }
        var settings = ProviderSettings.FromJson(provider.Settings);
        if (body.Settings is not null || name != provider.Name)
        {
            // New settings replace the old as a whole; a rename to another kind re-checks the kept ones against it.
            JsonHttpResult<ErrorEnvelope>? settingsError;
            (settings, settingsError) = body.Settings is not null ? ReadSettings(kind, body.Settings) : ReadSettings(kind, ToBody(settings));
            if (settingsError is not null)
            {
                return settingsError;
            }
        }
        var now = s.Time.GetUtcNow();
        if (EffectiveBaseUrl(name, baseUrl, settings) != EffectiveBaseUrl(provider.Name, provider.BaseUrl, ProviderSettings.FromJson(provider.Settings)))
        {
            if (caller.GetRole() != UserRole.Owner)
            {
                return ApiErrors.Forbidden("Only an owner can change a provider's base URL (or its region, or rename it to another kind): its stored credentials would be sent there.");
            }
            // Saved with the provider in one transaction, so no snapshot pairs the new address with a live key.
            var credentials = await s.Db.Set<ProviderCredential>().Where(c => c.ProviderId == id && c.Status != CredentialStatus.Disabled)
                .ToListAsync(cancellationToken);
            foreach (var credential in credentials)
            {
                credential.Status = CredentialStatus.Disabled;
                credential.LastError = "The provider's base URL changed; enter this key again to use it there.";
                credential.LastErrorAt = now;
                credential.NextCheckAt = null;
                credential.FailedChecks = 0;
                credential.UpdatedAt = now;
            }
        }
        provider.Name = name;
        if (body.DisplayName is not null)
        {
            provider.DisplayName = EmptyToNull(body.DisplayName);
        }
        provider.BaseUrl = baseUrl;
        provider.Settings = settings.ToJson();
        provider.Enabled = body.Enabled ?? provider.Enabled;
        provider.UpdatedAt = now;
        if (!await TrySaveAsync(s.Db, cancellationToken))
        {
            return ApiErrors.Conflict($"Provider '{provider.Name}' is already configured.", "name");
        }
        await s.Changes.PublishAsync("provider");
        var counts = await s.Db.Set<ProviderCredential>().AsNoTracking().Where(c => c.ProviderId == id)
            .GroupBy(c => c.Status).Select(g => new { Status = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        return TypedResults.Ok(ToResponse(provider, counts.Sum(c => c.Count),
            counts.Where(c => c.Status == CredentialStatus.Active).Sum(c => c.Count)));
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> DeleteProvider(
        Guid id, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var deleted = await s.Db.Set<Provider>().Where(p => p.Id == id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return ApiErrors.NotFound($"Provider {id} does not exist.");
        }
        await s.Changes.PublishAsync("provider");
        return TypedResults.NoContent();
    }

    // :: Credentials

    internal static async Task<Results<Ok<List<CredentialResponse>>, JsonHttpResult<ErrorEnvelope>>> ListCredentials(
        Guid id, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        if (!await s.Db.Set<Provider>().AnyAsync(p => p.Id == id, cancellationToken))
        {
            return ApiErrors.NotFound($"Provider {id} does not exist.");
        }
        var credentials = await s.Db.Set<ProviderCredential>().AsNoTracking().Where(c => c.ProviderId == id)
            .OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(credentials.Select(ToResponse).ToList());
    }

    internal static async Task<Results<Created<CredentialResponse>, JsonHttpResult<ErrorEnvelope>>> CreateCredential(
        Guid id, HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var providerName = await s.Db.Set<Provider>().Where(p => p.Id == id).Select(p => p.Name).FirstOrDefaultAsync(cancellationToken);
        if (providerName is null)
        {
            return ApiErrors.NotFound($"Provider {id} does not exist.");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, ManagementJsonContext.Default.CredentialRequest);
        if (error is not null)
        {
            return error;
        }
        if (ValidateCredential(body!, requireValue: true, providerName) is { } invalid)
        {
            return invalid;
        }
        var now = s.Time.GetUtcNow();
        var value = body!.Value!.Trim();
        var credential = new ProviderCredential
        {
            ProviderId = id,
            Name = EmptyToNull(body.Name),
            EncryptedValue = [],
            MaskedValue = MaskOf(providerName, value),
            Weight = body.Weight ?? ProviderCredential.DefaultWeight,
            CreatedAt = now,
            UpdatedAt = now,
        };
        credential.EncryptedValue = s.Protector.Protect(credential.Id, value);
        s.Db.Add(credential);
        await s.Db.SaveChangesAsync(cancellationToken);
        await s.Changes.PublishAsync("credential");
        return TypedResults.Created($"/api/admin/providers/{id}/credentials/{credential.Id}", ToResponse(credential));
    }

    internal static async Task<Results<Ok<CredentialResponse>, JsonHttpResult<ErrorEnvelope>>> UpdateCredential(
        Guid id, Guid credentialId, HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var credential = await s.Db.Set<ProviderCredential>().Include(c => c.Provider)
            .FirstOrDefaultAsync(c => c.Id == credentialId && c.ProviderId == id, cancellationToken);
        if (credential is null)
        {
            return ApiErrors.NotFound($"Credential {credentialId} of provider {id} does not exist.");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, ManagementJsonContext.Default.CredentialRequest);
        if (error is not null)
        {
            return error;
        }
        var providerName = credential.Provider!.Name;
        if (ValidateCredential(body!, requireValue: false, providerName) is { } invalid)
        {
            return invalid;
        }
        if (body!.Name is not null)
        {
            credential.Name = EmptyToNull(body.Name);
        }
        if (body.Value is not null)
        {
            // A new secret is a fresh start: back into rotation, past errors forgotten.
            var value = body.Value.Trim();
            credential.EncryptedValue = s.Protector.Protect(credential.Id, value);
            credential.MaskedValue = MaskOf(providerName, value);
            Reactivate(credential);
        }
        credential.Weight = body.Weight ?? credential.Weight;
        credential.UpdatedAt = s.Time.GetUtcNow();
        await s.Db.SaveChangesAsync(cancellationToken);
        await s.Changes.PublishAsync("credential");
        return TypedResults.Ok(ToResponse(credential));
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> DeleteCredential(
        Guid id, Guid credentialId, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var deleted = await s.Db.Set<ProviderCredential>().Where(c => c.Id == credentialId && c.ProviderId == id).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return ApiErrors.NotFound($"Credential {credentialId} of provider {id} does not exist.");
        }
        await s.Changes.PublishAsync("credential");
        return TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<CredentialTestResponse>, JsonHttpResult<ErrorEnvelope>>> TestCredential(
        Guid id, Guid credentialId, HttpRequest request, [AsParameters] ProviderAdminServices s, CancellationToken cancellationToken)
    {
        var credential = await s.Db.Set<ProviderCredential>().Include(c => c.Provider)
            .FirstOrDefaultAsync(c => c.Id == credentialId && c.ProviderId == id, cancellationToken);
        if (credential?.Provider is not { } provider)
        {
            return ApiErrors.NotFound($"Credential {credentialId} of provider {id} does not exist.");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, ManagementJsonContext.Default.CredentialTestRequest);
        if (error is not null)
        {
            return error;
        }
        if (string.IsNullOrWhiteSpace(body!.Model))
        {
            return ApiErrors.BadRequest("'model' is required: the provider's model id to test with (e.g. gpt-4o-mini).", "model");
        }
        if (credential.Status == CredentialStatus.Disabled)
        {
            return ApiErrors.Conflict("This credential was disabled when the provider's base URL changed; enter its value again before testing it.", null);
        }
        var kind = ProviderKinds.Find(provider.Name);
        if (kind is null)
        {
            return ApiErrors.BadRequest($"Provider '{provider.Name}' is not a known provider kind.", null);
        }
        string secret;
        try
        {
            secret = s.Protector.Unprotect(credential.Id, credential.EncryptedValue);
        }
        catch (CryptographicException)
        {
            return TypedResults.Ok(new CredentialTestResponse(false, null,
                $"The stored value cannot be decrypted with the configured {SecretsOptions.MasterKeyPath}; enter it again."));
        }

        var settings = ProviderSettings.FromJson(provider.Settings);
        var result = await s.Tester.TestAsync(kind, ProviderCatalog.BaseUrlOf(kind, provider.BaseUrl, settings), settings, secret, body.Model.Trim(), cancellationToken);
        if (!result.Ok)
        {
            return TypedResults.Ok(new CredentialTestResponse(false, null, result.Error ?? "The test call failed."));
        }
        if (credential.Status != CredentialStatus.Active)
        {
            Reactivate(credential);
            credential.UpdatedAt = s.Time.GetUtcNow();
            await s.Db.SaveChangesAsync(cancellationToken);
            await s.Changes.PublishAsync("credential");
        }
        return TypedResults.Ok(new CredentialTestResponse(true, result.LatencyMs, null));
    }

    // :: Helpers

    private static JsonHttpResult<ErrorEnvelope>? ValidateProvider(ProviderRequest body, bool requireName)
    {
        if (body.Name is null ? requireName : ProviderKinds.Configurable.All(k => !string.Equals(k.Name, body.Name.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            return ApiErrors.BadRequest(
                $"'name' must be one of: {string.Join(", ", ProviderKinds.Configurable.Select(k => k.Name))}.", "name");
        }
        if (body.DisplayName is { Length: > MaxTextLength })
        {
            return ApiErrors.BadRequest($"'displayName' is longer than {MaxTextLength} characters.", "displayName");
        }
        if (!string.IsNullOrWhiteSpace(body.BaseUrl)
            && (body.BaseUrl.Length > 2048 || !Uri.TryCreate(body.BaseUrl.Trim(), UriKind.Absolute, out var url)
                || url.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment)))
        {
            return ApiErrors.BadRequest("'baseUrl' must be an absolute http(s) URL without query or fragment, e.g. https://api.openai.com/v1/.", "baseUrl");
        }
        return null;
    }

    private static JsonHttpResult<ErrorEnvelope>? ValidateCredential(CredentialRequest body, bool requireValue, string providerName)
    {
        if (body.Value is null ? requireValue : string.IsNullOrWhiteSpace(body.Value))
        {
            return ApiErrors.BadRequest("'value' is required: the provider API key.", "value");
        }
        if (body.Value is { Length: > MaxSecretLength })
        {
            return ApiErrors.BadRequest($"'value' is longer than {MaxSecretLength} characters.", "value");
        }
        if (body.Value is not null && providerName == ProviderKinds.Bedrock.Name && AwsCredential.TryParse(body.Value, out var problem) is null)
        {
            return ApiErrors.BadRequest($"A Bedrock credential's 'value' {problem}.", "value");
        }
        if (body.Name is { Length: > MaxTextLength })
        {
            return ApiErrors.BadRequest($"'name' is longer than {MaxTextLength} characters.", "name");
        }
        if (body.Weight is < ProviderCredential.MinWeight or > ProviderCredential.MaxWeight)
        {
            return ApiErrors.BadRequest($"'weight' must be between {ProviderCredential.MinWeight} and {ProviderCredential.MaxWeight}.", "weight");
        }
        return null;
    }

    private static void Reactivate(ProviderCredential credential)
    {
        credential.Status = CredentialStatus.Active;
        credential.LastError = null;
        credential.NextCheckAt = null;
        credential.FailedChecks = 0;
    }

    internal static async Task<bool> TrySaveAsync(AigneHubDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            db.ChangeTracker.Clear();
            return false;
        }
    }

    /// <summary>What lists show of a credential: an AWS credential by its access key id (not a secret), any other masked.</summary>
    private static string MaskOf(string providerName, string value) =>
        providerName == ProviderKinds.Bedrock.Name && AwsCredential.TryParse(value, out _) is { } aws
            ? CredentialProtector.Mask(aws.AccessKeyId)
            : CredentialProtector.Mask(value);

    /// <summary>Where calls of a provider with this name, configured URL and settings go.</summary>
    private static string? EffectiveBaseUrl(string name, string? baseUrl, ProviderSettings settings) =>
        ProviderKinds.Find(name) is { } kind ? ProviderCatalog.BaseUrlOf(kind, baseUrl, settings).AbsoluteUri : baseUrl;

    /// <summary>A provider's settings checked against what its kind takes; each refusal names the field.</summary>
    private static (ProviderSettings Settings, JsonHttpResult<ErrorEnvelope>? Error) ReadSettings(ProviderKind kind, ProviderSettingsBody? body)
    {
        body ??= new ProviderSettingsBody(); // none given: still checked, a kind may require one
        var region = EmptyToNull(body.Region);
        var apiVersion = EmptyToNull(body.ApiVersion);
        var deployments = body.Deployments is { Count: > 0 } d ? d : null;
        JsonHttpResult<ErrorEnvelope>? Refuse(string field, string message) => ApiErrors.BadRequest(message, $"settings.{field}");
        if (region is not null)
        {
            if (!kind.Settings.HasFlag(ProviderSettingNames.Region))
            {
                return (ProviderSettings.None, Refuse("region", $"{kind.Name} takes no region."));
            }
            if (region.Length > 32 || !RegionPattern().IsMatch(region))
            {
                return (ProviderSettings.None, Refuse("region", "'settings.region' must be an AWS region such as us-east-1."));
            }
        }
        if (apiVersion is not null)
        {
            if (!kind.Settings.HasFlag(ProviderSettingNames.ApiVersion))
            {
                return (ProviderSettings.None, Refuse("apiVersion", $"{kind.Name} takes no API version."));
            }
            if (!ApiVersionPattern().IsMatch(apiVersion))
            {
                return (ProviderSettings.None, Refuse("apiVersion", "'settings.apiVersion' must be a dated version such as 2024-10-21 or 2025-04-01-preview."));
            }
        }
        if (deployments is not null)
        {
            if (!kind.Settings.HasFlag(ProviderSettingNames.Deployments))
            {
                return (ProviderSettings.None, Refuse("deployments", $"{kind.Name} takes no deployments."));
            }
            if (deployments.Count > MaxDeployments)
            {
                return (ProviderSettings.None, Refuse("deployments", $"'settings.deployments' holds at most {MaxDeployments} models."));
            }
            foreach (var (model, deployment) in deployments)
            {
                if (string.IsNullOrWhiteSpace(model) || model.Length > MaxTextLength || model.Any(char.IsControl))
                {
                    return (ProviderSettings.None, Refuse("deployments", "Each model in 'settings.deployments' must be a model id of at most 200 characters."));
                }
                if (deployment is null || !DeploymentPattern().IsMatch(deployment))
                {
                    return (ProviderSettings.None, Refuse("deployments",
                        $"The deployment of '{model}' must be 1-64 letters, digits, '.', '_' or '-' (an Azure deployment name)."));
                }
            }
        }
        if (kind.Settings.HasFlag(ProviderSettingNames.Region) && region is null)
        {
            return (ProviderSettings.None, Refuse("region", $"'settings.region' is required for {kind.Name}: the AWS region its calls go to, e.g. us-east-1."));
        }
        return (new ProviderSettings(region, apiVersion, deployments?.ToDictionary(p => p.Key.Trim(), p => p.Value, StringComparer.Ordinal)), null);
    }

    private static ProviderSettingsBody? ToBody(ProviderSettings settings) => settings.IsEmpty
        ? null
        : new ProviderSettingsBody(settings.Region, settings.ApiVersion, settings.Deployments?.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));

    private const int MaxDeployments = 200;

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]$")]
    private static partial Regex RegionPattern();

    [GeneratedRegex("^[0-9]{4}-[0-9]{2}-[0-9]{2}(-preview)?$")]
    private static partial Regex ApiVersionPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex DeploymentPattern();

    internal static string? EmptyToNull(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static ProviderResponse ToResponse(Provider p, int credentials, int active)
    {
        var kind = ProviderKinds.Find(p.Name);
        var settings = ProviderSettings.FromJson(p.Settings);
        return new ProviderResponse(p.Id, p.Name, p.DisplayName, p.BaseUrl,
            kind is null ? p.BaseUrl ?? "" : ProviderCatalog.BaseUrlOf(kind, p.BaseUrl, settings).AbsoluteUri,
            kind?.Protocol.ToString() ?? "", p.Enabled, credentials, active, p.CreatedAt, p.UpdatedAt, ToBody(settings));
    }

    private static CredentialResponse ToResponse(ProviderCredential c) =>
        new(c.Id, c.ProviderId, c.Name, c.MaskedValue, c.Weight, c.Status.ToString().ToLowerInvariant(), c.LastError, c.LastErrorAt,
            c.LastUsedAt, c.NextCheckAt, c.CreatedAt, c.UpdatedAt);
}
