namespace AigneHub.Api.Usage;

/// <summary>A half-open UTC time range [Start, End).</summary>
public readonly record struct TimeRange(DateTimeOffset Start, DateTimeOffset End)
{
    public bool IsEmpty => End <= Start;
}

/// <summary>
/// Which source serves which part of a usage trend's range: the hourly rollups the whole hours from the first one in
/// the range up to the hour of the rollups' last run (or up to the retention split, when they have not run since, or
/// a status filter keeps them out) — whole UTC days of that from the daily rollups when asked — and the raw calls the
/// rest (the partial first hour, and from the end of the rollups' part to <c>to</c>), never before the split: older
/// raw calls may be gone. Every instant of [from, to) is served by exactly one source.
/// </summary>
/// <param name="Raw">At most two ranges of raw calls (by <c>created_at</c>).</param>
/// <param name="Rollups">The hourly rollups' range (by <c>bucket_start</c>), minus <paramref name="DailyRollups"/>.</param>
/// <param name="DailyRollups">Whole UTC days inside <paramref name="Rollups"/> served by the daily rollups (empty unless asked).</param>
public sealed record TrendSources(IReadOnlyList<TimeRange> Raw, TimeRange Rollups, TimeRange DailyRollups)
{
    /// <param name="split">The first instant retention surely keeps the raw calls of (a UTC day boundary).</param>
    /// <param name="lastRollup">When the rollups last ran; null when they never did or may not be used.</param>
    public static TrendSources Of(DateTimeOffset from, DateTimeOffset to, DateTimeOffset split, DateTimeOffset? lastRollup, bool dailyRollups)
    {
        from = from.ToUniversalTime();
        to = to.ToUniversalTime();
        var firstHour = CeilingHour(from);
        // A range that ends before the split is all rollups, to its end (as the raw calls there may be gone).
        var rollupsEnd = to <= split ? to
            : lastRollup is { } last ? Max(split, Min(Hour(last.ToUniversalTime()), Hour(to)))
            : split;
        var rollups = new TimeRange(firstHour, Max(firstHour, rollupsEnd));
        var rawStart = Max(from, split);
        TimeRange[] raw = rollups.IsEmpty
            ? [new(rawStart, to)]
            : [new(rawStart, Min(firstHour, to)), new(Max(rawStart, rollups.End), to)];
        var days = dailyRollups ? new TimeRange(CeilingDay(rollups.Start), Day(rollups.End)) : default;
        return new TrendSources([.. raw.Where(r => !r.IsEmpty)], rollups, days.IsEmpty ? new TimeRange(rollups.Start, rollups.Start) : days);
    }

    private static DateTimeOffset Hour(DateTimeOffset t) => new(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset CeilingHour(DateTimeOffset t) => Hour(t) == t ? t : Hour(t).AddHours(1);

    private static DateTimeOffset Day(DateTimeOffset t) => new(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset CeilingDay(DateTimeOffset t) => Day(t) == t ? t : Day(t).AddDays(1);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
