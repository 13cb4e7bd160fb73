using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AigneHub.Admin.Api;

// Every wire shape the Admin reads from or sends to the Api, in one file so that a change on the Api side is one
// edit here. Records mirror the Api's responses (camelCase JSON); unknown fields are ignored, so the Api may grow.
// Money is decimal: the Api sends decimal strings (or numbers), and FlexibleDecimalConverter reads both without a
// detour through binary floats.

// :: Auth and identity (issue 4)

public sealed record LoginRequest(string Email, string Password);

public sealed record LoginResponse(string Token, DateTimeOffset? ExpiresAt, UserDto User);

/// <summary>Which sign-in methods the Api offers besides the password (shown only when configured).</summary>
public sealed record AuthMethodsDto(bool Password, bool Wallet, OidcMethodDto? Oidc)
{
    public static AuthMethodsDto PasswordOnly { get; } = new(true, false, null);
}

public sealed record OidcMethodDto(bool Enabled, string? DisplayName);

public sealed record WalletChallengeRequest(string Did);

/// <summary>The exact text the wallet must sign, and the single-use nonce it carries.</summary>
public sealed record WalletChallengeDto(string Nonce, string Message, DateTimeOffset ExpiresAt);

public sealed record WalletVerifyRequest(string Did, string Nonce, string Signature);

public sealed record OidcExchangeRequest(string IdToken);

public sealed record UserDto(Guid Id, string Email, string? DisplayName, string? Did, string Role, bool Disabled, bool HasPassword,
    DateTimeOffset CreatedAt, DateTimeOffset? LastSeenAt);

public sealed record CreateUserRequest(string Email, string? DisplayName, string Role, string? Password);

public sealed record UpdateUserRequest(string? Role, bool? Disabled, string? DisplayName);

public sealed record CreateAccessKeyRequest(string? Name, DateTimeOffset? ExpiresAt);

public sealed record CreatedAccessKeyDto(Guid Id, string Key, string Prefix, string? Name, DateTimeOffset? ExpiresAt);

public sealed record AccessKeyDto(Guid Id, string Prefix, string? Name, string Kind, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt, DateTimeOffset? LastUsedAt);

public sealed record SubscriptionDto(string Status, DateTimeOffset CurrentPeriodEnd);

public sealed record AppDto(Guid AppId, string Name, string PublicKey, DateTimeOffset CreatedAt, SubscriptionDto? Subscription);

public sealed record CreateAppRequest(string Name, string PublicKey);

public sealed record CreatedAppDto(Guid AppId, string Name, string PublicKey);

public sealed record SetSubscriptionRequest(string Status, DateTimeOffset CurrentPeriodEnd);

/// <summary>A pending CLI connect session as the approval page shows it.</summary>
public sealed record ConnectSessionDto(string? Id, string? Status, string? ClientName, DateTimeOffset? ExpiresAt);

// :: Providers, credentials, catalogue, model status (issue 3)

public sealed record ProviderRequest(string? Name, string? DisplayName, string? BaseUrl, bool? Enabled);

