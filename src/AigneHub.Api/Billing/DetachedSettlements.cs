using Microsoft.Extensions.Options;

namespace AigneHub.Api.Billing;

/// <summary>
/// Settlements that run after their request has ended. Once a served answer is whole and ended for its caller, its
/// settlement needs nothing of the request, and the request ending at once frees its keep-alive connection: Kestrel
/// reads the next request on a connection only after the last one's handler has returned, so a handler that waited for
/// its settlement put the database's commit on the next caller's latency. The settlement itself is unchanged (the
/// recorder bounds it with <see cref="BillingOptions.SettleSeconds"/> and keeps what the database does not take).
/// <para>They are bounded (<see cref="BillingOptions.MaxDetachedSettlements"/>): at the bound <see cref="HasRoom"/> is false
/// and the request waits for its settlement, as every request once did — the natural back-pressure of a
/// connection that cannot send its next request before its last one's settlement is taken — so a backlog of
/// settlements cannot grow without bound while the database falls behind.</para>
/// <para>At shutdown the host waits for them: Kestrel's drain stops first (it is registered after the app's hosted
/// services, so it stops before them), then this waits for the settlements still running (each bounded by its
/// budget, so this fits the host's <c>ShutdownTimeout</c>), then <see cref="PendingSettlements"/> (registered before
/// this, so stopped after it) gives the kept ones their last try.</para>
/// </summary>
public sealed partial class DetachedSettlements(IOptionsMonitor<BillingOptions> options, ILogger<DetachedSettlements> logger) : IHostedService
{
    private readonly Lock _gate = new();
    private int _running;
    private TaskCompletionSource? _idle;

    /// <summary>Settlements running now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <summary>Whether a settlement may run on after its request: false at the bound, and the request then waits for
    /// its settlement itself.</summary>
    public bool HasRoom => Running < options.CurrentValue.MaxDetachedSettlements;

    /// <summary>Lets <paramref name="settlement"/> run on after the request; the host waits for it at shutdown. Call
    /// only when <see cref="HasRoom"/> said so (the bound is a soft one: concurrent callers may pass it by a few).</summary>
    public void Track(ValueTask settlement)
    {
        if (settlement.IsCompletedSuccessfully)
        {
            return;
        }
        lock (_gate)
        {
            _running++;
        }
        _ = ObserveAsync(settlement);
    }

    private async Task ObserveAsync(ValueTask settlement)
    {
        try
        {
            await settlement;
        }
        catch (Exception ex)
        {
            // The recorder catches what a settlement can fail with; anything else is a defect, and the call stays
            // `processing` for the stale-call cleanup.
            Log.Failed(logger, ex);
        }
        finally
        {
            lock (_gate)
            {
                if (--_running == 0)
                {
                    _idle?.TrySetResult();
                    _idle = null;
                }
            }
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task idle;
        lock (_gate)
        {
            if (_running == 0)
            {
                return;
            }
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            idle = _idle.Task;
        }
        Log.Waiting(logger, Running);
        try
        {
            await idle.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            Log.LeftRunning(logger, Running);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "A settlement that ran after its request failed; the stale-call cleanup will close its call.")]
        public static partial void Failed(ILogger logger, Exception exception);

        [LoggerMessage(2, LogLevel.Information, "Stopping: waiting for {Count} settlements still running.")]
        public static partial void Waiting(ILogger logger, int count);

        [LoggerMessage(3, LogLevel.Error, "Stopped with {Count} settlements still running; the stale-call cleanup will close their calls.")]
        public static partial void LeftRunning(ILogger logger, int count);
    }
}
