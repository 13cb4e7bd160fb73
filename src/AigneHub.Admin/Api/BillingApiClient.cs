using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

/// <summary>Model rates, credits and meter events (<c>/api/admin/model-rates</c>, <c>/api/v2/credits</c>,
/// <c>/api/admin/users/{id}/credits</c>, <c>/api/admin/meter-events</c>).</summary>
public sealed class BillingApiClient(HttpClient http)
{
    public Task<List<ModelRateResponse>> ListRatesAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/model-rates", BillingJsonContext.Default.ListModelRateResponse, ct);

    public Task<ModelRateResponse> CreateRateAsync(ModelRateRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Post, "/api/admin/model-rates", body, BillingJsonContext.Default.ModelRateRequest, BillingJsonContext.Default.ModelRateResponse, ct);

    public Task<ModelRateResponse> UpdateRateAsync(Guid id, ModelRateRequest body, CancellationToken ct = default) =>
        SendJsonAsync(http, HttpMethod.Put, $"/api/admin/model-rates/{id}", body, BillingJsonContext.Default.ModelRateRequest, BillingJsonContext.Default.ModelRateResponse, ct);

    public Task DeleteRateAsync(Guid id, CancellationToken ct = default) => SendAsync(http, HttpMethod.Delete, $"/api/admin/model-rates/{id}", ct);

    public Task<List<ModelRateHistoryResponse>> RateHistoryAsync(Guid id, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/model-rates/{id}/history", BillingJsonContext.Default.ListModelRateHistoryResponse, ct);

    public Task<CreditsResponse> GetMyCreditsAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/v2/credits", BillingJsonContext.Default.CreditsResponse, ct);

    public Task<CreditsResponse> GetUserCreditsAsync(Guid userId, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/users/{userId}/credits", BillingJsonContext.Default.CreditsResponse, ct);

    /// <summary>Grants credits. <paramref name="idempotencyKey"/> names this submission of the form: sent again (a
    /// retry after a lost answer), the Api replays the first grant instead of making a second.</summary>
    public async Task<GrantResponse> GrantAsync(Guid userId, GrantRequest body, string idempotencyKey, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/admin/users/{userId}/credits/grants")
        {
            Content = System.Net.Http.Json.JsonContent.Create(body, BillingJsonContext.Default.GrantRequest),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return await SendAsync(http, request, BillingJsonContext.Default.GrantResponse, ct);
    }

    public Task<PagedResponse<LedgerEntryResponse>> UserTransactionsAsync(Guid userId, int page, int pageSize, CancellationToken ct = default) =>
        GetAsync(http, $"/api/admin/users/{userId}/credits/transactions?page={page}&pageSize={pageSize}", BillingJsonContext.Default.PagedResponseLedgerEntryResponse, ct);

    public Task<PagedResponse<LedgerEntryResponse>> MyTransactionsAsync(int page, int pageSize, CancellationToken ct = default) =>
        GetAsync(http, $"/api/v2/credits/transactions?page={page}&pageSize={pageSize}", BillingJsonContext.Default.PagedResponseLedgerEntryResponse, ct);

    public Task<List<DeadMeterEventResponse>> ListDeadMeterEventsAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/admin/meter-events/dead", BillingJsonContext.Default.ListDeadMeterEventResponse, ct);

    /// <summary>Puts a dead-lettered meter event back in the Worker's delivery queue.</summary>
    public Task RetryMeterEventAsync(Guid modelCallId, CancellationToken ct = default) =>
        SendAsync(http, HttpMethod.Post, $"/api/admin/meter-events/{modelCallId}/retry", ct);
}
