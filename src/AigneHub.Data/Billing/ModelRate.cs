using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Billing;

/// <summary>
/// What a provider+model+type costs in credits: per token (chat, embedding), per image (output rate of image
/// models), per second (video), or per input character and per second of audio (audio). Cache rates fall back to
/// the input rate when absent.
/// </summary>
public sealed class ModelRate
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public required string Provider { get; set; }

    public required string Model { get; set; }

    public ModelType Type { get; set; }

    public decimal InputRate { get; set; }

    public decimal OutputRate { get; set; }

    public decimal? CacheWriteRate { get; set; }

    public decimal? CacheReadRate { get; set; }

    /// <summary>Audio: credits per character of text spoken (speech).</summary>
    public decimal? CharacterRate { get; set; }

    /// <summary>Audio: credits per second of audio heard (transcription, translation).</summary>
    public decimal? SecondRate { get; set; }

    /// <summary>Image: prices per image by size and/or quality; an image matching no entry costs <see cref="OutputRate"/>.</summary>
    public IReadOnlyList<ImagePrice>? ImagePrices { get; set; }

    /// <summary>The provider's own price <c>{"input": "...", "output": "..."}</c> (decimal strings), for margins.</summary>
    public JsonObject? UnitCosts { get; set; }

    /// <summary>Context window, features, ... as the admin describes them.</summary>
    public JsonObject? Metadata { get; set; }

    public bool Deprecated { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public enum RateChange
{
    Created,
    Updated,
    Deleted,
}

/// <summary>Every change of a rate, with the values after the change (for a delete, the values deleted).</summary>
public sealed class ModelRateHistory
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public Guid RateId { get; set; }

    public RateChange Change { get; set; }

    public required string Provider { get; set; }

    public required string Model { get; set; }

    public ModelType Type { get; set; }

    public decimal InputRate { get; set; }

    public decimal OutputRate { get; set; }

    public decimal? CacheWriteRate { get; set; }

    public decimal? CacheReadRate { get; set; }

    public decimal? CharacterRate { get; set; }

    public decimal? SecondRate { get; set; }

    public IReadOnlyList<ImagePrice>? ImagePrices { get; set; }

    public JsonObject? UnitCosts { get; set; }

    public JsonObject? Metadata { get; set; }

    public bool Deprecated { get; set; }

    public Guid? ChangedBy { get; set; }

    public DateTimeOffset ChangedAt { get; set; }

    public static ModelRateHistory Of(ModelRate rate, RateChange change, Guid? changedBy, DateTimeOffset at) => new()
    {
        RateId = rate.Id,
        Change = change,
        Provider = rate.Provider,
        Model = rate.Model,
        Type = rate.Type,
        InputRate = rate.InputRate,
        OutputRate = rate.OutputRate,
        CacheWriteRate = rate.CacheWriteRate,
        CacheReadRate = rate.CacheReadRate,
        CharacterRate = rate.CharacterRate,
        SecondRate = rate.SecondRate,
        ImagePrices = rate.ImagePrices,
        UnitCosts = rate.UnitCosts?.DeepClone().AsObject(),
        Metadata = rate.Metadata?.DeepClone().AsObject(),
        Deprecated = rate.Deprecated,
        ChangedBy = changedBy,
        ChangedAt = at,
    };
}

internal sealed class ModelRateConfiguration : IEntityTypeConfiguration<ModelRate>
{
    public void Configure(EntityTypeBuilder<ModelRate> builder)
    {
        builder.ToTable("model_rates");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Provider).HasMaxLength(64);
        builder.Property(r => r.Model).HasMaxLength(200);
        builder.Property(r => r.Type).HasLowerCaseConversion();
        builder.Property(r => r.InputRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.OutputRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.CacheWriteRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.CacheReadRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.CharacterRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.SecondRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.ImagePrices).HasConversion(ImagePriceColumn.Converter, ImagePriceColumn.Comparer).HasColumnType("jsonb");
        builder.Property(r => r.UnitCosts).HasColumnType("jsonb");
        builder.Property(r => r.Metadata).HasColumnType("jsonb");
        builder.HasIndex(r => new { r.Provider, r.Model, r.Type }).IsUnique();
    }
}

internal sealed class ModelRateHistoryConfiguration : IEntityTypeConfiguration<ModelRateHistory>
{
    public void Configure(EntityTypeBuilder<ModelRateHistory> builder)
    {
        builder.ToTable("model_rate_history");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Change).HasLowerCaseConversion();
        builder.Property(r => r.Provider).HasMaxLength(64);
        builder.Property(r => r.Model).HasMaxLength(200);
        builder.Property(r => r.Type).HasLowerCaseConversion();
        builder.Property(r => r.InputRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.OutputRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.CacheWriteRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.CacheReadRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.CharacterRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.SecondRate).HasColumnType(BillingModel.RateColumnType);
        builder.Property(r => r.ImagePrices).HasConversion(ImagePriceColumn.Converter, ImagePriceColumn.Comparer).HasColumnType("jsonb");
        builder.Property(r => r.UnitCosts).HasColumnType("jsonb");
        builder.Property(r => r.Metadata).HasColumnType("jsonb");
        builder.HasIndex(r => new { r.RateId, r.ChangedAt });
    }
}
