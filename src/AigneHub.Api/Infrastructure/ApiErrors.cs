using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AigneHub.Api.Infrastructure;

/// <summary>
/// The error body of every management route (identity, providers, billing, usage) and of 401/403/402 answers:
/// <c>{"error":{"message","type","param"}}</c>. It coincides with OpenAI's, so gateway clients parse it too; the
/// gateway's own protocol-specific refusals are written by <c>Gateway.ErrorShapes</c>.
/// </summary>
public sealed record ErrorEnvelope(ErrorBody Error);

/// <summary><paramref name="Param"/> names the offending request field; it is always present, null when no single
/// field is at fault.</summary>
public sealed record ErrorBody(string Message, string Type, string? Param);

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

public static class ApiErrors
{
    /// <summary>The key under which a collected problem concerns the body as a whole rather than one field.</summary>
    public const string WholeBody = "body";

    public static JsonHttpResult<ErrorEnvelope> Result(int status, string message, string type, string? param = null) =>
        TypedResults.Json(new ErrorEnvelope(new ErrorBody(message, type, param)), ApiErrorJson.Default.ErrorEnvelope, statusCode: status);

    public static JsonHttpResult<ErrorEnvelope> BadRequest(string message, string? param = null) =>
        Result(StatusCodes.Status400BadRequest, message, ErrorTypes.InvalidRequest, param);

    /// <summary>
    /// Collected validation problems as one 400: <c>param</c> names the first offending field and the message lists
    /// every problem, so a form can mark the field and still show all that is wrong.
    /// </summary>
    public static JsonHttpResult<ErrorEnvelope> BadRequest(IReadOnlyDictionary<string, string[]> problems)
    {
        var first = problems.First().Key;
        return BadRequest(string.Join(" ", problems.SelectMany(p => p.Value)), first == WholeBody ? null : first);
    }

    public static JsonHttpResult<ErrorEnvelope> NotFound(string message) =>
        Result(StatusCodes.Status404NotFound, message, ErrorTypes.NotFound);

    public static JsonHttpResult<ErrorEnvelope> Conflict(string message, string? param = null) =>
        Result(StatusCodes.Status409Conflict, message, ErrorTypes.Conflict, param);

    public static JsonHttpResult<ErrorEnvelope> Forbidden(string message) =>
        Result(StatusCodes.Status403Forbidden, message, ErrorTypes.Permission);

    public static JsonHttpResult<ErrorEnvelope> Unauthorized(string message) =>
        Result(StatusCodes.Status401Unauthorized, message, ErrorTypes.Authentication);

    public static JsonHttpResult<ErrorEnvelope> Unavailable(string message) =>
        Result(StatusCodes.Status503ServiceUnavailable, message, ErrorTypes.Unavailable);

    /// <summary>For authentication handlers and authorization results, which write the response themselves.</summary>
    public static Task WriteAsync(HttpResponse response, int status, string message, string type)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(response.Body, new ErrorEnvelope(new ErrorBody(message, type, null)),
            ApiErrorJson.Default.ErrorEnvelope, response.HttpContext.RequestAborted);
    }

    /// <summary>
    /// Reads a JSON body with its source-generated contract. A missing body, malformed JSON or a wrong type is a 400
    /// in our error shape naming the field (from the reader's path) — the framework's own binding failure would
    /// answer with an empty 400.
    /// </summary>
    public static async Task<(T? Body, JsonHttpResult<ErrorEnvelope>? Error)> ReadBodyAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
        where T : class
    {
        if (request.ContentLength == 0)
        {
            return (null, BadRequest("The request body is required (JSON)."));
        }
        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, type, request.HttpContext.RequestAborted);
            return body is null ? (null, BadRequest("The request body must be a JSON object.")) : (body, null);
        }
        catch (JsonException ex)
        {
            var param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            return (null, BadRequest(param is null ? "The request body is not valid JSON." : $"'{param}' has the wrong type or is malformed.", param));
        }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorEnvelope))]
internal sealed partial class ApiErrorJson : JsonSerializerContext;
