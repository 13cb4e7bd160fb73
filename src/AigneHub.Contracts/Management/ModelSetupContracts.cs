using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Management;

// What an operator needs to get from a configured provider to a served model, and to see why a provider is failing:
// GET /api/admin/models/servable, POST /api/admin/models/{id}/test, GET /api/admin/providers/{id}/upstream-models and
// GET /api/admin/providers/health.

/// <summary>Every catalogue entry (and the demo model when it is on) with its rate and whether a call to it can be
/// served right now. <see cref="ServableModelResponse.Missing"/> names each thing in the way, in the order to fix it.</summary>
public sealed record ModelSetupResponse(bool BillingEnabled, bool DemoEnabled, List<ServableModelResponse> Models);

/// <param name="Id">The catalogue entry; null for the built-in demo model, which has none.</param>
/// <param name="InputRate">Credits per input token (or image, or second), as stored; null without a rate.</param>
public sealed record ServableModelResponse(
    Guid? Id, string Provider, string Model, string Type, string? DisplayName, bool Enabled,
    Guid? RateId,
    [property: JsonConverter(typeof(DecimalString))] decimal? InputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? OutputRate,
    bool Servable, List<string> Missing);

/// <summary>The model ids a provider's own model list (<c>GET {base}/models</c>) names, or why it could not be read.</summary>
public sealed record UpstreamModelsResponse(List<string> Models,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

/// <summary>Live provider health: what this Api replica's credential pool knows now, and the recent calls' failures.</summary>
public sealed record ProvidersHealthResponse(int WindowMinutes, List<ProviderHealthResponse> Providers);

/// <param name="Status"><c>ok</c>, <c>cooling</c> (every usable credential rate limited), <c>degraded</c> (some are),
/// <c>down</c> (no active credential), <c>disabled</c>.</param>
/// <param name="RecentRateLimited">Calls answered 429 by the provider within the window.</param>
/// <param name="RecentServerErrors">Calls answered 5xx (or unreachable) within the window.</param>
/// <param name="LastError">The latest failed call's error, without hosts, URLs or keys.</param>
public sealed record ProviderHealthResponse(
    Guid Id, string Provider, string? DisplayName, bool Enabled, string Status, string Summary,
    int RecentCalls, int RecentRateLimited, int RecentServerErrors, string? LastError, DateTimeOffset? LastErrorAt,
    List<CredentialHealthResponse> Credentials);

/// <param name="Status"><c>active</c>, <c>cooling</c>, <c>inactive</c>, <c>disabled</c>.</param>
/// <param name="CoolingSecondsLeft">While <c>cooling</c>: whole seconds until it is back at full weight.</param>
public sealed record CredentialHealthResponse(Guid Id, string? Name, string MaskedValue, string Status, int? CoolingSecondsLeft);
