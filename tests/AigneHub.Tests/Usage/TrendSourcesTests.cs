using AigneHub.Api.Usage;

namespace AigneHub.Tests.Usage;

/// <summary>Which source serves which part of a trend (<see cref="TrendSources"/>): every instant of the range
/// exactly once (but a partial first hour older than retention), the rollups only for whole hours before their last
/// run, raw calls never before the split.</summary>
public sealed class TrendSourcesTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void The_rollups_serve_the_whole_hours_before_their_last_run_and_the_raw_calls_the_rest()
    {
        var from = Day.AddHours(10.5);
        var to = Day.AddDays(3).AddHours(15).AddMinutes(20);
        var lastRun = Day.AddDays(3).AddHours(14).AddMinutes(5);

        var sources = TrendSources.Of(from, to, split: Day.AddDays(-60), lastRun, dailyRollups: true);

        Assert.Equal([new TimeRange(from, Day.AddHours(11)), new TimeRange(Day.AddDays(3).AddHours(14), to)], sources.Raw);
        Assert.Equal(new TimeRange(Day.AddHours(11), Day.AddDays(3).AddHours(14)), sources.Rollups);
        Assert.Equal(new TimeRange(Day.AddDays(1), Day.AddDays(3)), sources.DailyRollups);
    }

    [Fact]
    public void Without_a_run_the_rollups_serve_only_what_retention_took()
    {
        var split = Day.AddDays(2);
        var sources = TrendSources.Of(Day.AddHours(1), Day.AddDays(4), split, lastRollup: null, dailyRollups: false);

        Assert.Equal([new TimeRange(split, Day.AddDays(4))], sources.Raw);
        Assert.Equal(new TimeRange(Day.AddHours(1), split), sources.Rollups);
        Assert.True(sources.DailyRollups.IsEmpty);
    }

    [Theory]
    [InlineData(10.5, 80.3, -60.0, 77.1, true)]
    [InlineData(10.5, 80.3, -60.0, 77.1, false)]
    [InlineData(10.5, 80.3, 30.0, 77.1, true)]   // the split inside the range
    [InlineData(10.5, 80.3, 30.0, 12.0, true)]   // the last run before the split: the rollups end at the split
    [InlineData(10.5, 10.9, -60.0, 77.1, true)]  // inside one hour: raw calls only
    [InlineData(10.5, 80.3, -60.0, 200.0, true)] // the last run after the range's end
    [InlineData(10.0, 34.0, 50.0, 77.1, true)]   // all before the split: rollups to the end
    public void Every_instant_is_served_by_exactly_one_source(double fromHours, double toHours, double splitHours, double lastRunHours, bool daily)
    {
        DateTimeOffset At(double hours) => Day.AddHours(hours);
        var (from, to, split) = (At(fromHours), At(toHours), At(Math.Floor(splitHours / 24) * 24));
        var sources = TrendSources.Of(from, to, split, At(lastRunHours), daily);

        for (var t = from; t < to; t = t.AddMinutes(7))
        {
            var hourBucket = new DateTimeOffset(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero);
            var dayBucket = new DateTimeOffset(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero);
            var inDaily = In(sources.DailyRollups, dayBucket);
            var inHourly = In(sources.Rollups, hourBucket) && !In(sources.DailyRollups, hourBucket);
            var inRaw = sources.Raw.Count(r => In(r, t));
            // Before the split only the rollups remain, and they hold whole hours: a partial first hour there is lost.
            var lost = t < split && hourBucket < from;
            Assert.True(inRaw + (inDaily ? 1 : 0) + (inHourly ? 1 : 0) == (lost ? 0 : 1), $"{t:O}: raw {inRaw}, hourly {inHourly}, daily {inDaily}");
            if (inRaw > 0)
            {
                Assert.True(t >= split, $"{t:O} is read from raw calls before the split");
            }
            if (inHourly || inDaily)
            {
                Assert.True(hourBucket.AddHours(1) <= new DateTimeOffset(At(lastRunHours).Year, At(lastRunHours).Month, At(lastRunHours).Day, At(lastRunHours).Hour, 0, 0, TimeSpan.Zero)
                    || t < split, $"{t:O} is read from rollups of an hour their last run did not close");
            }
        }
    }

    private static bool In(TimeRange range, DateTimeOffset t) => t >= range.Start && t < range.End;
}
