using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>
/// Recomputes, from the raw calls, every hourly and daily bucket (UTC) that may have changed since the last run: at
/// least the last two hours and today and yesterday, and back to the bucket of the earliest call that closed since
/// the last run — so a call that closes hours after it started (a long stream), and every bucket of a Worker outage
/// of any length, are rolled up. An idempotent upsert, so replicas and repeated ticks agree.
/// </summary>
public sealed class UsageRollupJob(
    NpgsqlDataSource database,
    IOptions<BillingJobOptions> options,
    TimeProvider time,
    ILogger<UsageRollupJob> logger) : PeriodicJob(time, logger)
{
    /// <summary>Calls that closed this long before the last run are looked at again: a settlement committed just
    /// after a run's snapshot (or stamped by an Api whose clock runs behind) is not missed.</summary>
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(10);

    /// <summary>When this process last rolled up; read from the table (its newest <c>updated_at</c>) only on the first
    /// run, so a tick does not scan the rollups to find out.</summary>
    private DateTimeOffset? _lastRun;

    protected override TimeSpan Period => TimeSpan.FromSeconds(options.Value.RollupIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var from = Hour(now).AddHours(-2);
        // Before the first run ever every call counts as new: a Worker deployed after the Api catches up on its history.
        _lastRun ??= await BillingSql.LastRollupAsync(database, cancellationToken);
        var since = _lastRun is { } last ? last - Overlap : DateTimeOffset.UnixEpoch;
        if (await BillingSql.EarliestCallClosedSinceAsync(database, since, cancellationToken) is { } earliest && earliest < from)
        {
            from = Hour(earliest);
        }
        var day = Day(now);
        await BillingSql.RollupAsync(database, RollupGranularity.Hour, from, Hour(now).AddHours(1), now, cancellationToken);
        await BillingSql.RollupAsync(database, RollupGranularity.Day, Min(Day(from), day.AddDays(-1)), day.AddDays(1), now, cancellationToken);
        _lastRun = now;
    }

    private static DateTimeOffset Hour(DateTimeOffset t) => new(t.Year, t.Month, t.Day, t.Hour, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset Day(DateTimeOffset t) => new(t.Year, t.Month, t.Day, 0, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
