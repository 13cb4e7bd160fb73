using System.Threading.Channels;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// Settlements the database could not take within a request's budget (<see cref="BillingOptions.SettleSeconds"/>):
/// Postgres down or restarting, a failover. The call's answer already reached its caller, so its charge must not be
/// lost to the outage: the settlement is kept here, in order, and retried (back-off from 200 ms to 2 s) until the
/// database takes it. While kept, the call's lease stays held (<see cref="CallLeases"/>), so the Worker's stale-call
/// cleanup does not close it as failed. Retrying is safe: the settlement statement is guarded by
/// <c>status = 'processing'</c>, so one whose commit was lost with its connection is refused the second time.
/// <para>
/// Bounded: at most <see cref="BillingOptions.PendingSettlementCapacity"/> are kept (one settlement is a few hundred
/// bytes); beyond that a settlement is left to the cleanup, which closes the call failed and uncharged, and the
/// <c>aignehub.billing.settlements_dropped</c> counter says so. On shutdown the kept ones get one more try.
/// What this does not survive: the process dying while it holds settlements (the cleanup closes them uncharged).
/// </para>
/// </summary>
internal sealed partial class PendingSettlements(
    NpgsqlDataSource database,
    CallLeases leases,
    BillingTelemetry telemetry,
    IOptionsMonitor<BillingOptions> options,
    TimeProvider time,
    ILogger<PendingSettlements> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);
    /// <summary>The last try the kept settlements get at shutdown (part of the host's shutdown timeout).</summary>
    internal static readonly TimeSpan ShutdownFlush = TimeSpan.FromSeconds(5);

    private readonly Channel<SettleCallCommand> _kept = Channel.CreateUnbounded<SettleCallCommand>(new UnboundedChannelOptions { SingleReader = true });
    private int _count;

    /// <summary>Settlements kept and not yet taken by the database.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Whether a settlement that failed with <paramref name="error"/> may be tried again: anything but a statement
    /// the server refused for a reason of its own (a constraint, a data error), which no retry will change.
    /// Connection failures, timeouts, cancellations, transient server states and a server shutting down (57) or
    /// refusing connections (08) all pass.
    /// </summary>
    public static bool Retryable(Exception error) => error switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("57", StringComparison.Ordinal) || pg.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException or TimeoutException or OperationCanceledException or IOException => true,
        _ => error.InnerException is { } inner && Retryable(inner),
    };

    /// <summary>Keeps <paramref name="command"/> until the database takes it; false when full (the caller then lets
    /// the call's lease go, and the cleanup closes it).</summary>
    public bool TryKeep(SettleCallCommand command)
    {
        if (Interlocked.Increment(ref _count) > options.CurrentValue.PendingSettlementCapacity)
        {
            Interlocked.Decrement(ref _count);
            telemetry.SettlementsDropped.Add(1);
            Log.Full(logger, command.Id, options.CurrentValue.PendingSettlementCapacity);
            return false;
        }
        leases.Hold(command.Id);
        _kept.Writer.TryWrite(command);
        telemetry.SettlementsKept.Add(1);
        Log.Kept(logger, command.Id);
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _kept.Reader.WaitToReadAsync(stoppingToken))
            {
                while (!stoppingToken.IsCancellationRequested && _kept.Reader.TryRead(out var command))
                {
                    await SettleAsync(command, retry: true, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await FlushAsync();
    }

    private async Task FlushAsync()
    {
        if (Count == 0)
        {
            return;
        }
        using var budget = new CancellationTokenSource(ShutdownFlush, time);
        while (_kept.Reader.TryRead(out var command))
        {
            await SettleAsync(command, retry: false, budget.Token);
        }
    }

    private async Task SettleAsync(SettleCallCommand command, bool retry, CancellationToken cancellationToken)
    {
        var delay = FirstRetryDelay;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    if (!await BillingSql.SettleCallAsync(database, command, cancellationToken))
                    {
                        Log.AlreadySettled(logger, command.Id);
                    }
                    else
                    {
                        Log.Settled(logger, command.Id, attempt);
                    }
                    Done(command);
                    return;
                }
                catch (Exception ex) when (retry && Retryable(ex) && !cancellationToken.IsCancellationRequested)
                {
                    if (attempt == 1 || attempt % 30 == 0)
                    {
                        Log.StillUnreachable(logger, ex, command.Id, attempt, Count);
                    }
                    await Task.Delay(delay, time, cancellationToken);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
                }
            }
        }
        catch (Exception) when (retry && cancellationToken.IsCancellationRequested)
        {
            // Shutting down: back in line for the shutdown's last try.
            _kept.Writer.TryWrite(command);
            return;
        }
        catch (Exception ex) when (!retry)
        {
            // Shutting down with the database still away: the cleanup closes this call, uncharged.
            telemetry.SettlementsDropped.Add(1);
            Log.LeftAtShutdown(logger, ex, command.Id);
        }
        catch (Exception ex)
        {
            // The server refused the statement itself: a defect, not an outage. Left to the cleanup.
            telemetry.SettlementsDropped.Add(1);
            Log.Refused(logger, ex, command.Id);
        }
        Done(command);
    }

    private void Done(SettleCallCommand command)
    {
        Interlocked.Decrement(ref _count);
        leases.Release(command.Id);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "The database did not take the settlement of model call {CallId} in time; it is kept and retried until it does.")]
        public static partial void Kept(ILogger logger, Guid callId);

        [LoggerMessage(2, LogLevel.Information, "Kept settlement of model call {CallId} landed (attempt {Attempt}).")]
        public static partial void Settled(ILogger logger, Guid callId, int attempt);

        [LoggerMessage(3, LogLevel.Information, "Kept settlement of model call {CallId} was already settled; ignored.")]
        public static partial void AlreadySettled(ILogger logger, Guid callId);

        [LoggerMessage(4, LogLevel.Warning, "Kept settlement of model call {CallId} still cannot reach the database (attempt {Attempt}, {Count} kept).")]
        public static partial void StillUnreachable(ILogger logger, Exception exception, Guid callId, int attempt, int count);

        [LoggerMessage(5, LogLevel.Error, "{Capacity} settlements are already kept; model call {CallId} is left to the stale-call cleanup, uncharged.")]
        public static partial void Full(ILogger logger, Guid callId, int capacity);

        [LoggerMessage(6, LogLevel.Error, "Shutting down with the settlement of model call {CallId} not taken; the stale-call cleanup will close it, uncharged.")]
        public static partial void LeftAtShutdown(ILogger logger, Exception exception, Guid callId);

        [LoggerMessage(7, LogLevel.Error, "The database refused the kept settlement of model call {CallId}; the stale-call cleanup will close it.")]
        public static partial void Refused(ILogger logger, Exception exception, Guid callId);
    }
}
