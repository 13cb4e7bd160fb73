using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Identity;

/// <summary>A person (or service account) who calls the gateway or administers it.</summary>
public sealed class User
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    /// <summary>Stored lower-cased; unique.</summary>
    public required string Email { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>Decentralised identifier (wallet sign-in), when the user has one.</summary>
    public string? Did { get; set; }

    /// <summary>
    /// The OpenID Connect identity (issuer, subject) this account is linked to. Single sign-on finds accounts by
    /// this pair, never by email: an email is only a hint an identity provider asserts, a subject is its promise.
    /// </summary>
    public string? OidcIssuer { get; set; }

    public string? OidcSubject { get; set; }

    public UserRole Role { get; set; } = UserRole.Member;

    public bool Disabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? LastSeenAt { get; set; }

    /// <summary>ASP.NET Core <c>PasswordHasher</c> output (PBKDF2); null when the user signs in another way.</summary>
    public string? PasswordHash { get; set; }

    public List<AccessKey> AccessKeys { get; } = [];
}

public enum UserRole
{
    Guest = 0,
    Member = 1,
    Admin = 2,
    Owner = 3,
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Email).HasMaxLength(320);
        builder.HasIndex(u => u.Email).IsUnique();
        builder.Property(u => u.DisplayName).HasMaxLength(200);
        builder.Property(u => u.Did).HasMaxLength(200);
        builder.HasIndex(u => u.Did).IsUnique().HasFilter("did IS NOT NULL");
        builder.Property(u => u.OidcIssuer).HasMaxLength(500);
        builder.Property(u => u.OidcSubject).HasMaxLength(255);
        builder.HasIndex(u => new { u.OidcIssuer, u.OidcSubject }).IsUnique().HasFilter("oidc_subject IS NOT NULL");
        builder.Property(u => u.Role).HasConversion<string>().HasMaxLength(16);
        builder.Property(u => u.PasswordHash).HasMaxLength(200);
    }
}
