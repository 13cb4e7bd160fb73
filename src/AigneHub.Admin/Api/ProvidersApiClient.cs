using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

/// <summary>Providers, their credentials and the model catalogue (<c>/api/admin/providers</c>, <c>/api/admin/models</c>).</summary>
public sealed class ProvidersApiClient(HttpClient http)
{
    /// <summary>The provider names the Api accepts (issue 3's fixed list).</summary>
    public static readonly IReadOnlyList<string> ProviderNames = ["openai", "anthropic", "google", "deepseek", "xai", "openrouter", "ollama", "doubao", "poe"];

    public Task<List<ProviderDto>> ListAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/providers", AdminJsonContext.Default.ListProviderDto, ct);

    public Task<ProviderDto> CreateAsync(ProviderRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/providers", body, AdminJsonContext.Default.ProviderRequest, AdminJsonContext.Default.ProviderDto, ct);

    public Task<ProviderDto> UpdateAsync(Guid id, ProviderRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/providers/{id}", body, AdminJsonContext.Default.ProviderRequest, AdminJsonContext.Default.ProviderDto, ct);

    public Task DeleteAsync(Guid id, CancellationToken ct = default) => SendAsync(http, HttpMethod.Delete, $"/api/admin/providers/{id}", ct);

    public Task<List<CredentialDto>> ListCredentialsAsync(Guid providerId, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/providers/{providerId}/credentials", AdminJsonContext.Default.ListCredentialDto, ct);

    public Task<CredentialDto> CreateCredentialAsync(Guid providerId, CredentialRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, $"/api/admin/providers/{providerId}/credentials", body,
            AdminJsonContext.Default.CredentialRequest, AdminJsonContext.Default.CredentialDto, ct);

    public Task<CredentialDto> UpdateCredentialAsync(Guid providerId, Guid credentialId, CredentialRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/providers/{providerId}/credentials/{credentialId}", body,
            AdminJsonContext.Default.CredentialRequest, AdminJsonContext.Default.CredentialDto, ct);

    public Task DeleteCredentialAsync(Guid providerId, Guid credentialId, CancellationToken ct = default) =>
        SendAsync(http, HttpMethod.Delete, $"/api/admin/providers/{providerId}/credentials/{credentialId}", ct);

    public Task<CredentialTestDto> TestCredentialAsync(Guid providerId, Guid credentialId, string model, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, $"/api/admin/providers/{providerId}/credentials/{credentialId}/test", new CredentialTestRequest(model),
            AdminJsonContext.Default.CredentialTestRequest, AdminJsonContext.Default.CredentialTestDto, ct);

    public Task<List<CatalogModelDto>> ListCatalogAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/models", AdminJsonContext.Default.ListCatalogModelDto, ct);
}
