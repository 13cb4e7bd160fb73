using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>
/// Delivers the meter-event outbox. A tick claims a batch with <c>FOR UPDATE SKIP LOCKED</c> and pushes each
/// event's next attempt past a lease, so replicas never work on the same event and a worker that dies mid-batch
/// leaves its events to be retried when the lease lapses. A delivery starts only if it can end (the sink's timeout)
/// within the lease; the events it cannot reach in time are handed back at once, so a slow sink never leaves a tail
/// that another worker would claim and deliver again. Each delivered event is marked on its own; the sink sees the
/// same idempotency key if a crash forces a redelivery. Failures back off exponentially (5 s … 1 h); an event the
/// sink refuses for good (a 4xx other than 408/409/429) or that failed <c>MeterMaxAttempts</c> times is moved to the
/// dead letters, which the Admin lists and can retry.
/// </summary>
public sealed partial class MeterDeliveryJob(
    NpgsqlDataSource database,
    IMeterSink sink,
    IOptions<BillingJobOptions> options,
    TimeProvider time,
    ILogger<MeterDeliveryJob> logger) : PeriodicJob(time, logger)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromHours(1);

    protected override TimeSpan Period => TimeSpan.FromSeconds(options.Value.MeterIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var deliveryTime = TimeSpan.FromSeconds(o.MeterSinkTimeoutSeconds);
        while (true)
        {
            var now = Time.GetUtcNow();
            var leaseUntil = now.AddSeconds(o.MeterLeaseSeconds);
            var batch = await BillingSql.ClaimMeterEventsAsync(database, now, leaseUntil, o.MeterBatchSize, cancellationToken);
            for (var i = 0; i < batch.Count; i++)
            {
                if (Time.GetUtcNow() + deliveryTime > leaseUntil)
                {
                    // Too little lease left for another delivery to end inside it: hand the rest back untried.
                    await BillingSql.ReleaseMeterEventsAsync(database, batch[i..], Time.GetUtcNow(), cancellationToken);
                    Log.Released(logger, batch.Count - i);
                    return;
                }
                await DeliverAsync(batch[i], o, cancellationToken);
            }
            if (batch.Count < o.MeterBatchSize)
            {
                return;
            }
        }
    }

    private async Task DeliverAsync(ClaimedMeterEvent meterEvent, BillingJobOptions o, CancellationToken cancellationToken)
    {
        try
        {
            await sink.DeliverAsync(meterEvent, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            if (IsRefusedForGood(ex) || meterEvent.Attempts >= o.MeterMaxAttempts)
            {
                await BillingSql.MarkMeterDeadAsync(database, meterEvent.ModelCallId, Time.GetUtcNow(), ex.Message, cancellationToken);
                Log.DeadLettered(logger, meterEvent.ModelCallId, meterEvent.Attempts);
                return;
            }
            var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, 5 * Math.Pow(2, Math.Min(meterEvent.Attempts - 1, 20))));
            await BillingSql.MarkMeterFailedAsync(database, meterEvent.ModelCallId, Time.GetUtcNow() + backoff, ex.Message, cancellationToken);
            Log.DeliveryFailed(logger, meterEvent.ModelCallId, meterEvent.Attempts, backoff);
            return;
        }
        await BillingSql.MarkMeterDeliveredAsync(database, meterEvent.ModelCallId, Time.GetUtcNow(), cancellationToken);
    }

    /// <summary>The sink said this event will never be accepted as sent: retrying cannot help.</summary>
    private static bool IsRefusedForGood(Exception ex) =>
        ex is HttpRequestException { StatusCode: { } status }
        && (int)status is >= 400 and < 500
        && status is not (System.Net.HttpStatusCode.RequestTimeout or System.Net.HttpStatusCode.Conflict or System.Net.HttpStatusCode.TooManyRequests);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Meter event {ModelCallId} not delivered (attempt {Attempts}); retrying in {Backoff}.")]
        public static partial void DeliveryFailed(ILogger logger, Guid modelCallId, int attempts, TimeSpan backoff);

        [LoggerMessage(2, LogLevel.Error, "Meter event {ModelCallId} moved to the dead letters after attempt {Attempts}; an admin can retry it.")]
        public static partial void DeadLettered(ILogger logger, Guid modelCallId, int attempts);

        [LoggerMessage(3, LogLevel.Information, "Handed {Count} claimed meter event(s) back: their lease would end before they could be delivered.")]
        public static partial void Released(ILogger logger, int count);
    }
}
