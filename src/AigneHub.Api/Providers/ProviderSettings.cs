using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Api.Providers;

/// <summary>The members of <see cref="ProviderSettings"/>, for saying which a <see cref="ProviderKind"/> takes.</summary>
[Flags]
public enum ProviderSettingNames
{
    None = 0,
    Region = 1,
    ApiVersion = 2,
    Deployments = 4,
}

/// <summary>
/// What a provider needs besides its base URL and keys, stored with the provider (a <c>jsonb</c> column):
/// Amazon Bedrock's AWS <see cref="Region"/>; Azure OpenAI's <see cref="ApiVersion"/> and the deployment serving
/// each model (<see cref="Deployments"/>, model → deployment; a model without one is its own deployment name).
/// </summary>
public sealed record ProviderSettings(string? Region = null, string? ApiVersion = null, IReadOnlyDictionary<string, string>? Deployments = null)
{
    public static readonly ProviderSettings None = new();

    /// <summary>Azure OpenAI's GA data-plane version, used when none is configured.</summary>
    public const string DefaultAzureApiVersion = "2024-10-21";

    public string DeploymentOf(string model) => Deployments?.GetValueOrDefault(model) ?? model;

    public bool IsEmpty => Region is null && ApiVersion is null && Deployments is not { Count: > 0 };

    /// <summary>The stored text (null when there is nothing to store).</summary>
    public string? ToJson() => IsEmpty ? null : JsonSerializer.Serialize(this, ProviderSettingsJson.Default.ProviderSettings);

    /// <summary>The stored text read back; a row written by hand that cannot be read counts as no settings.</summary>
    public static ProviderSettings FromJson(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return None;
        }
        try
        {
            return JsonSerializer.Deserialize(json, ProviderSettingsJson.Default.ProviderSettings) ?? None;
        }
        catch (JsonException)
        {
            return None;
        }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ProviderSettings))]
internal sealed partial class ProviderSettingsJson : JsonSerializerContext;
