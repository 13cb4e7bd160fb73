using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Billing;

/// <summary>
/// The outbox of charges to report to the billing service, written in the same statement as the call's
/// settlement. The model call id is the key and the idempotency key the sink receives, so a redelivery after a
/// crash is recognisable as the same event.
/// </summary>
public sealed class MeterEvent
{
    public Guid ModelCallId { get; set; }

    public Guid UserId { get; set; }

    public decimal Credits { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? DeliveredAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>When the event may next be tried; a claim pushes it forward (a lease), so a Worker that dies
    /// mid-batch leaves its events to be retried once the lease lapses.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    public string? LastError { get; set; }

    /// <summary>Set when the event was given up on (the sink refused it for good, or it failed too often): it is no
    /// longer tried until an admin retries it.</summary>
    public DateTimeOffset? DeadAt { get; set; }
}

internal sealed class MeterEventConfiguration : IEntityTypeConfiguration<MeterEvent>
{
    public void Configure(EntityTypeBuilder<MeterEvent> builder)
    {
        builder.ToTable("meter_events");
        builder.HasKey(e => e.ModelCallId);
        builder.Property(e => e.Credits).HasColumnType(BillingModel.CreditsColumnType);
        builder.Property(e => e.LastError).HasMaxLength(2000);
        builder.HasIndex(e => e.NextAttemptAt).HasFilter("delivered_at IS NULL AND dead_at IS NULL").HasDatabaseName("ix_meter_events_pending");
        builder.HasIndex(e => e.DeadAt).HasFilter("dead_at IS NOT NULL AND delivered_at IS NULL").HasDatabaseName("ix_meter_events_dead");
    }
}
