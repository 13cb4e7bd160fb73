using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Management;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProviderRequest))]
[JsonSerializable(typeof(ProviderSettingsBody))]
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
[JsonSerializable(typeof(ModelSetupResponse))]
[JsonSerializable(typeof(UpstreamModelsResponse))]
[JsonSerializable(typeof(ProvidersHealthResponse))]
public sealed partial class ManagementJsonContext : JsonSerializerContext;
