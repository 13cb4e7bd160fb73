using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

/// <summary>Providers, their credentials and health, the model catalogue and the model aliases (<c>/api/admin/providers</c>,
/// <c>/api/admin/models</c>, <c>/api/admin/aliases</c>).</summary>
public sealed class ProvidersApiClient(HttpClient http)
{
    /// <summary>The provider names the Api accepts (its <c>ProviderKinds.Configurable</c>).</summary>
    public static readonly IReadOnlyList<string> ProviderNames =
        ["openai", "anthropic", "google", "deepseek", "xai", "openrouter", "ollama", "doubao", "poe", "mistral", "groq", "azure", "bedrock", "ideogram"];

    /// <summary>Providers addressed by deployment (Azure OpenAI): an API version and model → deployment settings.</summary>
    public static bool TakesDeployments(string? name) => name == "azure";

    /// <summary>Providers addressed by AWS region, with AWS credentials (Amazon Bedrock).</summary>
    public static bool IsAws(string? name) => name == "bedrock";

    /// <summary>The credential value the Api stores for an AWS provider; null when nothing was entered (keep the stored one).</summary>
    public static string? AwsCredentialValue(string? accessKeyId, string? secretAccessKey, string? sessionToken)
    {
        if (string.IsNullOrWhiteSpace(accessKeyId) && string.IsNullOrWhiteSpace(secretAccessKey) && string.IsNullOrWhiteSpace(sessionToken))
        {
            return null;
        }
        var value = new System.Text.Json.Nodes.JsonObject
        {
            ["accessKeyId"] = accessKeyId?.Trim() ?? "",
            ["secretAccessKey"] = secretAccessKey?.Trim() ?? "",
        };
        if (!string.IsNullOrWhiteSpace(sessionToken))
        {
            value["sessionToken"] = sessionToken.Trim();
        }
        return value.ToJsonString();
    }

    public Task<List<ProviderResponse>> ListAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/providers", ManagementJsonContext.Default.ListProviderResponse, ct);

    public Task<ProviderResponse> CreateAsync(ProviderRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/providers", body, ManagementJsonContext.Default.ProviderRequest, ManagementJsonContext.Default.ProviderResponse, ct);

    public Task<ProviderResponse> UpdateAsync(Guid id, ProviderRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/providers/{id}", body, ManagementJsonContext.Default.ProviderRequest, ManagementJsonContext.Default.ProviderResponse, ct);

    public Task DeleteAsync(Guid id, CancellationToken ct = default) => SendAsync(http, HttpMethod.Delete, $"/api/admin/providers/{id}", ct);

    public Task<List<CredentialResponse>> ListCredentialsAsync(Guid providerId, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/providers/{providerId}/credentials", ManagementJsonContext.Default.ListCredentialResponse, ct);

    public Task<CredentialResponse> CreateCredentialAsync(Guid providerId, CredentialRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, $"/api/admin/providers/{providerId}/credentials", body,
            ManagementJsonContext.Default.CredentialRequest, ManagementJsonContext.Default.CredentialResponse, ct);

    public Task<CredentialResponse> UpdateCredentialAsync(Guid providerId, Guid credentialId, CredentialRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/providers/{providerId}/credentials/{credentialId}", body,
            ManagementJsonContext.Default.CredentialRequest, ManagementJsonContext.Default.CredentialResponse, ct);

    public Task DeleteCredentialAsync(Guid providerId, Guid credentialId, CancellationToken ct = default) =>
        SendAsync(http, HttpMethod.Delete, $"/api/admin/providers/{providerId}/credentials/{credentialId}", ct);

    public Task<CredentialTestResponse> TestCredentialAsync(Guid providerId, Guid credentialId, string model, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, $"/api/admin/providers/{providerId}/credentials/{credentialId}/test", new CredentialTestRequest(model),
            ManagementJsonContext.Default.CredentialTestRequest, ManagementJsonContext.Default.CredentialTestResponse, ct);

    public Task<List<ModelResponse>> ListCatalogAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/models", ManagementJsonContext.Default.ListModelResponse, ct);

    public Task<ModelResponse> CreateModelAsync(ModelRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/models", body, ManagementJsonContext.Default.ModelRequest, ManagementJsonContext.Default.ModelResponse, ct);

    public Task<ModelResponse> UpdateModelAsync(Guid id, ModelRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/models/{id}", body, ManagementJsonContext.Default.ModelRequest, ManagementJsonContext.Default.ModelResponse, ct);

    public Task DeleteModelAsync(Guid id, CancellationToken ct = default) => SendAsync(http, HttpMethod.Delete, $"/api/admin/models/{id}", ct);

    /// <summary>Every catalogue entry with its rate and what stands between it and a served call.</summary>
    public Task<ModelSetupResponse> ListServableAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/models/servable", ManagementJsonContext.Default.ModelSetupResponse, ct);

    /// <summary>A one-token probe of a catalogue model (not billed, not in the call log).</summary>
    public async Task<CredentialTestResponse> TestModelAsync(Guid id, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/models/{id}/test");
        return await SendAsync(http, request, ManagementJsonContext.Default.CredentialTestResponse, ct);
    }

    /// <summary>The model ids the provider's own <c>/models</c> lists.</summary>
    public Task<UpstreamModelsResponse> ListUpstreamModelsAsync(Guid providerId, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/providers/{providerId}/upstream-models", ManagementJsonContext.Default.UpstreamModelsResponse, ct);

    public Task<ProvidersHealthResponse> GetHealthAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/providers/health", ManagementJsonContext.Default.ProvidersHealthResponse, ct);

    public Task<List<ModelAliasResponse>> ListAliasesAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/aliases", AliasesJsonContext.Default.ListModelAliasResponse, ct);

    public Task<ModelAliasResponse> CreateAliasAsync(ModelAliasRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/aliases", body, AliasesJsonContext.Default.ModelAliasRequest, AliasesJsonContext.Default.ModelAliasResponse, ct);

    public Task<ModelAliasResponse> UpdateAliasAsync(Guid id, ModelAliasRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/aliases/{id}", body, AliasesJsonContext.Default.ModelAliasRequest, AliasesJsonContext.Default.ModelAliasResponse, ct);

    public Task DeleteAliasAsync(Guid id, CancellationToken ct = default) => SendAsync(http, HttpMethod.Delete, $"/api/admin/aliases/{id}", ct);
}
