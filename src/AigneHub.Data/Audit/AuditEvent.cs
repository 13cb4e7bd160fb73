using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Audit;

/// <summary>
/// One entry of the append-only audit log: who (user, role, key, address) did what (the route's name) to what
/// (the route's ids, or the email/DID of a failed sign-in), how it ended (the HTTP status), and the masked state
/// before and after where the route knows it. Rows are only ever inserted; a trigger refuses updates, and only the
/// Worker's retention deletes (rows older than <c>AigneHub:Audit:RetentionDays</c>).
/// </summary>
public sealed class AuditEvent
{
    public long Id { get; set; }

    public DateTimeOffset OccurredAt { get; set; }

    /// <summary>Null for an anonymous caller (a failed sign-in).</summary>
    public Guid? ActorUserId { get; set; }

    public string? ActorRole { get; set; }

    public Guid? ActorKeyId { get; set; }

    /// <summary>The route's name, e.g. <c>CreateUser</c>, <c>Login</c>.</summary>
    public required string Action { get; set; }

    /// <summary>The method and route pattern, e.g. <c>PATCH /api/admin/users/{id}</c>.</summary>
    public required string Route { get; set; }

    public string? Target { get; set; }

    public int Status { get; set; }

    public string? ClientAddress { get; set; }

    /// <summary>JSON, secrets masked.</summary>
    public string? Before { get; set; }

    /// <summary>JSON, secrets masked (usually the route's answer).</summary>
    public string? After { get; set; }
}

internal sealed class AuditEventConfiguration : IEntityTypeConfiguration<AuditEvent>
{
    public const string Table = "audit_events";

    public void Configure(EntityTypeBuilder<AuditEvent> builder)
    {
        builder.ToTable(Table);
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).UseIdentityAlwaysColumn();
        builder.Property(e => e.ActorRole).HasMaxLength(16);
        builder.Property(e => e.Action).HasMaxLength(100);
        builder.Property(e => e.Route).HasMaxLength(300);
        builder.Property(e => e.Target).HasMaxLength(500);
        builder.Property(e => e.ClientAddress).HasMaxLength(64);
        builder.Property(e => e.Before).HasColumnType("jsonb");
        builder.Property(e => e.After).HasColumnType("jsonb");
        builder.HasIndex(e => e.OccurredAt);
        builder.HasIndex(e => new { e.ActorUserId, e.Id });
        builder.HasIndex(e => new { e.Action, e.Id });
    }
}
