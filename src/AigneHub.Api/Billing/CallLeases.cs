using System.Collections.Concurrent;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// The lease of every call this Api process is serving: every <see cref="BillingOptions.CallLeaseSeconds"/> one
/// statement renews <c>last_activity_at</c> of all of them. The Worker's stale-call cleanup closes only calls whose
/// lease lapsed — the process serving them died — so a call may run as long as <see cref="BillingOptions.MaxCallMinutes"/>
/// allows and still be settled by its Api. One write per interval per replica, whatever the traffic: nothing on the
/// request's own path.
/// </summary>
internal sealed partial class CallLeases(
    NpgsqlDataSource database,
    IOptionsMonitor<BillingOptions> options,
    TimeProvider time,
    ILogger<CallLeases> logger) : BackgroundService
{
    private readonly ConcurrentDictionary<Guid, byte> _inFlight = new();

    public void Hold(Guid callId) => _inFlight.TryAdd(callId, 0);

    public void Release(Guid callId) => _inFlight.TryRemove(callId, out _);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.CurrentValue.CallLeaseSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RenewAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RenewAsync(CancellationToken cancellationToken)
    {
        if (_inFlight.IsEmpty)
        {
            return;
        }
        try
        {
            await BillingSql.RenewCallLeasesAsync(database, [.. _inFlight.Keys], time.GetUtcNow(), cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The next tick tries again; a lease lapses only after the Worker's StaleCallMinutes of failures.
            Log.RenewFailed(logger, ex, _inFlight.Count);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Renewing the lease of {Count} in-flight call(s) failed; retrying on the next tick.")]
        public static partial void RenewFailed(ILogger logger, Exception exception, int count);
    }
}
