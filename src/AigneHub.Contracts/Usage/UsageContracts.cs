using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Usage;

// Usage (/api/v2/usage/*, /api/v2/model-calls and the same across users under /api/admin). Credits are decimal
// strings on the wire (DecimalString).

public sealed record QuotaResponse(
    [property: JsonConverter(typeof(DecimalString))] decimal Balance,
    [property: JsonConverter(typeof(DecimalString))] decimal Reserved,
    [property: JsonConverter(typeof(DecimalString))] decimal Available,
    [property: JsonConverter(typeof(DecimalString))] decimal DailyAverage,
    double? EstimatedDaysLeft, string Currency);

/// <summary>One hour or day. The duration and time-to-first-byte figures are null for a bucket with no timed call.</summary>
public sealed record TrendBucket(DateTimeOffset Start, long Calls, long Successes, long PromptTokens, long CompletionTokens,
    [property: JsonConverter(typeof(DecimalString))] decimal Credits, double? AvgDurationMs, double? P50TtfbMs, double? P95TtfbMs);

/// <summary><see cref="Granularity"/> is <c>hour</c> or <c>day</c>; <see cref="TimezoneOffset"/> as JavaScript's getTimezoneOffset.</summary>
public sealed record TrendsResponse(string Granularity, int TimezoneOffset, IReadOnlyList<TrendBucket> Buckets);

public sealed record ModelCallResponse(
    Guid Id, Guid? UserId, string? AppId, string Surface, string? Provider, string? Model, string RequestedModel, string Type, string Status,
    int PromptTokens, int CompletionTokens, int CacheCreationTokens, int CacheReadTokens, int Images, string? ImageSize, string? ImageQuality,
    [property: JsonConverter(typeof(DecimalString))] decimal Credits,
    bool Estimated, int? DurationMs, int? GatewayTtfbMs, int? ProviderTtfbMs, int Attempts, string? ErrorReason,
    string? RequestId, string? TraceId, DateTimeOffset CreatedAt, DateTimeOffset? CompletedAt,
    string? UserEmail = null, Guid? AccessKeyId = null, string? AccessKeyName = null, int? StatusCode = null,
    int Characters = 0, [property: JsonConverter(typeof(DecimalString))] decimal? AudioSeconds = null,
    [property: JsonConverter(typeof(DecimalString))] decimal? VideoSeconds = null);

/// <summary>Usage grouped by one dimension (<c>model</c>, <c>provider</c>, <c>user</c>, <c>key</c> or <c>app</c>), dearest first.</summary>
public sealed record UsageBreakdownResponse(string By, IReadOnlyList<UsageBreakdownRow> Rows);

/// <param name="Key">What the row groups by (<c>provider/model</c>, a user or access key id, an app id); null for calls without one.</param>
/// <param name="Label">How a person reads it: the model name, the user's email, the key's name.</param>
public sealed record UsageBreakdownRow(string? Key, string Label, long Calls, long Failed, long Tokens,
    [property: JsonConverter(typeof(DecimalString))] decimal Credits);
