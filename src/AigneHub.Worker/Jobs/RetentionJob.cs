using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>Deletes settled raw calls older than <c>AigneHub:Usage:RetentionDays</c> in batches; rollups stay.</summary>
public sealed partial class RetentionJob(
    NpgsqlDataSource database,
    IOptions<BillingJobOptions> options,
    TimeProvider time,
    ILogger<RetentionJob> logger) : PeriodicJob(time, logger)
{
    private const int BatchSize = 5000;

    protected override TimeSpan Period => TimeSpan.FromSeconds(options.Value.RetentionIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = Time.GetUtcNow().AddDays(-options.Value.RetentionDays);
        var total = 0;
        int deleted;
        do
        {
            deleted = await BillingSql.DeleteCallsBeforeAsync(database, cutoff, BatchSize, cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize);
        // Answers kept for Idempotency-Key replays live a day (the Api's IdempotencyKeys.Lifetime).
        await BillingSql.DeleteIdempotentRequestsBeforeAsync(database, Time.GetUtcNow().AddHours(-24), cancellationToken);
        if (total > 0)
        {
            Log.Deleted(logger, total, options.Value.RetentionDays);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Deleted {Count} model call(s) older than {Days} days (rollups kept).")]
        public static partial void Deleted(ILogger logger, int count, int days);
    }
}
