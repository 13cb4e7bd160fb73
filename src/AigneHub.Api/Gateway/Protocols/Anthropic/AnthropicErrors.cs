using System.Text.Json.Nodes;

namespace AigneHub.Api.Gateway.Protocols.Anthropic;

/// <summary>
/// Anthropic's error shape, <c>{"type":"error","error":{"type","message"}}</c>, with its types by status:
/// 400 <c>invalid_request_error</c>, 401 <c>authentication_error</c>, 402 <c>billing_error</c>, 403
/// <c>permission_error</c>, 404 <c>not_found_error</c>, 413 <c>request_too_large</c>, 429 <c>rate_limit_error</c>,
/// 529 <c>overloaded_error</c> (the hub's 503 — no provider can serve the call right now — is answered as
/// Anthropic's 529, which Anthropic clients retry), other 5xx <c>api_error</c>. A bad field is named in the message,
/// as Anthropic does; there is no separate <c>param</c>.
/// </summary>
public static class AnthropicErrors
{
    public const int Overloaded = 529;

    public static IResult Shape(GatewayException ex)
    {
        var status = ex.Status == StatusCodes.Status503ServiceUnavailable ? Overloaded : ex.Status;
        var refusal = new GatewayException(status, ex.Type, ex.Message, ex.Param, ex.Code)
        {
            Link = ex.Link,
            RetryAfterSeconds = ex.RetryAfterSeconds,
        };
        return ProtocolErrors.Write(refusal, Body(status, ex.Message));
    }

    /// <summary>The body of an error answer with <paramref name="status"/>.</summary>
    public static JsonObject Body(int status, string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = TypeOf(status), ["message"] = message },
    };

    /// <summary>A provider failure after the stream started: Anthropic's <c>event: error</c>.</summary>
    public static JsonObject StreamEvent(string message) => new()
    {
        ["type"] = "error",
        ["error"] = new JsonObject { ["type"] = "api_error", ["message"] = message },
    };

    private static string TypeOf(int status) => status switch
    {
        400 or 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        Overloaded or 503 => "overloaded_error",
        _ => "api_error",
    };
}
