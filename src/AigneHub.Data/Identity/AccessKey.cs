using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Identity;

/// <summary>
/// An API credential. The secret is shown once at creation and stored only as its SHA-256 hash (keys are long
/// random strings, so a fast hash is the right one); <see cref="Prefix"/> is the public part kept for display.
/// </summary>
public sealed class AccessKey
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public Guid UserId { get; set; }

    public User? User { get; set; }

    public string? Name { get; set; }

    /// <summary>An API key a person made, or a sign-in session (short-lived, issued by a login).</summary>
    public AccessKeyKind Kind { get; set; } = AccessKeyKind.Api;

    public required string Prefix { get; set; }

    /// <summary>SHA-256 of the whole key; the lookup index.</summary>
    public required byte[] Hash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    /// <summary>What the key may do beyond its holder's role; see <see cref="AccessKeyScope"/>.</summary>
    public AccessKeyScope Scope { get; set; } = AccessKeyScope.Inference;
}

public enum AccessKeyKind
{
    Api = 0,
    Session = 1,
}

/// <summary>
/// How much of its holder's power a key carries. <see cref="Inference"/>: AI calls, model lists, the holder's own
/// usage, credits and profile — nothing that manages keys or the hub. <see cref="Full"/>: whatever the role allows.
/// A key handed to a tool (the CLI connect flow, <i>My keys</i>) defaults to the narrow one, so a leaked tool key
/// cannot mint more keys or change the hub.
/// </summary>
public enum AccessKeyScope
{
    Inference = 0,
    Full = 1,
}

internal sealed class AccessKeyConfiguration : IEntityTypeConfiguration<AccessKey>
{
    public void Configure(EntityTypeBuilder<AccessKey> builder)
    {
        builder.ToTable("access_keys");
        builder.HasKey(k => k.Id);
        builder.Property(k => k.Name).HasMaxLength(200);
        builder.Property(k => k.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(k => k.Scope).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(k => k.UserId);
        builder.Property(k => k.Prefix).HasMaxLength(32);
        builder.Property(k => k.Hash).HasMaxLength(32);
        builder.HasIndex(k => k.Hash).IsUnique();
        builder.HasOne(k => k.User).WithMany(u => u.AccessKeys).HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
