using System.Globalization;

namespace AigneHub.Admin.Billing;

/// <summary>
/// The one way the Admin writes credits, so every page shows the same figure for the same amount: whole amounts
/// with thousands separators and at most two decimals (1,234.57); amounts under 1 to <see cref="SignificantDigits"/>
/// significant digits (0.00000342, 0.0008) — never rounded to 0 when they are not 0. Prices are written per 1M tokens
/// (<see cref="Price"/>). Invariant culture: the figure reads the same in every browser.
/// </summary>
public static class CreditFormat
{
    public const int SignificantDigits = 3;

    public static string Credits(decimal value)
    {
        if (value == 0)
        {
            return "0";
        }
        var magnitude = Math.Abs(value);
        if (magnitude >= 1)
        {
            var rounded = Math.Round(value, 2, MidpointRounding.AwayFromZero);
            return rounded.ToString("#,0.##", CultureInfo.InvariantCulture);
        }
        // Decimal places for SignificantDigits digits after the leading zeros: 0.0008 has 3 zeros, so 3 + 3 places.
        var zeros = 0;
        for (var m = magnitude * 10; m < 1; m *= 10)
        {
            zeros++;
        }
        var places = Math.Min(28, zeros + SignificantDigits);
        var text = Math.Round(value, places, MidpointRounding.AwayFromZero).ToString("0." + new string('#', places), CultureInfo.InvariantCulture);
        return text;
    }

    /// <summary>A credit amount with its unit, for sentences ("0.025 credits").</summary>
    public static string WithUnit(decimal value) => $"{Credits(value)} {(value == 1 ? "credit" : "credits")}";

    /// <summary>A stored rate (credits per token, image or second) as the pages show prices: per 1M tokens for token-priced types.</summary>
    public static string Price(decimal perUnit, string type) => $"{Credits(RateMath.ToDisplay(perUnit, type))} {RateMath.UnitLabel(type)}";
}
