using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Management;

// Providers and their credentials (/api/admin/providers). Request fields are nullable so that a missing field is a
// clear 400 naming it rather than a binding failure; on PUT an omitted (or null) field keeps its value and an empty
// string clears an optional text.

public sealed record ProviderRequest(string? Name, string? DisplayName, string? BaseUrl, bool? Enabled);

public sealed record ProviderResponse(Guid Id, string Name, string? DisplayName, string? BaseUrl, string EffectiveBaseUrl, string Protocol,
    bool Enabled, int CredentialCount, int ActiveCredentialCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

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
