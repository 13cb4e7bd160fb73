using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Billing;

/// <summary>
/// A state-changing admin request sent with an <c>Idempotency-Key</c>: the first answer is kept for 24 hours and
/// replayed to a repeat with the same key and body, so a retried or double-submitted grant is applied once. Scoped
/// per caller and route; <see cref="StatusCode"/> is null while the first request is still running.
/// </summary>
public sealed class IdempotentRequest
{
    public required string Scope { get; set; }

    public required string Key { get; set; }

    /// <summary>SHA-256 of the method, path and body: a repeat with other content is refused, not replayed.</summary>
    public required byte[] RequestHash { get; set; }

    public int? StatusCode { get; set; }

    public string? ContentType { get; set; }

    public string? Location { get; set; }

    public string? ResponseBody { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class IdempotentRequestConfiguration : IEntityTypeConfiguration<IdempotentRequest>
{
    public void Configure(EntityTypeBuilder<IdempotentRequest> builder)
    {
        builder.ToTable("idempotent_requests");
        builder.HasKey(r => new { r.Scope, r.Key });
        builder.Property(r => r.Scope).HasMaxLength(300);
        builder.Property(r => r.Key).HasMaxLength(255);
        builder.Property(r => r.ContentType).HasMaxLength(200);
        builder.Property(r => r.Location).HasMaxLength(1000);
        builder.HasIndex(r => r.CreatedAt);
    }
}
