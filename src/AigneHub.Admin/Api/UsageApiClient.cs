using System.Globalization;
using System.Text;
using static AigneHub.Admin.Api.ApiHttp;

namespace AigneHub.Admin.Api;

/// <summary>
/// Usage: quota, trends and the call log. Every route exists for the signed-in user (<c>/api/v2/...</c>) and, for
/// admins, across users (<c>/api/admin/...</c>); <paramref name="admin"/> picks the scope.
/// </summary>
public sealed class UsageApiClient(HttpClient http)
{
    public Task<QuotaResponse> GetQuotaAsync(CancellationToken ct = default) =>
        GetAsync(http, "/api/v2/usage/quota", UsageJsonContext.Default.QuotaResponse, ct);

    /// <param name="granularity"><c>hour</c> or <c>day</c>.</param>
    public Task<TrendsResponse> GetTrendsAsync(bool admin, CallFilter filter, string granularity, int timeZoneOffsetMinutes, CancellationToken ct = default) =>
        GetAsync(http, Url(admin, "usage/trends", filter, ("granularity", granularity),
            ("timezoneOffset", timeZoneOffsetMinutes.ToString(CultureInfo.InvariantCulture))), UsageJsonContext.Default.TrendsResponse, ct);

    public Task<PagedResponse<ModelCallResponse>> ListCallsAsync(bool admin, CallFilter filter, int page, int pageSize, CancellationToken ct = default) =>
        GetAsync(http, Url(admin, "model-calls", filter, ("page", page.ToString(CultureInfo.InvariantCulture)),
            ("pageSize", pageSize.ToString(CultureInfo.InvariantCulture))), UsageJsonContext.Default.PagedResponseModelCallResponse, ct);

    /// <param name="by"><c>model</c>, <c>provider</c>, <c>key</c> (and for admins <c>user</c>, <c>app</c>).</param>
    public Task<UsageBreakdownResponse> GetBreakdownAsync(bool admin, CallFilter filter, string by, CancellationToken ct = default) =>
        GetAsync(http, Url(admin, "usage/breakdown", filter, ("by", by)), UsageJsonContext.Default.UsageBreakdownResponse, ct);

    /// <summary>The CSV export as bytes (the Api caps it at 10,000 rows).</summary>
    public async Task<byte[]> ExportCallsAsync(bool admin, CallFilter filter, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(admin, "model-calls/export", filter));
        using var response = await TrySendAsync(http, request, HttpCompletionOption.ResponseContentRead, ct);
        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadAsByteArrayAsync(ct);
    }

    private static string Prefix(bool admin) => admin ? "/api/admin" : "/api/v2";

    internal static string Url(bool admin, string path, CallFilter filter, params (string Name, string? Value)[] extra)
    {
        var query = new StringBuilder();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
            }
        }
        Add("from", filter.From?.ToString("O", CultureInfo.InvariantCulture));
        Add("to", filter.To?.ToString("O", CultureInfo.InvariantCulture));
        Add("status", filter.Status);
        Add("model", filter.Model);
        Add("type", filter.Type);
        Add("provider", filter.Provider);
        Add("appId", filter.AppId);
        Add("userId", filter.UserId?.ToString());
        Add("userEmail", filter.UserEmail);
        Add("accessKeyId", filter.AccessKeyId?.ToString());
        foreach (var (name, value) in extra)
        {
            Add(name, value);
        }
        return $"{Prefix(admin)}/{path}{query}";
    }
}

/// <summary>Filters of the call log and of the usage charts, as query parameters; null means "any".</summary>
public sealed record CallFilter
{
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public string? Status { get; init; }
    public string? Model { get; init; }
    public string? Type { get; init; }
    public string? Provider { get; init; }
    public string? AppId { get; init; }
    public Guid? UserId { get; init; }
    public string? UserEmail { get; init; }
    public Guid? AccessKeyId { get; init; }
}
