using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Gateway;

public enum CredentialStatus
{
    Active,
    /// <summary>Refused by the provider; the background re-check re-activates it once it works.</summary>
    Inactive,
    /// <summary>The provider's base URL changed: never used, tested or re-checked until its value is entered again.</summary>
    Disabled,
}

/// <summary>
/// One API key of a provider. The secret is stored only as authenticated ciphertext (<see cref="EncryptedValue"/>,
/// see the Api's <c>CredentialProtector</c>); <see cref="MaskedValue"/> is what lists show.
/// </summary>
public sealed class ProviderCredential
{
    public const int MinWeight = 1;
    public const int MaxWeight = 1000;
    public const int DefaultWeight = 100;

    public Guid Id { get; set; } = Guid.CreateVersion7();

    public Guid ProviderId { get; set; }

    public Provider? Provider { get; set; }

    public string? Name { get; set; }

    /// <summary>Versioned AES-256-GCM ciphertext bound to <see cref="Id"/>; never the plaintext.</summary>
    public required byte[] EncryptedValue { get; set; }

    public required string MaskedValue { get; set; }

    /// <summary>Share of calls in the smooth weighted round-robin, 1..1000.</summary>
    public int Weight { get; set; } = DefaultWeight;

    public CredentialStatus Status { get; set; } = CredentialStatus.Active;

    public string? LastError { get; set; }

    public DateTimeOffset? LastErrorAt { get; set; }

    /// <summary>Written at most once a minute per credential, never per call.</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    /// <summary>An inactive credential's next background re-check.</summary>
    public DateTimeOffset? NextCheckAt { get; set; }

    /// <summary>Re-checks that failed since it was deactivated: the exponent of the back-off.</summary>
    public int FailedChecks { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class ProviderCredentialConfiguration : IEntityTypeConfiguration<ProviderCredential>
{
    public void Configure(EntityTypeBuilder<ProviderCredential> builder)
    {
        builder.ToTable("provider_credentials", t => t.HasCheckConstraint("ck_provider_credentials_weight",
            $"weight BETWEEN {ProviderCredential.MinWeight} AND {ProviderCredential.MaxWeight}"));
        builder.HasKey(c => c.Id);
        builder.Property(c => c.Name).HasMaxLength(200);
        builder.Property(c => c.MaskedValue).HasMaxLength(16);
        builder.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.LastError).HasMaxLength(1000);
        builder.HasIndex(c => c.ProviderId);
        // The re-check worker's query: inactive credentials that are due.
        builder.HasIndex(c => c.NextCheckAt).HasFilter("next_check_at IS NOT NULL");
        builder.HasOne(c => c.Provider).WithMany(p => p.Credentials).HasForeignKey(c => c.ProviderId).OnDelete(DeleteBehavior.Cascade);
    }
}
