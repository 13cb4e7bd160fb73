using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Management;

// Providers and their credentials (/api/admin/providers). Request fields are nullable so that a missing field is a
// clear 400 naming it rather than a binding failure; on PUT an omitted (or null) field keeps its value and an empty
// string clears an optional text.

/// <param name="Settings">The kind's own settings (Bedrock: <c>region</c>; Azure OpenAI: <c>apiVersion</c>,
/// <c>deployments</c>); on PUT, when present, they replace the stored ones as a whole.</param>
public sealed record ProviderRequest(string? Name, string? DisplayName, string? BaseUrl, bool? Enabled, ProviderSettingsBody? Settings = null);

public sealed record ProviderResponse(Guid Id, string Name, string? DisplayName, string? BaseUrl, string EffectiveBaseUrl, string Protocol,
    bool Enabled, int CredentialCount, int ActiveCredentialCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ProviderSettingsBody? Settings = null);

/// <summary>A provider's own settings: Amazon Bedrock's AWS <see cref="Region"/> (e.g. <c>us-east-1</c>); Azure OpenAI's
/// <see cref="ApiVersion"/> (e.g. <c>2024-10-21</c>) and <see cref="Deployments"/> (model → the deployment serving it).</summary>
public sealed record ProviderSettingsBody(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Region = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ApiVersion = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Dictionary<string, string>? Deployments = null);

public sealed record CredentialRequest(string? Name, string? Value, int? Weight);

/// <summary>A credential as listed: the value itself is never returned, only <see cref="MaskedValue"/>.</summary>
public sealed record CredentialResponse(Guid Id, Guid ProviderId, string? Name, string MaskedValue, int Weight, string Status,
    string? LastError, DateTimeOffset? LastErrorAt, DateTimeOffset? LastUsedAt, DateTimeOffset? NextCheckAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CredentialTestRequest(string? Model);

public sealed record CredentialTestResponse(
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LatencyMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);
