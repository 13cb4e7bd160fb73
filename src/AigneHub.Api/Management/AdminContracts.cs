using System.Text.Json;
using System.Text.Json.Serialization;
using AigneHub.Api.Providers;
using AigneHub.Data;

namespace AigneHub.Api.Management;

// Wire shapes of the provider admin API and the model status route. Request fields are nullable so that a missing
// field is a clear 400 naming it rather than a binding failure; on PUT an omitted (or null) field keeps its value
// and an empty string clears an optional text.

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

public sealed record ModelRequest(string? Provider, string? Model, string? Type, string? DisplayName, JsonElement? Metadata, bool? Enabled);

public sealed record ModelResponse(Guid Id, Guid ProviderId, string Provider, string Model, string Type, string? DisplayName,
    JsonElement? Metadata, bool Enabled, DateTimeOffset CreatedAt);

public sealed record ModelStatusResponse(
    bool Available,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProviderRequest))]
[JsonSerializable(typeof(ProviderResponse))]
[JsonSerializable(typeof(List<ProviderResponse>))]
[JsonSerializable(typeof(CredentialRequest))]
[JsonSerializable(typeof(CredentialResponse))]
[JsonSerializable(typeof(List<CredentialResponse>))]
[JsonSerializable(typeof(CredentialTestRequest))]
[JsonSerializable(typeof(CredentialTestResponse))]
[JsonSerializable(typeof(ModelRequest))]
[JsonSerializable(typeof(ModelResponse))]
[JsonSerializable(typeof(List<ModelResponse>))]
[JsonSerializable(typeof(ModelStatusResponse))]
public sealed partial class ProviderManagementJson : JsonSerializerContext;

internal static class ModelTypes
{
    public static bool TryParse(string? text, out ModelType type) =>
        Enum.TryParse(text, ignoreCase: true, out type) && Enum.IsDefined(type) && !int.TryParse(text, out _);

    public static string Name(ModelType type) => type.ToString().ToLowerInvariant();
}
