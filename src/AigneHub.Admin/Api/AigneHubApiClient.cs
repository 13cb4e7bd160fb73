using System.Net.Http.Json;
using Microsoft.Extensions.Http.Resilience;

namespace AigneHub.Admin.Api;

/// <summary>
/// The Admin's only way to the data: HTTP to the Api, found by service discovery (<c>http://api</c>). Standalone,
/// point it elsewhere with <c>services__api__http__0=http://host:port</c>. This client holds the health probe (the
/// status for everyone, the checks for admins); each API area has its own typed client next to it.
/// </summary>
public sealed class AigneHubApiClient(HttpClient http)
{
    /// <summary>The Api's readiness report. A 503 still carries the report body, so it is read, not thrown.</summary>
    public Task<ApiHealth> GetHealthAsync(CancellationToken cancellationToken = default) =>
        HealthProbe.ReadAsync(http, "Api", cancellationToken);
}

/// <summary>The Worker's readiness report (<c>http://worker</c> by service discovery), for the overview.</summary>
public sealed class WorkerHealthClient(HttpClient http)
{
    public Task<ApiHealth> GetHealthAsync(CancellationToken cancellationToken = default) =>
        HealthProbe.ReadAsync(http, "Worker", cancellationToken);
}

internal static class HealthProbe
{
    /// <summary>Reads a service's <c>/health</c> report; an unreachable service is a result, not an exception.</summary>
    public static async Task<ApiHealth> ReadAsync(HttpClient http, string service, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(ServiceDefaultsExtensions.HealthPath, cancellationToken);
            var report = await response.Content.ReadFromJsonAsync(HealthJsonContext.Default.HealthReportDto, cancellationToken);
            return report is null
                ? ApiHealth.Unreachable($"The {service} answered {(int)response.StatusCode} with no health report.")
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
    /// <summary>
    /// One typed client per API area, all on the Api's discovered address. Calls made for a signed-in user carry
    /// their session token (<see cref="ApiAccessTokenHandler"/>); the auth client does not (it obtains the token).
    /// </summary>
    public static IHostApplicationBuilder AddAigneHubApiClient(this IHostApplicationBuilder builder)
    {
        var baseAddress = new Uri(builder.Configuration["AigneHub:ApiBaseUrl"] ?? "http://api");
        void Base(HttpClient http) => http.BaseAddress = baseAddress;

        builder.Services.AddHttpContextAccessor();
        builder.Services.AddSingleton<CircuitServicesAccessor>();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, CircuitServicesActivityHandler>();
        builder.Services.AddTransient<ApiAccessTokenHandler>();
        builder.Services.AddScoped<CircuitClientAddress>();
        builder.Services.AddScoped<Microsoft.AspNetCore.Components.Server.Circuits.CircuitHandler, CircuitClientAddressHandler>();
        builder.Services.AddTransient<ClientAddressHandler>();
        // Every Api client forwards the browser's address (see ClientAddressHandler).
        builder.Services.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler<ClientAddressHandler>());

        // Health carries the admin's token: the Api shows its checks to admins only, the status to everyone.
        builder.Services.AddHttpClient<AigneHubApiClient>(Base).AddHttpMessageHandler<ApiAccessTokenHandler>();
        // A health probe answers fast or not at all: no retries, a short timeout, so a Worker that is down shows as
        // "Unreachable" at once instead of holding the overview for the whole resilience pipeline.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental; a probe must not be retried.
        builder.Services.AddHttpClient<WorkerHealthClient>(http =>
            {
                http.BaseAddress = new Uri(builder.Configuration["AigneHub:WorkerBaseUrl"] ?? "http://worker");
                http.Timeout = TimeSpan.FromSeconds(3);
            })
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        // Sign-in calls are never retried: the standard handler would repeat a POST /login on a 429 (waiting out its
        // Retry-After past the total timeout, then failing with a 500) and every repeat counts as one more attempt.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental; a sign-in POST must not be retried.
        builder.Services.AddHttpClient<AuthApiClient>(Base).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        builder.Services.AddHttpClient<IdentityApiClient>(Base).AddHttpMessageHandler<ApiAccessTokenHandler>();
        builder.Services.AddHttpClient<ProvidersApiClient>(Base).AddHttpMessageHandler<ApiAccessTokenHandler>();
        builder.Services.AddHttpClient<BillingApiClient>(Base).AddHttpMessageHandler<ApiAccessTokenHandler>();
        builder.Services.AddHttpClient<UsageApiClient>(Base).AddHttpMessageHandler<ApiAccessTokenHandler>();

        // The gateway client streams chat answers for minutes and must never retry a POST (a retry is a second,
        // billed call), so it drops the standard resilience handler the service defaults add to every client.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is experimental; it is exactly what a streaming POST needs.
        builder.Services.AddHttpClient<GatewayApiClient>(http =>
            {
                Base(http);
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddHttpMessageHandler<ApiAccessTokenHandler>()
            .RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
        return builder;
    }
}
