using System.Diagnostics.Metrics;

namespace AigneHub.Api.Billing;

/// <summary>
/// Metrics of the money path (meter <c>AigneHub.Billing</c>, exported by the service defaults): how much of its
/// reservation a settled call used, and the calls whose charge went above it (billed anyway: the reservation is an
/// estimate, the charge what the provider reported).
/// </summary>
public sealed class BillingTelemetry : IDisposable
{
    public const string Name = "AigneHub.Billing";

    private readonly Meter _meter;

    public BillingTelemetry(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        ReservationUse = _meter.CreateHistogram<double>("aignehub.billing.reservation_use", "1",
            "A settled call's charge divided by its reservation (at most 1 when the estimate held).");
        ChargesOverReservation = _meter.CreateCounter<long>("aignehub.billing.charges_over_reservation", "{call}",
            "Settled calls charged more than they reserved.");
        SettlementsKept = _meter.CreateCounter<long>("aignehub.billing.settlements_kept", "{call}",
            "Settlements the database did not take within the request's budget, kept and retried until it does.");
        SettlementsDropped = _meter.CreateCounter<long>("aignehub.billing.settlements_dropped", "{call}",
            "Kept settlements given up (capacity reached, shutdown, or refused by the server): left to the stale-call cleanup, uncharged.");
    }

    public Histogram<double> ReservationUse { get; }

    public Counter<long> ChargesOverReservation { get; }

    public Counter<long> SettlementsKept { get; }

    public Counter<long> SettlementsDropped { get; }

    public void Dispose() => _meter.Dispose();
}
