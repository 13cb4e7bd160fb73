using System.Net.Http.Json;

namespace AigneHub.Admin.Api;

/// <summary>
/// The Admin's only way to the data: HTTP to the Api, found by service discovery (<c>http://api</c>). Standalone,
/// point it elsewhere with <c>services__api__http__0=http://host:port</c>.
/// </summary>
public sealed class AigneHubApiClient(HttpClient http)
{
    /// <summary>The Api's readiness report. A 503 still carries the report body, so it is read, not thrown.</summary>
    public async Task<ApiHealth> GetHealthAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await http.GetAsync(ServiceDefaultsExtensions.HealthPath, cancellationToken);
            var report = await response.Content.ReadFromJsonAsync(HealthJsonContext.Default.HealthReportDto, cancellationToken);
            return report is null
                ? ApiHealth.Unreachable($"The Api answered {(int)response.StatusCode} with no health report.")
                : new ApiHealth(true, report, null);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
        {
            return ApiHealth.Unreachable(ex.Message);
        }
    }
}

public sealed record ApiHealth(bool Reachable, HealthReportDto? Report, string? Error)
{
    public static ApiHealth Unreachable(string error) => new(false, null, error);
}

public static class AigneHubApiClientExtensions
{
    public static IHostApplicationBuilder AddAigneHubApiClient(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHttpClient<AigneHubApiClient>(http =>
            http.BaseAddress = new Uri(builder.Configuration["AigneHub:ApiBaseUrl"] ?? "http://api"));
        return builder;
    }
}
