using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>
/// Closes calls left <c>processing</c> whose lease lapsed (the Api serving them died, or lost their settlement):
/// failed with a timeout reason and their reservation released, in one statement guarded exactly like the Api's settlement, so the two can race safely.
/// <para>
/// A lease cannot be renewed while the database is away, so an outage makes every lease look old. After a tick that
/// could not reach the database, the cleanup closes nothing until the database has been back for two lease
/// intervals (<see cref="BillingJobOptions.CallLeaseSeconds"/>): live Apis renew their leases and land the
/// settlements they kept through the outage first; only calls of Apis that really died are closed.
/// </para>
/// </summary>
public sealed partial class StaleCallCleanupJob(
    NpgsqlDataSource database,
    IOptions<BillingJobOptions> options,
    TimeProvider time,
    ILogger<StaleCallCleanupJob> logger) : PeriodicJob(time, logger)
{
    private const int BatchSize = 1000;

    private bool _databaseWasAway;
    private DateTimeOffset? _graceUntil;

    protected override TimeSpan Period => TimeSpan.FromSeconds(options.Value.CleanupIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_databaseWasAway)
            {
                // Back? (Throws while it is not.) The grace starts now.
                await using (await database.OpenConnectionAsync(cancellationToken))
                {
                }
                _databaseWasAway = false;
                _graceUntil = Time.GetUtcNow().AddSeconds(2 * options.Value.CallLeaseSeconds);
                Log.Waiting(logger, 2 * options.Value.CallLeaseSeconds);
            }
            if (_graceUntil is { } until && Time.GetUtcNow() < until)
            {
                return;
            }
            _graceUntil = null;
            await CloseLapsedAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            _databaseWasAway = true;
            throw;
        }
    }

    private async Task CloseLapsedAsync(CancellationToken cancellationToken)
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

        [LoggerMessage(2, LogLevel.Information, "The database is back after an outage; stale-call cleanup waits {Seconds} s for the Apis to renew their leases.")]
        public static partial void Waiting(ILogger logger, int seconds);
    }
}
