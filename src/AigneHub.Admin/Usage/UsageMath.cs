using AigneHub.Admin.Api;

namespace AigneHub.Admin.Usage;

public enum UsageMetric
{
    Calls,
    Credits,
    Tokens,
    AvgDuration,
    Ttfb,
}

/// <summary>Totals of a period and their change against the period before it, as the analytics page shows them.</summary>
public sealed record UsageTotals(long Calls, decimal Credits, long Tokens, double? AvgDurationMs, double? AvgTtfbMs)
{
    public static UsageTotals Of(IReadOnlyCollection<TrendBucket> buckets)
    {
        var calls = buckets.Sum(b => b.Calls);
        // Averages are weighted by calls: a quiet hour must not count as much as a busy one.
        double? Weighted(Func<TrendBucket, double?> pick)
        {
            var withValue = buckets.Where(b => pick(b) is not null && b.Calls > 0).ToList();
            var weight = withValue.Sum(b => b.Calls);
            return weight == 0 ? null : withValue.Sum(b => pick(b)!.Value * b.Calls) / weight;
        }
        return new UsageTotals(calls, buckets.Sum(b => b.Credits), buckets.Sum(BucketTokens), Weighted(b => b.AvgDurationMs), Weighted(b => b.P50TtfbMs));
    }

    public static long BucketTokens(TrendBucket b) => b.PromptTokens + b.CompletionTokens;

    /// <summary>Relative change from <paramref name="previous"/> to <paramref name="current"/>; null when there is no base.</summary>
    public static double? Change(double current, double previous) => previous == 0 ? null : (current - previous) / previous;

    public static double Value(TrendBucket b, UsageMetric metric) => metric switch
    {
        UsageMetric.Calls => b.Calls,
        UsageMetric.Credits => (double)b.Credits,
        UsageMetric.Tokens => BucketTokens(b),
        UsageMetric.AvgDuration => b.AvgDurationMs ?? 0,
        UsageMetric.Ttfb => b.P50TtfbMs ?? 0,
        _ => 0,
    };

    public static double? Value(UsageTotals t, UsageMetric metric) => metric switch
    {
        UsageMetric.Calls => t.Calls,
        UsageMetric.Credits => (double)t.Credits,
        UsageMetric.Tokens => t.Tokens,
        UsageMetric.AvgDuration => t.AvgDurationMs,
        UsageMetric.Ttfb => t.AvgTtfbMs,
        _ => null,
    };

    /// <summary>A total as its card shows it: credits in the one credit format, the rest as whole numbers.</summary>
    public static string Format(UsageTotals t, UsageMetric metric) => metric == UsageMetric.Credits
        ? Billing.CreditFormat.Credits(t.Credits)
        : Value(t, metric) is { } v ? v.ToString("#,0", System.Globalization.CultureInfo.InvariantCulture) : "—";

    public static string Label(UsageMetric metric) => metric switch
    {
        UsageMetric.Calls => "Calls",
        UsageMetric.Credits => "Credits",
        UsageMetric.Tokens => "Tokens",
        UsageMetric.AvgDuration => "Avg duration (ms)",
        UsageMetric.Ttfb => "Time to first byte (ms, p50)",
        _ => metric.ToString(),
    };
}

/// <summary>Rolling windows and the chart's buckets: "24 h" means the 24 hours up to now, and every hour or day in
/// the window has a bucket, empty ones as zero, so a chart's x axis is time and not "the hours that had calls".</summary>
public static class UsageWindows
{
    public static CallFilter Last(DateTimeOffset now, TimeSpan length) => new() { From = now - length, To = now };

    /// <summary>The bucket starts (UTC) of <paramref name="granularity"/> (<c>hour</c> or <c>day</c>) covering [from, to).</summary>
    public static IEnumerable<DateTimeOffset> Starts(DateTimeOffset from, DateTimeOffset to, string granularity)
    {
        var step = granularity == "hour" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(1);
        var utc = from.UtcDateTime;
        var start = granularity == "hour"
            ? new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero)
            : new DateTimeOffset(utc.Date, TimeSpan.Zero);
        for (var at = start; at < to; at += step)
        {
            yield return at;
        }
    }

    /// <summary>The Api's buckets (only those with calls) with the missing ones filled in as zero, in time order.</summary>
    public static List<TrendBucket> Fill(IEnumerable<TrendBucket> buckets, DateTimeOffset from, DateTimeOffset to, string granularity)
    {
        var byStart = buckets.ToDictionary(b => b.Start.UtcDateTime);
        return [.. Starts(from, to, granularity).Select(at =>
            byStart.TryGetValue(at.UtcDateTime, out var b) ? b : new TrendBucket(at, 0, 0, 0, 0, 0, null, null, null))];
    }
}

/// <summary>
/// A chart's y axis fitted to its data: MudChart's ticks are whole numbers, so a fractional series whose peak is
/// below 5 (credits of cheap calls: 0.0008) is drawn in a smaller unit — thousandths, millionths — named in the
/// title; counts are never scaled. The tick is a round step giving about five lines up to the peak.
/// </summary>
public sealed record ChartScale(double Factor, string? Unit, int Tick)
{
    public static ChartScale For(IReadOnlyCollection<double> values, bool fractional)
    {
        var max = values.Count == 0 ? 0 : values.Max();
        double factor = 1;
        var exponent = 0;
        while (fractional && max > 0 && max * factor < 5 && exponent < 12)
        {
            factor *= 1000;
            exponent += 3;
        }
        var unit = exponent switch
        {
            0 => null,
            3 => "thousandths",
            6 => "millionths",
            9 => "billionths",
            _ => $"× 10^-{exponent}",
        };
        return new ChartScale(factor, unit, NiceStep(max * factor / 5));
    }

    /// <summary>1, 2 or 5 times a power of ten, at least 1.</summary>
    internal static int NiceStep(double rough)
    {
        if (rough <= 1)
        {
            return 1;
        }
        var power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        var step = rough / power <= 1 ? 1 : rough / power <= 2 ? 2 : rough / power <= 5 ? 5 : 10;
        return (int)Math.Min(int.MaxValue, step * power);
    }
}
