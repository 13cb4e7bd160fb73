namespace AigneHub.Worker.Jobs;

/// <summary>
/// One background job: a tick right away, then one per <see cref="Period"/> on a <see cref="PeriodicTimer"/> driven
/// by the injected <see cref="TimeProvider"/> (tests drive it with a fake clock). Each tick is idempotent and
/// set-based, so a tick that fails or a replica that dies only delays work.
/// </summary>
public abstract partial class PeriodicJob(TimeProvider time, ILogger logger) : BackgroundService
{
    protected TimeProvider Time { get; } = time;

    protected abstract TimeSpan Period { get; }

    /// <summary>One tick. Public so tests (and operators' tooling) can run a job exactly once.</summary>
    public abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, Time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.TickFailed(logger, ex, GetType().Name);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Job} tick failed; it runs again on the next tick.")]
        public static partial void TickFailed(ILogger logger, Exception exception, string job);
    }
}
