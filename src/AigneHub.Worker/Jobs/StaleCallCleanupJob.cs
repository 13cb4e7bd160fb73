using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>
/// Closes calls left <c>processing</c> whose lease lapsed (the Api serving them died, or lost their settlement):
/// failed with a timeout reason and their reservation released, in one statement guarded exactly like the Api's settlement, so the two can race safely.
/// </summary>
public sealed partial class StaleCallCleanupJob(
    NpgsqlDataSource database,
    IOptions<BillingJobOptions> options,
    TimeProvider time,
    ILogger<StaleCallCleanupJob> logger) : PeriodicJob(time, logger)
{
    private const int BatchSize = 1000;

    protected override TimeSpan Period => TimeSpan.FromSeconds(options.Value.CleanupIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var minutes = options.Value.StaleCallMinutes;
        var reason = $"Timeout: no sign of life from the Api serving it for {minutes} minutes";
        int closed;
        do
        {
            var now = Time.GetUtcNow();
            closed = await BillingSql.ExpireStaleCallsAsync(database, now.AddMinutes(-minutes), reason, now, BatchSize, cancellationToken);
            if (closed > 0)
            {
                Log.Closed(logger, closed, minutes);
            }
        }
        while (closed == BatchSize);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Closed {Count} model call(s) whose lease lapsed more than {Minutes} minutes ago.")]
        public static partial void Closed(ILogger logger, int count, int minutes);
    }
}
