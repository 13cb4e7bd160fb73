namespace AigneHub.Api.Gateway;

/// <summary>
/// A request the gateway refuses, with the status and error type the caller sees. Written in the caller's
/// protocol: OpenAI's <c>{"error":{"message","type","param","code"}}</c> or AIGNE's <c>{"error":{"message","type"}}</c>.
/// </summary>
public sealed class GatewayException(int status, string type, string message, string? param = null, string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;

    /// <summary>OpenAI-style error type: invalid_request_error, authentication_error, permission_error,
    /// insufficient_quota, rate_limit_error, api_error, ...</summary>
    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    /// <summary>A link the caller can follow (e.g. to buy credits with a 402).</summary>
    public string? Link { get; init; }

    /// <summary>Seconds to wait (a 429's Retry-After).</summary>
    public int? RetryAfterSeconds { get; init; }

    public static GatewayException BadRequest(string message, string? param = null, string? code = null) =>
        new(400, "invalid_request_error", message, param, code);
}
