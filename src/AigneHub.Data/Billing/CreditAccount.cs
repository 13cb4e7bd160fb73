using AigneHub.Data.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Billing;

/// <summary>
/// A user's credits. <see cref="Balance"/> moves only with ledger entries (grants, debits, expiries);
/// <see cref="Reserved"/> is the sum of the worst-case costs of the user's calls still processing. Available =
/// balance − reserved, and a call is served only if its reservation fits (one guarded UPDATE).
/// </summary>
public sealed class CreditAccount
{
    public Guid UserId { get; set; }

    public decimal Balance { get; set; }

    public decimal Reserved { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum GrantCategory
{
    Paid,
    Promotional,
}

/// <summary>Credits added to an account: bought (paid) or given (promotional, e.g. the welcome credits).</summary>
public sealed class CreditGrant
{
    public const string WelcomeSource = "welcome";
    public const string AdminSource = "admin";

    public Guid Id { get; set; } = Guid.CreateVersion7();

    public Guid UserId { get; set; }

    public decimal Amount { get; set; }

    /// <summary>Not yet consumed or expired. Debits consume grants in order (soonest-expiring first, promotional
    /// before paid at equal expiry, then oldest) in the settlement statement; expiry zeroes it.</summary>
    public decimal Remaining { get; set; }

    public GrantCategory Category { get; set; }

    /// <summary><c>welcome</c> (at most one per user, enforced by a unique index) or <c>admin</c>.</summary>
    public required string Source { get; set; }

    public string? Note { get; set; }

    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>When the Worker expired the grant (its unused remainder left the balance as an <c>expiry</c> ledger
    /// entry). Set once: the expiry statement only takes grants where it is null.</summary>
    public DateTimeOffset? ExpiredAt { get; set; }

    public Guid? CreatedBy { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

public enum LedgerKind
{
    Grant,
    Debit,
    Expiry,
    Adjustment,
}

/// <summary>
/// An immutable movement of a balance: positive for grants, negative for debits and expiries. A debit carries its
/// model call id, unique, so the database itself refuses a second debit of one call.
/// </summary>
public sealed class CreditLedgerEntry
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public Guid UserId { get; set; }

    public decimal Amount { get; set; }

    public LedgerKind Kind { get; set; }

    public Guid? ModelCallId { get; set; }

    public Guid? GrantId { get; set; }

    public string? Description { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class CreditAccountConfiguration : IEntityTypeConfiguration<CreditAccount>
{
    public void Configure(EntityTypeBuilder<CreditAccount> builder)
    {
        builder.ToTable("credit_accounts");
        builder.HasKey(a => a.UserId);
        builder.Property(a => a.Balance).HasColumnType(BillingModel.CreditsColumnType);
        builder.Property(a => a.Reserved).HasColumnType(BillingModel.CreditsColumnType);
        builder.HasOne<User>().WithOne().HasForeignKey<CreditAccount>(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CreditGrantConfiguration : IEntityTypeConfiguration<CreditGrant>
{
    public void Configure(EntityTypeBuilder<CreditGrant> builder)
    {
        builder.ToTable("credit_grants");
        builder.HasKey(g => g.Id);
        builder.Property(g => g.Amount).HasColumnType(BillingModel.CreditsColumnType);
        builder.Property(g => g.Remaining).HasColumnType(BillingModel.CreditsColumnType);
        builder.Property(g => g.Category).HasLowerCaseConversion();
        builder.Property(g => g.Source).HasMaxLength(32);
        builder.Property(g => g.Note).HasMaxLength(500);
        builder.HasIndex(g => new { g.UserId, g.CreatedAt });
        // Welcome credits are granted once per user, whatever races: the database refuses a second one.
        builder.HasIndex(g => g.UserId).IsUnique().HasFilter("source = 'welcome'").HasDatabaseName("ux_credit_grants_welcome");
        // The expiry job's scan: grants past their expiry that have not been expired yet.
        builder.HasIndex(g => g.ExpiresAt).HasFilter("expired_at IS NULL AND expires_at IS NOT NULL").HasDatabaseName("ix_credit_grants_due");
        builder.HasOne<CreditAccount>().WithMany().HasForeignKey(g => g.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class CreditLedgerEntryConfiguration : IEntityTypeConfiguration<CreditLedgerEntry>
{
    public void Configure(EntityTypeBuilder<CreditLedgerEntry> builder)
    {
        builder.ToTable("credit_ledger");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Amount).HasColumnType(BillingModel.CreditsColumnType);
        builder.Property(e => e.Kind).HasLowerCaseConversion();
        builder.Property(e => e.Description).HasMaxLength(500);
        builder.HasIndex(e => new { e.UserId, e.CreatedAt });
        builder.HasIndex(e => e.ModelCallId).IsUnique();
        // A grant expires once: the database refuses a second expiry entry for it, whatever replays or races.
        builder.HasIndex(e => e.GrantId).IsUnique().HasFilter("kind = 'expiry'").HasDatabaseName("ux_credit_ledger_expiry");
    }
}
