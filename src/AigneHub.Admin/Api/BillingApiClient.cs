using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

/// <summary>Model rates and credits (<c>/api/admin/model-rates</c>, <c>/api/v2/credits</c>, <c>/api/admin/users/{id}/credits</c>).</summary>
public sealed class BillingApiClient(HttpClient http)
{
    public Task<List<ModelRateDto>> ListRatesAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/model-rates", AdminJsonContext.Default.ListModelRateDto, ct);

    public Task<ModelRateDto> CreateRateAsync(ModelRateRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/model-rates", body, AdminJsonContext.Default.ModelRateRequest, AdminJsonContext.Default.ModelRateDto, ct);

    public Task<ModelRateDto> UpdateRateAsync(Guid id, ModelRateRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/model-rates/{id}", body, AdminJsonContext.Default.ModelRateRequest, AdminJsonContext.Default.ModelRateDto, ct);

    public Task DeleteRateAsync(Guid id, CancellationToken ct = default) => SendAsync(http, HttpMethod.Delete, $"/api/admin/model-rates/{id}", ct);

    public Task<List<ModelRateHistoryDto>> RateHistoryAsync(Guid id, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/model-rates/{id}/history", AdminJsonContext.Default.ListModelRateHistoryDto, ct);

    public Task<CreditsDto> GetMyCreditsAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/v2/credits", AdminJsonContext.Default.CreditsDto, ct);

    public Task<CreditsDto> GetUserCreditsAsync(Guid userId, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/users/{userId}/credits", AdminJsonContext.Default.CreditsDto, ct);

    public Task<GrantDto> GrantAsync(Guid userId, GrantRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, $"/api/admin/users/{userId}/credits/grants", body, AdminJsonContext.Default.GrantRequest,
            AdminJsonContext.Default.GrantDto, ct);

    public Task<PagedDto<LedgerEntryDto>> UserTransactionsAsync(Guid userId, int page, int pageSize, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/users/{userId}/credits/transactions?page={page}&pageSize={pageSize}", AdminJsonContext.Default.PagedDtoLedgerEntryDto, ct);

    public Task<PagedDto<LedgerEntryDto>> MyTransactionsAsync(int page, int pageSize, CancellationToken ct = default) =>
        GetAsync(http, $"/api/v2/credits/transactions?page={page}&pageSize={pageSize}", AdminJsonContext.Default.PagedDtoLedgerEntryDto, ct);
}
