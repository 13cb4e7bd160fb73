using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Identity;

/// <summary>
/// A trusted software component calling v1 (server to server). It signs every request with the Ed25519 key whose
/// public half is stored here; it is billed by subscription, not per-call credits.
/// </summary>
public sealed class App
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public required string Name { get; set; }

    /// <summary>The raw 32-byte Ed25519 public key.</summary>
    public required byte[] PublicKey { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public AppSubscription? Subscription { get; set; }
}

/// <summary>The app's subscription as the billing side reports it; v1 calls are served only while it is current.</summary>
public sealed class AppSubscription
{
    public Guid AppId { get; set; }

    public SubscriptionStatus Status { get; set; }

    public DateTimeOffset CurrentPeriodEnd { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum SubscriptionStatus
{
    Active = 0,
    Trialing = 1,
    PastDue = 2,
    Canceled = 3,
}

internal sealed class AppConfiguration : IEntityTypeConfiguration<App>
{
    public void Configure(EntityTypeBuilder<App> builder)
    {
        builder.ToTable("apps");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Name).HasMaxLength(200);
        builder.Property(a => a.PublicKey).HasMaxLength(32);
        builder.HasIndex(a => a.PublicKey).IsUnique();
        builder.HasOne(a => a.Subscription).WithOne().HasForeignKey<AppSubscription>(s => s.AppId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AppSubscriptionConfiguration : IEntityTypeConfiguration<AppSubscription>
{
    public void Configure(EntityTypeBuilder<AppSubscription> builder)
    {
        builder.ToTable("app_subscriptions");
        builder.HasKey(s => s.AppId);
        builder.Property(s => s.Status).HasConversion<string>().HasMaxLength(16);
    }
}
