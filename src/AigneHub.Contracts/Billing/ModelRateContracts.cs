using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Billing;

// Model rates (/api/admin/model-rates): credits per token (or image, or second) of a provider+model+type. Every rate
// is a decimal string on the wire (DecimalString). The Api reads rate bodies field by field (so that it can report
// every problem at once and derive rates from unit costs and a margin); ModelRateRequest is the shape it accepts.

public sealed record ModelRateResponse(
    Guid Id, string Provider, string Model, string Type,
    [property: JsonConverter(typeof(DecimalString))] decimal InputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal OutputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheWriteRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheReadRate,
    JsonObject? UnitCosts, JsonObject? Metadata, bool Deprecated, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public sealed record ModelRateHistoryResponse(
    Guid Id, Guid RateId, string Change, string Provider, string Model, string Type,
    [property: JsonConverter(typeof(DecimalString))] decimal InputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal OutputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheWriteRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheReadRate,
    JsonObject? UnitCosts, JsonObject? Metadata, bool Deprecated, Guid? ChangedBy, DateTimeOffset ChangedAt);

/// <summary>
/// The body of a rate create (POST) or replacement (PUT). <see cref="InputRate"/> and <see cref="OutputRate"/> may be
/// left out when <see cref="UnitCosts"/> and <see cref="Margin"/> are given: the Api then derives them
/// (<c>unitCost × (1 + percent/100) / creditPrice</c>).
/// </summary>
public sealed record ModelRateRequest(
    string? Provider, string? Model, string? Type,
    [property: JsonConverter(typeof(DecimalString))] decimal? InputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? OutputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheWriteRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheReadRate,
    UnitCosts? UnitCosts, JsonObject? Metadata, bool? Deprecated, RateMargin? Margin = null);

/// <summary>What the provider charges per unit, in money; stored on the rate as given.</summary>
public sealed record UnitCosts(
    [property: JsonConverter(typeof(DecimalString))] decimal? Input,
    [property: JsonConverter(typeof(DecimalString))] decimal? Output);

/// <summary>A margin in percent (20 = +20 %) over the unit costs, and what one credit sells for.</summary>
public sealed record RateMargin(
    [property: JsonConverter(typeof(DecimalString))] decimal Percent,
    [property: JsonConverter(typeof(DecimalString))] decimal CreditPrice);

/// <summary>What the Api accepts for every price on a rate, per token (or image, or second) as stored; the Admin's
/// forms check the same limits in their own units before sending.</summary>
public static class RateLimits
{
    public const decimal MaxPerUnit = 1_000_000_000_000m;

    public const int MaxDecimalPlaces = 18;
}
