namespace AigneHub.Contracts;

/// <summary>
/// The error body of every management route (identity, providers, billing, usage) and of 401/403/402 answers:
/// <c>{"error":{"message","type","param"}}</c>. It coincides with OpenAI's, so gateway clients parse it too; the
/// gateway's own protocol-specific refusals are written by the gateway.
/// </summary>
public sealed record ErrorEnvelope(ErrorBody Error);

/// <summary><paramref name="Param"/> names the offending request field; it is always present, null when no single
/// field is at fault.</summary>
public sealed record ErrorBody(string Message, string Type, string? Param);

/// <summary>The values of <see cref="ErrorBody.Type"/>.</summary>
public static class ErrorTypes
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string NotFound = "not_found_error";
    public const string Conflict = "conflict_error";
    public const string RateLimit = "rate_limit_error";
    public const string Subscription = "subscription_error";
    public const string Unavailable = "service_unavailable_error";
    /// <summary>403 to a sign-in of an identity that has no account and may not create one (registration policy).</summary>
    public const string RegistrationClosed = "registration_closed";
}
