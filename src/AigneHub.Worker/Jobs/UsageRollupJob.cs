using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>
/// Recomputes the hourly buckets of the last two hours and the daily buckets of today and yesterday (UTC) from the
/// raw calls: an idempotent upsert, so replicas and repeated ticks agree. Two hours cover a call that completes
/// late, since the stale-call cleanup closes every call within its limit (default 30 minutes).
/// </summary>
public sealed class UsageRollupJob(
    NpgsqlDataSource database,
    IOptions<BillingJobOptions> options,
    TimeProvider time,
    ILogger<UsageRollupJob> logger) : PeriodicJob(time, logger)
{
    protected override TimeSpan Period => TimeSpan.FromSeconds(options.Value.RollupIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow();
        var hour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var day = new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero);
        await BillingSql.RollupAsync(database, RollupGranularity.Hour, hour.AddHours(-2), hour.AddHours(1), now, cancellationToken);
        await BillingSql.RollupAsync(database, RollupGranularity.Day, day.AddDays(-1), day.AddDays(1), now, cancellationToken);
    }
}
