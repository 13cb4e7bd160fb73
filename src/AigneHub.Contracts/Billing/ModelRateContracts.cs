using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Billing;

// Model rates (/api/admin/model-rates): credits per token (or image, or second; audio: per character spoken and per
// second heard) of a provider+model+type. Every rate
// is a decimal string on the wire (DecimalString). The Api reads rate bodies field by field (so that it can report
// every problem at once and derive rates from unit costs and a margin); ModelRateRequest is the shape it accepts.

public sealed record ModelRateResponse(
    Guid Id, string Provider, string Model, string Type,
    [property: JsonConverter(typeof(DecimalString))] decimal InputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal OutputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheWriteRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheReadRate,
    JsonObject? UnitCosts, JsonObject? Metadata, bool Deprecated, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt,
    [property: JsonConverter(typeof(DecimalString))] decimal? CharacterRate = null,
    [property: JsonConverter(typeof(DecimalString))] decimal? SecondRate = null,
    List<ImagePriceEntry>? ImagePrices = null);

public sealed record ModelRateHistoryResponse(
    Guid Id, Guid RateId, string Change, string Provider, string Model, string Type,
    [property: JsonConverter(typeof(DecimalString))] decimal InputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal OutputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheWriteRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheReadRate,
    JsonObject? UnitCosts, JsonObject? Metadata, bool Deprecated, Guid? ChangedBy, DateTimeOffset ChangedAt,
    [property: JsonConverter(typeof(DecimalString))] decimal? CharacterRate = null,
    [property: JsonConverter(typeof(DecimalString))] decimal? SecondRate = null,
    List<ImagePriceEntry>? ImagePrices = null);

/// <summary>
/// The body of a rate create (POST) or replacement (PUT). <see cref="InputRate"/> and <see cref="OutputRate"/> may be
/// left out when <see cref="UnitCosts"/> and <see cref="Margin"/> are given: the Api then derives them
/// (<c>unitCost × (1 + percent/100) / creditPrice</c>). An audio rate prices <see cref="CharacterRate"/> (speech) and
/// <see cref="SecondRate"/> (transcription, translation); its input and output rates may be left out (0). An image
/// rate may price images by size and quality (<see cref="ImagePriceEntry"/>); its output rate is the price of the rest.
/// </summary>
public sealed record ModelRateRequest(
    string? Provider, string? Model, string? Type,
    [property: JsonConverter(typeof(DecimalString))] decimal? InputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? OutputRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheWriteRate,
    [property: JsonConverter(typeof(DecimalString))] decimal? CacheReadRate,
    UnitCosts? UnitCosts, JsonObject? Metadata, bool? Deprecated, RateMargin? Margin = null,
    [property: JsonConverter(typeof(DecimalString))] decimal? CharacterRate = null,
    [property: JsonConverter(typeof(DecimalString))] decimal? SecondRate = null,
    List<ImagePriceEntry>? ImagePrices = null);

/// <summary>
/// One entry of an image rate's price table (<c>imagePrices</c>): credits per image of this size (<c>1024x1024</c>,
/// <c>auto</c>, <c>2K</c>) and/or quality (<c>hd</c>, <c>high</c>…), at least one of the two. An image is priced by
/// the most specific entry that matches it (size and quality, else size, else quality; case-insensitive), else the
/// rate's <c>outputRate</c>; no two entries may name the same size and quality.
/// </summary>
public sealed record ImagePriceEntry(string? Size, string? Quality, [property: JsonConverter(typeof(DecimalString))] decimal Price);

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
