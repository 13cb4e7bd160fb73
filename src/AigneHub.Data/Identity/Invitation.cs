using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Identity;

/// <summary>
/// Under <c>AigneHub:Auth:Registration = invite</c>, the one way a new identity gets an account: an owner or admin
/// names the identity (a verified email for single sign-on, or a <c>did:key</c> for wallet sign-in) and the role it
/// gets. Single use, expiring, revocable; it grants nothing to anyone but that identity.
/// </summary>
public sealed class Invitation
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    /// <summary>Lower-cased; set for an SSO invitation (exactly one of <see cref="Email"/> and <see cref="Did"/>).</summary>
    public string? Email { get; set; }

    public string? Did { get; set; }

    public UserRole Role { get; set; } = UserRole.Member;

    public Guid CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }

    /// <summary>The account the invitation created.</summary>
    public Guid? UsedBy { get; set; }
}

internal sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> builder)
    {
        builder.ToTable("invitations");
        builder.HasKey(i => i.Id);
        builder.Property(i => i.Email).HasMaxLength(320);
        builder.Property(i => i.Did).HasMaxLength(200);
        builder.Property(i => i.Role).HasConversion<string>().HasMaxLength(16);
        builder.HasIndex(i => i.Email);
        builder.HasIndex(i => i.Did);
    }
}
