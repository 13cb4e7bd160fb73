using AigneHub.Admin.Billing;
using AigneHub.Admin.Usage;
using AigneHub.Contracts.Usage;

namespace AigneHub.Tests.Admin;

public sealed class CreditFormatTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("0.00000342", "0.00000342")]
    [InlineData("0.0008", "0.0008")]
    [InlineData("0.00012345", "0.000123")]
    [InlineData("0.000000001", "0.000000001")]
    [InlineData("0.1234", "0.123")]
    [InlineData("0.9996", "1")]
    [InlineData("-0.05", "-0.05")]
    [InlineData("1234.5678", "1,234.57")]
    [InlineData("100", "100")]
    public void Credits_keep_three_significant_digits_below_one_and_two_decimals_above(string amount, string shown) =>
        Assert.Equal(shown, CreditFormat.Credits(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void A_tiny_non_zero_amount_is_never_shown_as_zero()
    {
        // The smallest positive decimal: 28 decimal places.
        var shown = CreditFormat.Credits(0.0000000000000000000000000001m);
        Assert.NotEqual("0", shown);
        Assert.Equal(0.0000000000000000000000000001m, decimal.Parse(shown, System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Prices_are_per_million_tokens_for_token_types_and_per_unit_otherwise()
    {
        // 0.0000003 credits per token × 1,000,000 = 0.3 per 1M tokens.
        Assert.Equal("0.3 per 1M tokens", CreditFormat.Price(0.0000003m, "chat"));
        Assert.Equal("0.04 per image", CreditFormat.Price(0.04m, "image"));
    }

    [Fact]
    public void A_24_hour_window_has_every_hour_and_the_empty_ones_are_zero()
    {
        var now = new DateTimeOffset(2026, 11, 26, 10, 30, 0, TimeSpan.Zero);
        var window = UsageWindows.Last(now, TimeSpan.FromDays(1));
        Assert.Equal(now.AddHours(-24), window.From);
        Assert.Equal(now, window.To);
        var busy = new TrendBucket(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero), 3, 3, 30, 20, 0.5m, 100, 20, 30);

        var filled = UsageWindows.Fill([busy], window.From!.Value, now, "hour");

        // From 10:00 yesterday (the hour 10:30 falls in) to 10:00 today: 25 hourly buckets.
        Assert.Equal(25, filled.Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero), filled[0].Start);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero), filled[^1].Start);
        Assert.Same(busy, filled[2]);
        Assert.Equal(3, filled.Sum(b => b.Calls));
        Assert.All(filled.Where(b => b != busy), b => Assert.Equal(0, b.Calls));
    }

    [Fact]
    public void A_chart_of_tiny_credits_is_drawn_in_a_named_smaller_unit_and_counts_are_never_scaled()
    {
        // Peak 0.0008 credits: below 5 in credits and in thousandths (0.8), 800 in millionths; 800 / 5 = 160, rounded up
        // to the next 1-2-5 step: 200.
        var credits = Scale([0, 0.0008, 0.0002], fractional: true);
        Assert.Equal(1_000_000d, credits.Factor);
        Assert.Equal("millionths", credits.Unit);
        Assert.Equal(200, credits.Tick);

        var calls = Scale([0, 1, 0], fractional: false);
        Assert.Equal(1d, calls.Factor);
        Assert.Null(calls.Unit);
        Assert.Equal(1, calls.Tick);
    }

    private static ChartScale Scale(double[] values, bool fractional) => ChartScale.For(values, fractional);
}
