using AigneHub.Api.Billing;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>
/// Why a call was not served, in the caller's terms: the one place billing's refusals and providers' failures
/// become a status, an error type and a code. Each protocol then writes the <see cref="GatewayException"/> in its
/// own error shape.
/// </summary>
public static class GatewayErrors
{
    public static GatewayException NoSuchModel(string requestedModel) =>
        new(404, "invalid_request_error", $"The model '{requestedModel}' does not exist or no enabled provider serves it.", "model", "model_not_found");

    /// <summary>No candidate offers this kind of call (<paramref name="reason"/>: "OpenAI does not …").</summary>
    public static GatewayException Unserved(string reason) =>
        new(400, "invalid_request_error", reason, "model", "model_not_supported");

    /// <summary>The candidate offers the kind of call but not as asked (a format, a voice, an upload's size).</summary>
    public static GatewayException Refused(AudioRefusal refusal) => refusal.TooLarge
        ? new(413, "invalid_request_error", refusal.Message, refusal.Param, "request_too_large")
        : new(400, "invalid_request_error", refusal.Message, refusal.Param ?? "model", "model_not_supported");

    public static GatewayException NoProviderAvailable(string requestedModel) =>
        new(503, "api_error", $"No provider is available for '{requestedModel}' right now.");

    public static GatewayException FromRefusal(Refusal refusal) => refusal.Kind switch
    {
        RefusalKind.RateLimited => new GatewayException(refusal.StatusCode, "rate_limit_error", refusal.Message)
        {
            RetryAfterSeconds = (int)Math.Max(1, Math.Ceiling((refusal.RetryAfter ?? TimeSpan.Zero).TotalSeconds)),
        },
        RefusalKind.InsufficientCredits => new GatewayException(refusal.StatusCode, "insufficient_quota", refusal.Message, code: "insufficient_quota")
        {
            Link = refusal.Link,
        },
        RefusalKind.Unavailable => new GatewayException(refusal.StatusCode, "api_error", refusal.Message, code: "service_unavailable")
        {
            RetryAfterSeconds = (int)Math.Max(1, Math.Ceiling((refusal.RetryAfter ?? TimeSpan.Zero).TotalSeconds)),
        },
        _ => new GatewayException(refusal.StatusCode, "invalid_request_error", refusal.Message, "model", "model_not_supported"),
    };

    /// <summary>The Api is stopping and the call had not begun its answer when the drain ran out: another replica
    /// (or this one, restarted) serves it.</summary>
    public static GatewayException ShuttingDown() =>
        new(503, "api_error", ShuttingDownMessage, code: "service_unavailable") { RetryAfterSeconds = 1 };

    public const string ShuttingDownMessage = "AigneHub is restarting; the call was ended. Send it again.";

    /// <summary>A defect inside the hub: the caller learns that much and the request id, never the exception's text.</summary>
    public static GatewayException Internal() =>
        new(500, "api_error", "AigneHub failed to process this request; it was not charged. Quote its x-trace-id when you report it.", code: "internal_error");

    /// <summary>
    /// Provider failures in the caller's terms: a provider's 401/403/429 is not the caller's auth or rate problem.
    /// Callers are members, so the provider's own words pass only through <see cref="CallerErrorText"/> (no URLs,
    /// hosts or stack text), and transport failures say nothing beyond their kind; the full text is in the logs and
    /// the admins' call log.
    /// </summary>
    /// <param name="ex">The last provider failure.</param>
    /// <param name="retryAfter">For a rate limit: how long until a candidate may serve again (the credential pool knows
    /// the cool-downs it set); else the provider's own hint counts, else a second.</param>
    public static GatewayException FromProvider(ProviderException ex, TimeSpan? retryAfter = null) => ex.ErrorClass switch
    {
        ProviderErrorClass.BadRequest => new GatewayException(ex.ProviderStatus is 422 ? 422 : 400, "invalid_request_error", CallerErrorText.Sanitize(ex.Message), code: "provider_rejected_request"),
        ProviderErrorClass.ModelNotFound => new GatewayException(404, "invalid_request_error", CallerErrorText.Sanitize(ex.Message), "model", "model_not_found"),
        ProviderErrorClass.RateLimited => new GatewayException(503, "api_error",
            $"Provider '{ex.Provider}' is rate limiting AigneHub; try again shortly. ({CallerErrorText.Sanitize(ex.Message)})", code: "provider_rate_limited")
        {
            RetryAfterSeconds = (int)Math.Clamp(Math.Ceiling((retryAfter ?? ex.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds), 1, int.MaxValue),
        },
        ProviderErrorClass.InvalidCredential => new GatewayException(502, "api_error",
            $"Provider '{ex.Provider}' refused AigneHub's credential; an administrator has to fix it.", code: "provider_auth_failed"),
        ProviderErrorClass.Forbidden => new GatewayException(502, "api_error",
            $"Provider '{ex.Provider}' refused this request. ({CallerErrorText.Sanitize(ex.Message)})", code: "provider_forbidden"),
        ProviderErrorClass.Timeout => new GatewayException(504, "api_error", $"Provider '{ex.Provider}' did not answer in time.", code: "provider_timeout"),
        _ => new GatewayException(502, "api_error", $"Provider '{ex.Provider}' is temporarily unavailable.", code: "provider_unavailable"),
    };

    public static string MidStreamMessage(ProviderException ex) => ex.ErrorClass is ProviderErrorClass.Unavailable or ProviderErrorClass.Timeout
        ? $"Provider '{ex.Provider}' failed mid-answer."
        : $"Provider '{ex.Provider}' failed mid-answer: {CallerErrorText.Sanitize(ex.Message)}";
}
