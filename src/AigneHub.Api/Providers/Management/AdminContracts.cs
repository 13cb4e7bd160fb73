using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AigneHub.Data;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AigneHub.Api.Providers.Management;

// Wire shapes of the provider admin API and the model status route. Request fields are nullable so that a missing
// field is a clear 400 naming it rather than a binding failure; on PUT an omitted (or null) field keeps its value
// and an empty string clears an optional text.

public sealed record ProviderRequest(string? Name, string? DisplayName, string? BaseUrl, bool? Enabled);

public sealed record ProviderResponse(Guid Id, string Name, string? DisplayName, string? BaseUrl, string EffectiveBaseUrl, string Protocol,
    bool Enabled, int CredentialCount, int ActiveCredentialCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CredentialRequest(string? Name, string? Value, int? Weight);

/// <summary>A credential as listed: the value itself is never returned, only <see cref="MaskedValue"/>.</summary>
public sealed record CredentialResponse(Guid Id, Guid ProviderId, string? Name, string MaskedValue, int Weight, string Status,
    string? LastError, DateTimeOffset? LastErrorAt, DateTimeOffset? LastUsedAt, DateTimeOffset? NextCheckAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CredentialTestRequest(string? Model);

public sealed record CredentialTestResponse(
    bool Ok,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? LatencyMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

public sealed record ModelRequest(string? Provider, string? Model, string? Type, string? DisplayName, JsonElement? Metadata, bool? Enabled);

public sealed record ModelResponse(Guid Id, Guid ProviderId, string Provider, string Model, string Type, string? DisplayName,
    JsonElement? Metadata, bool Enabled, DateTimeOffset CreatedAt);

public sealed record ModelStatusResponse(
    bool Available,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);

/// <summary>The OpenAI-style error body every route here answers with: <c>{"error":{"message","type","param"}}</c>.</summary>
public sealed record ErrorEnvelope(ErrorBody Error);

public sealed record ErrorBody(string Message, string Type, string? Param);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ProviderRequest))]
[JsonSerializable(typeof(ProviderResponse))]
[JsonSerializable(typeof(List<ProviderResponse>))]
[JsonSerializable(typeof(CredentialRequest))]
[JsonSerializable(typeof(CredentialResponse))]
[JsonSerializable(typeof(List<CredentialResponse>))]
[JsonSerializable(typeof(CredentialTestRequest))]
[JsonSerializable(typeof(CredentialTestResponse))]
[JsonSerializable(typeof(ModelRequest))]
[JsonSerializable(typeof(ModelResponse))]
[JsonSerializable(typeof(List<ModelResponse>))]
[JsonSerializable(typeof(ModelStatusResponse))]
[JsonSerializable(typeof(ErrorEnvelope))]
public sealed partial class ProviderManagementJson : JsonSerializerContext;

internal static class AdminErrors
{
    public static JsonHttpResult<ErrorEnvelope> Invalid(string message, string? param) =>
        Error(StatusCodes.Status400BadRequest, message, "invalid_request_error", param);

    public static JsonHttpResult<ErrorEnvelope> NotFound(string message) =>
        Error(StatusCodes.Status404NotFound, message, "not_found_error", null);

    public static JsonHttpResult<ErrorEnvelope> Conflict(string message, string? param) =>
        Error(StatusCodes.Status409Conflict, message, "conflict_error", param);

    private static JsonHttpResult<ErrorEnvelope> Error(int status, string message, string type, string? param) =>
        TypedResults.Json(new ErrorEnvelope(new ErrorBody(message, type, param)), ProviderManagementJson.Default.ErrorEnvelope, statusCode: status);

    /// <summary>
    /// Reads a JSON body with the source-generated contract; malformed JSON or a wrong type is a 400 naming the
    /// field (from the reader's path), never a binding exception.
    /// </summary>
    public static async Task<(T? Body, JsonHttpResult<ErrorEnvelope>? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> info, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var body = await JsonSerializer.DeserializeAsync(request.Body, info, cancellationToken);
            return body is null ? (null, Invalid("The request body must be a JSON object.", null)) : (body, null);
        }
        catch (JsonException ex)
        {
            var param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            return (null, Invalid(param is null ? "The request body is not valid JSON." : $"'{param}' has the wrong type or is malformed.", param));
        }
    }

    public static bool TryParseType(string? text, out ModelType type) =>
        Enum.TryParse(text, ignoreCase: true, out type) && Enum.IsDefined(type) && !int.TryParse(text, out _);

    public static string TypeName(ModelType type) => type.ToString().ToLowerInvariant();
}
