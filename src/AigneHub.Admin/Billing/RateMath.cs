using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Admin.Billing;

/// <summary>
/// The rate arithmetic the rate page shows: token rates are stored per token but read per 1M tokens, and the
/// margin helper is the Api's formula <c>rate = unitCost × (1 + margin%) / creditPrice</c>.
/// </summary>
public static class RateMath
{
    public const decimal TokensPerDisplayUnit = 1_000_000m;

    /// <summary>Token-priced types are shown per 1M tokens; images and video per unit.</summary>
    public static bool IsTokenPriced(string type) => type is "chat" or "embedding";

    public static decimal ToDisplay(decimal perUnit, string type) => IsTokenPriced(type) ? perUnit * TokensPerDisplayUnit : perUnit;

    public static decimal FromDisplay(decimal shown, string type) => IsTokenPriced(type) ? shown / TokensPerDisplayUnit : shown;

    public static string UnitLabel(string type) => type switch
    {
        "chat" or "embedding" => "per 1M tokens",
        "image" => "per image",
        "video" => "per second",
        _ => "per unit",
    };

    /// <summary>The unit costs stored on a rate (an object of decimal strings), or null when it has none or they are unreadable.</summary>
    public static UnitCosts? UnitCostsOf(JsonObject? stored)
    {
        try
        {
            return stored?.Deserialize(BillingJsonContext.Default.UnitCosts) is { } costs && (costs.Input is not null || costs.Output is not null) ? costs : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Credits per unit from the provider's price per unit, a margin in percent and the price of one credit.</summary>
    public static decimal RateFor(decimal unitCost, decimal marginPercent, decimal creditPrice)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(creditPrice);
        return Math.Round(unitCost * (1 + marginPercent / 100m) / creditPrice, 18, MidpointRounding.AwayFromZero);
    }
}

/// <summary>Rate bodies as the rate forms send them, prices entered as shown (per 1M tokens, per image, per second).</summary>
public static class RateForms
{
    public static readonly string[] Types = ["chat", "embedding", "image", "video"];

    /// <summary>
    /// What is wrong with the prices of a rate form, in the form's words and units (per 1M tokens for token-priced
    /// types), checked before anything is sent: the Api's own limits (<see cref="RateLimits"/>) are per token and
    /// name its JSON fields, which mean nothing to someone typing a price per 1M tokens.
    /// </summary>
    public static List<string> Problems(string type, params (string Label, decimal? Shown)[] prices)
    {
        var unit = RateMath.UnitLabel(type);
        var max = RateMath.ToDisplay(RateLimits.MaxPerUnit, type);
        // A shown price is divided by 10^6 before it is stored, so it may have six fewer decimal places.
        var places = RateLimits.MaxDecimalPlaces - (RateMath.IsTokenPriced(type) ? 6 : 0);
        var problems = new List<string>();
        foreach (var (label, shown) in prices)
        {
            if (shown is not { } value)
            {
                continue;
            }
            if (value < 0)
            {
                problems.Add($"{label} cannot be negative.");
            }
            else if (value > max)
            {
                problems.Add($"{label} can be at most {max.ToString("#,0", CultureInfo.InvariantCulture)} credits {unit}.");
            }
            else if (value != Math.Round(value, places))
            {
                problems.Add($"{label} can have at most {places} decimal places (credits {unit}).");
            }
        }
        return problems;
    }

    /// <summary>A new rate with only an input and an output price.</summary>
    public static ModelRateRequest Simple(string provider, string model, string type, decimal shownInput, decimal shownOutput) =>
        new(provider, model, type, RateMath.FromDisplay(shownInput, type), RateMath.FromDisplay(shownOutput, type), null, null, null, null, false);

    /// <summary>An existing rate with new input and output prices, everything else kept (a PUT replaces the whole rate).</summary>
    public static ModelRateRequest WithPrices(ModelRateResponse rate, decimal shownInput, decimal shownOutput) =>
        new(rate.Provider, rate.Model, rate.Type, RateMath.FromDisplay(shownInput, rate.Type), RateMath.FromDisplay(shownOutput, rate.Type),
            rate.CacheWriteRate, rate.CacheReadRate, RateMath.UnitCostsOf(rate.UnitCosts), rate.Metadata, rate.Deprecated,
            CharacterRate: rate.CharacterRate, SecondRate: rate.SecondRate, ImagePrices: rate.ImagePrices);
}
