using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AigneHub.Api.Identity;

/// <summary>The error shape of every identity route and of 401/403 answers: <c>{"error":{"message","type"}}</c>
/// (it coincides with OpenAI's, so gateway clients parse it too).</summary>
public sealed record ErrorResponse(ErrorDetail Error);

public sealed record ErrorDetail(string Message, string Type);

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
}

public static class IdentityErrors
{
    public static JsonHttpResult<ErrorResponse> Result(int status, string message, string type) =>
        TypedResults.Json(new ErrorResponse(new ErrorDetail(message, type)), IdentityJsonContext.Default.ErrorResponse, statusCode: status);

    public static JsonHttpResult<ErrorResponse> BadRequest(string message) => Result(StatusCodes.Status400BadRequest, message, ErrorTypes.InvalidRequest);

    public static JsonHttpResult<ErrorResponse> NotFound(string message) => Result(StatusCodes.Status404NotFound, message, ErrorTypes.NotFound);

    public static JsonHttpResult<ErrorResponse> Conflict(string message) => Result(StatusCodes.Status409Conflict, message, ErrorTypes.Conflict);

    public static JsonHttpResult<ErrorResponse> Forbidden(string message) => Result(StatusCodes.Status403Forbidden, message, ErrorTypes.Permission);

    public static JsonHttpResult<ErrorResponse> Unauthorized(string message) => Result(StatusCodes.Status401Unauthorized, message, ErrorTypes.Authentication);

    /// <summary>
    /// For routes whose state lives in Redis (sign-in throttling, wallet nonces, connect sessions): Redis being
    /// unreachable is a 503 saying so, not a 500.
    /// </summary>
    public static RouteGroupBuilder WithRedisUnavailableAs503(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                return await next(context);
            }
            catch (StackExchange.Redis.RedisException)
            {
                return Result(StatusCodes.Status503ServiceUnavailable,
                    "Sign-in state is temporarily unavailable (Redis cannot be reached); retry shortly.", ErrorTypes.Unavailable);
            }
        });
        return group;
    }

    /// <summary>For authentication handlers and authorization results, which write the response themselves.</summary>
    public static Task WriteAsync(HttpResponse response, int status, string message, string type)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(response.Body, new ErrorResponse(new ErrorDetail(message, type)),
            IdentityJsonContext.Default.ErrorResponse, response.HttpContext.RequestAborted);
    }

    /// <summary>
    /// Reads a JSON body into <typeparamref name="T"/>, turning a missing or malformed body into a 400 in our error
    /// shape (the framework's own binding failure would answer with an empty 400).
    /// </summary>
    public static async Task<(T? Value, JsonHttpResult<ErrorResponse>? Error)> ReadBodyAsync<T>(HttpRequest request, JsonTypeInfo<T> type)
        where T : class
    {
        if (request.ContentLength == 0)
        {
            return (null, BadRequest("The request body is required (JSON)."));
        }
        try
        {
            var value = await JsonSerializer.DeserializeAsync(request.Body, type, request.HttpContext.RequestAborted);
            return value is null ? (null, BadRequest("The request body must be a JSON object.")) : (value, null);
        }
        catch (JsonException ex)
        {
            var where = ex.Path is { Length: > 1 } path ? $" at '{path.TrimStart('$', '.')}'" : "";
            return (null, BadRequest($"The request body is not valid JSON for this route{where}."));
        }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(List<UserResponse>))]
[JsonSerializable(typeof(CreateAccessKeyRequest))]
[JsonSerializable(typeof(CreatedAccessKeyResponse))]
[JsonSerializable(typeof(AccessKeyResponse))]
[JsonSerializable(typeof(List<AccessKeyResponse>))]
[JsonSerializable(typeof(CreateAppRequest))]
[JsonSerializable(typeof(CreatedAppResponse))]
[JsonSerializable(typeof(SetSubscriptionRequest))]
[JsonSerializable(typeof(SubscriptionResponse))]
[JsonSerializable(typeof(List<AppResponse>))]
[JsonSerializable(typeof(WhoAmIResponse))]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(WalletChallengeRequest))]
[JsonSerializable(typeof(WalletChallengeResponse))]
[JsonSerializable(typeof(WalletVerifyRequest))]
[JsonSerializable(typeof(OidcExchangeRequest))]
[JsonSerializable(typeof(AuthMethodsResponse))]
[JsonSerializable(typeof(ConnectSessionResponse))]
[JsonSerializable(typeof(ConnectStatusResponse))]
[JsonSerializable(typeof(ConnectApprovedResponse))]
public sealed partial class IdentityJsonContext : JsonSerializerContext;
