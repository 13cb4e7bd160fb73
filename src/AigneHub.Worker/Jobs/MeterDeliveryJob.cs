using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>
/// Delivers the meter-event outbox. A tick claims a batch with <c>FOR UPDATE SKIP LOCKED</c> and pushes each
/// event's next attempt past a lease, so replicas never work on the same event and a worker that dies mid-batch
/// leaves its events to be retried when the lease lapses. Each delivered event is marked on its own; the sink sees
/// the same idempotency key if a crash forces a redelivery. Failures back off exponentially (5 s … 1 h).
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
        while (true)
        {
            var now = Time.GetUtcNow();
            var batch = await BillingSql.ClaimMeterEventsAsync(database, now, now.AddSeconds(o.MeterLeaseSeconds), o.MeterBatchSize, cancellationToken);
            foreach (var meterEvent in batch)
            {
                try
                {
                    await sink.DeliverAsync(meterEvent, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, 5 * Math.Pow(2, Math.Min(meterEvent.Attempts - 1, 20))));
                    await BillingSql.MarkMeterFailedAsync(database, meterEvent.ModelCallId, Time.GetUtcNow() + backoff, ex.Message, cancellationToken);
                    Log.DeliveryFailed(logger, meterEvent.ModelCallId, meterEvent.Attempts, backoff);
                    continue;
                }
                await BillingSql.MarkMeterDeliveredAsync(database, meterEvent.ModelCallId, Time.GetUtcNow(), cancellationToken);
            }
            if (batch.Count < o.MeterBatchSize)
            {
                return;
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Meter event {ModelCallId} not delivered (attempt {Attempts}); retrying in {Backoff}.")]
        public static partial void DeliveryFailed(ILogger logger, Guid modelCallId, int attempts, TimeSpan backoff);
    }
}
