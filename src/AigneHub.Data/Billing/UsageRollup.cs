using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Billing;

public enum RollupGranularity
{
    Hour,
    Day,
}

/// <summary>
/// Usage per hour or day (UTC buckets) per user, app, provider, model and type, recomputed by the Worker from
/// the raw calls; kept after retention drops the raw calls. Missing dimensions are stored as '' / the empty Guid
/// so the key stays a plain primary key.
/// </summary>
public sealed class UsageRollup
{
    /// <summary>How long raw calls are kept unless <c>AigneHub:Usage:RetentionDays</c> says otherwise; the usage
    /// trends serve older ranges from the rollups.</summary>
    public const int DefaultRetentionDays = 90;

    public RollupGranularity Granularity { get; set; }

    public DateTimeOffset BucketStart { get; set; }

    public Guid UserId { get; set; }

    public string AppId { get; set; } = "";

    public string Provider { get; set; } = "";

    public string Model { get; set; } = "";

    public ModelType Type { get; set; }

    public long Calls { get; set; }

    public long Successes { get; set; }

    public long PromptTokens { get; set; }

    public long CompletionTokens { get; set; }

    public long CacheTokens { get; set; }

    public long Images { get; set; }

    public decimal Credits { get; set; }

    public long DurationMsSum { get; set; }

    public double? TtfbP50Ms { get; set; }

    public double? TtfbP95Ms { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class UsageRollupConfiguration : IEntityTypeConfiguration<UsageRollup>
{
    public void Configure(EntityTypeBuilder<UsageRollup> builder)
    {
        builder.ToTable("usage_rollups");
        builder.HasKey(r => new { r.Granularity, r.BucketStart, r.UserId, r.AppId, r.Provider, r.Model, r.Type });
        builder.Property(r => r.Granularity).HasLowerCaseConversion();
        builder.Property(r => r.AppId).HasMaxLength(200);
        builder.Property(r => r.Provider).HasMaxLength(64);
        builder.Property(r => r.Model).HasMaxLength(200);
        builder.Property(r => r.Type).HasLowerCaseConversion();
        builder.Property(r => r.Credits).HasColumnType(BillingModel.CreditsColumnType);
        // The naming convention would write ttfb_p50ms (no break between a digit and a capital); these names predate it.
        builder.Property(r => r.TtfbP50Ms).HasColumnName("ttfb_p50_ms");
        builder.Property(r => r.TtfbP95Ms).HasColumnName("ttfb_p95_ms");
        builder.HasIndex(r => new { r.UserId, r.Granularity, r.BucketStart });
        // When the rollups last ran (max(updated_at)): how far the trends may read them instead of the raw calls.
        builder.HasIndex(r => r.UpdatedAt);
    }
}