public sealed record ProviderDto(Guid Id, string Name, string? DisplayName, string? BaseUrl, string EffectiveBaseUrl, string Protocol,
    bool Enabled, int CredentialCount, int ActiveCredentialCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CredentialRequest(string? Name, string? Value, int? Weight);

public sealed record CredentialDto(Guid Id, Guid ProviderId, string? Name, string MaskedValue, int Weight, string Status,
    string? LastError, DateTimeOffset? LastErrorAt, DateTimeOffset? LastUsedAt, DateTimeOffset? NextCheckAt,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record CredentialTestRequest(string Model);

public sealed record CredentialTestDto(bool Ok, long? LatencyMs, string? Error);

public sealed record CatalogModelDto(Guid Id, Guid ProviderId, string Provider, string Model, string Type, string? DisplayName, bool Enabled);

public sealed record ModelStatusDto(bool Available, string? Error);

/// <summary><c>GET /api/v2/models</c> (OpenAI's list shape).</summary>
public sealed record ModelListDto(List<ModelListItem> Data);

public sealed record ModelListItem(string Id, [property: JsonPropertyName("owned_by")] string? OwnedBy);

// :: Billing: rates, credits (issue 5)

public sealed record ModelRateDto(Guid Id, string Provider, string Model, string Type, decimal InputRate, decimal OutputRate,
    decimal? CacheWriteRate, decimal? CacheReadRate, JsonObject? UnitCosts, JsonObject? Metadata, bool Deprecated,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record ModelRateHistoryDto(Guid Id, Guid RateId, string Change, string Provider, string Model, string Type,
    decimal InputRate, decimal OutputRate, decimal? CacheWriteRate, decimal? CacheReadRate, bool Deprecated, Guid? ChangedBy,
    DateTimeOffset ChangedAt);

/// <summary>The body of a rate create/update: rates per token (or image/second), decimal strings on the wire.</summary>
public sealed record ModelRateRequest(string Provider, string Model, string Type, decimal InputRate, decimal OutputRate,
    decimal? CacheWriteRate, decimal? CacheReadRate, UnitCostsDto? UnitCosts, JsonObject? Metadata, bool Deprecated);

public sealed record UnitCostsDto(decimal? Input, decimal? Output)
{
    /// <summary>The unit costs stored on a rate (a JSON object of decimal strings), or null.</summary>
    public static UnitCostsDto? From(JsonObject? costs)
    {
        static decimal? Read(JsonNode? n) =>
            n is JsonValue v && (v.TryGetValue<decimal>(out var d) || v.TryGetValue<string>(out var s)
                && decimal.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) ? d : null;
        if (costs is null)
        {
            return null;
        }
        var input = Read(costs["input"]);
        var output = Read(costs["output"]);
        return input is null && output is null ? null : new UnitCostsDto(input, output);
    }
}

public sealed record CreditsDto(decimal Balance, decimal Reserved, decimal Available, string? Currency, string? PaymentLink);

public sealed record LedgerEntryDto(Guid Id, decimal Amount, string Kind, Guid? ModelCallId, Guid? GrantId, string? Description, DateTimeOffset CreatedAt);

public sealed record PagedDto<T>(List<T> Items, int Page, int PageSize, long Total);

public sealed record GrantRequest(decimal Amount, string Category, DateTimeOffset? ExpiresAt, string? Note);

public sealed record GrantDto(Guid Id, Guid UserId, decimal Amount, string Category, string? Source, string? Note, DateTimeOffset? ExpiresAt,
    DateTimeOffset CreatedAt);

// :: Usage (issue 5): quota, trends, calls

public sealed record QuotaDto(decimal Balance, decimal Reserved, decimal Available, decimal? DailyAverage, double? EstimatedDaysLeft, string? Currency);

public sealed record TrendsDto(string? Granularity, int? TimezoneOffset, List<TrendBucketDto> Buckets);

/// <summary>One hour or day. Duration and time-to-first-byte averages are optional: the Api may not report them.</summary>
public sealed record TrendBucketDto(DateTimeOffset Start, long Calls, long? Successes, long? Failures, decimal Credits,
    long? PromptTokens, long? CompletionTokens, long? TotalTokens, double? AvgDurationMs, double? P50TtfbMs, double? P95TtfbMs);

public sealed record ModelCallDto(Guid Id, Guid? UserId, string? AppId, string? Surface, string? Provider, string? Model, string? RequestedModel,
    string? Type, string Status, int PromptTokens, int CompletionTokens, int CacheCreationTokens, int CacheReadTokens, int Images,
    string? ImageSize, string? ImageQuality, decimal Credits, bool Estimated, int? DurationMs, int? GatewayTtfbMs, int? ProviderTtfbMs,
    int? Attempts, int? StatusCode, string? ErrorReason,
    JsonObject? Parameters, string? RequestId, string? TraceId, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt);

/// <summary>Filters of the call log and of the usage charts; null means "any".</summary>
public sealed record CallFilter
{
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public string? Status { get; init; }
    public string? Model { get; init; }
    public string? Type { get; init; }
    public string? Provider { get; init; }
    public string? AppId { get; init; }
    public Guid? UserId { get; init; }
}

// :: Error bodies: the Api speaks two shapes — {"error":{"message"}} and RFC 7807 problem details.

public sealed record ErrorEnvelopeDto(ErrorBodyDto? Error);

public sealed record ErrorBodyDto(string? Message, string? Type);

public sealed record ProblemDto(string? Title, string? Detail, Dictionary<string, string[]>? Errors);

/// <summary>Reads a decimal from a JSON number or a decimal string; writes a decimal string (exact on every client).</summary>
/// <summary>One audit entry (<c>GET /api/admin/audit</c>); before/after are masked JSON.</summary>
public sealed record AuditEntryDto(
    long Id,
    DateTimeOffset OccurredAt,
    Guid? ActorUserId,
    string? ActorEmail,
    string? ActorRole,
    Guid? ActorKeyId,
    string Action,
    string Route,
    string? Target,
    int Status,
    string? ClientAddress,
    JsonElement? Before,
    JsonElement? After);

public sealed record AuditPageDto(List<AuditEntryDto> Items, long? NextBefore);

/// <summary>The audit log's filters, as the Api's query string.</summary>
public sealed record AuditQuery(string? Actor = null, string? Action = null, string? Target = null, string? Status = null, long? Before = null, int Limit = 100)
{
    public string ToQueryString()
    {
        List<string> parts = [$"limit={Limit}"];
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.Add($"{name}={Uri.EscapeDataString(value.Trim())}");
            }
        }
        Add("actor", Actor);
        Add("action", Action);
        Add("target", Target);
        Add("status", Status);
        Add("before", Before?.ToString(CultureInfo.InvariantCulture));
        return "?" + string.Join('&', parts);
    }
}

public sealed class FlexibleDecimalConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Number => reader.GetDecimal(),
        JsonTokenType.String when decimal.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => throw new JsonException($"Expected a decimal, got {reader.TokenType}."),
    };

    // Dividing by 1.000… drops trailing zeros (0.000000180 → 0.00000018) without ever using exponent notation.
    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
        writer.WriteStringValue((value / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture));
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString,
    Converters = [typeof(FlexibleDecimalConverter)])]
