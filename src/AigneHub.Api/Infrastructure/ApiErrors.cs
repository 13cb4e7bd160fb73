using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AigneHub.Api.Infrastructure;

/// <summary>
/// Writes the error body of every management route (identity, providers, billing, usage) and of 401/403/402 answers,
/// <see cref="ErrorEnvelope"/> (<c>{"error":{"message","type","param"}}</c>). It coincides with OpenAI's, so gateway
/// clients parse it too; the gateway's own protocol-specific refusals are written by <c>Gateway.Protocols</c>
/// (<c>OpenAiErrors</c>, <c>AigneErrors</c>).
/// </summary>
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

    /// <summary>
    /// For authentication handlers and authorization results, which write the response themselves. A route whose
    /// callers expect another error shape (a caller protocol's, e.g. Anthropic's) says so with
    /// <see cref="ErrorShapeMetadata"/>, and the answer is written in it.
    /// </summary>
    public static Task WriteAsync(HttpResponse response, int status, string message, string type)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        if (response.HttpContext.GetEndpoint()?.Metadata.GetMetadata<ErrorShapeMetadata>() is { } shape)
        {
            return response.WriteAsync(shape.Body(status, message, type).ToJsonString(), response.HttpContext.RequestAborted);
        }
        return JsonSerializer.SerializeAsync(response.Body, new ErrorEnvelope(new ErrorBody(message, type, null)),
            ApiErrorJson.Default.ErrorEnvelope, response.HttpContext.RequestAborted);
    }

    /// <summary>
    /// Reads a management body (<see cref="JsonBody.ReadAsync"/>) into its source-generated contract. Every failure
    /// is a 400 in our error shape naming the field where there is one; the framework's own binding failure would
    /// answer with an empty 400, and a string Postgres cannot store would answer with a 500.
    /// </summary>
    public static async Task<(T? Body, JsonHttpResult<ErrorEnvelope>? Error)> ReadBodyAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
        where T : class
    {
        var (body, error) = await JsonBody.ReadAsync(request);
        return body is null ? (null, error) : body.As(type);
    }
}

/// <summary>Endpoint metadata: the error body (from status, message and <see cref="ErrorTypes"/> type) of the
/// 401/402/403 answers the authentication and authorization handlers write for this route.</summary>
public sealed record ErrorShapeMetadata(Func<int, string, string, System.Text.Json.Nodes.JsonObject> Body);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorEnvelope))]
internal sealed partial class ApiErrorJson : JsonSerializerContext;