[JsonSerializable(typeof(LoginRequest))]
[JsonSerializable(typeof(AuditPageDto))]
[JsonSerializable(typeof(LoginResponse))]
[JsonSerializable(typeof(AuthMethodsDto))]
[JsonSerializable(typeof(WalletChallengeRequest))]
[JsonSerializable(typeof(WalletChallengeDto))]
[JsonSerializable(typeof(WalletVerifyRequest))]
[JsonSerializable(typeof(OidcExchangeRequest))]
[JsonSerializable(typeof(UserDto))]
[JsonSerializable(typeof(List<UserDto>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(CreateAccessKeyRequest))]
[JsonSerializable(typeof(CreatedAccessKeyDto))]
[JsonSerializable(typeof(List<AccessKeyDto>))]
[JsonSerializable(typeof(List<AppDto>))]
[JsonSerializable(typeof(CreateAppRequest))]
[JsonSerializable(typeof(CreatedAppDto))]
[JsonSerializable(typeof(SetSubscriptionRequest))]
[JsonSerializable(typeof(SubscriptionDto))]
[JsonSerializable(typeof(ConnectSessionDto))]
[JsonSerializable(typeof(ProviderRequest))]
[JsonSerializable(typeof(ProviderDto))]
[JsonSerializable(typeof(List<ProviderDto>))]
[JsonSerializable(typeof(CredentialRequest))]
[JsonSerializable(typeof(CredentialDto))]
[JsonSerializable(typeof(List<CredentialDto>))]
[JsonSerializable(typeof(CredentialTestRequest))]
[JsonSerializable(typeof(CredentialTestDto))]
[JsonSerializable(typeof(List<CatalogModelDto>))]
[JsonSerializable(typeof(ModelStatusDto))]
[JsonSerializable(typeof(ModelListDto))]
[JsonSerializable(typeof(ModelRateDto))]
[JsonSerializable(typeof(List<ModelRateDto>))]
[JsonSerializable(typeof(List<ModelRateHistoryDto>))]
[JsonSerializable(typeof(ModelRateRequest))]
[JsonSerializable(typeof(CreditsDto))]
[JsonSerializable(typeof(PagedDto<LedgerEntryDto>))]
[JsonSerializable(typeof(GrantRequest))]
[JsonSerializable(typeof(GrantDto))]
[JsonSerializable(typeof(QuotaDto))]
[JsonSerializable(typeof(TrendsDto))]
[JsonSerializable(typeof(PagedDto<ModelCallDto>))]
[JsonSerializable(typeof(ModelCallDto))]
[JsonSerializable(typeof(ErrorEnvelopeDto))]
[JsonSerializable(typeof(ProblemDto))]
[JsonSerializable(typeof(JsonObject))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
