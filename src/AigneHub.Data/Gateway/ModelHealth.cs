using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Gateway;

/// <summary>
/// Last known availability of a provider's model. Written only when <see cref="Available"/> flips or the error
/// class changes, never per call; <see cref="CheckedAt"/> and <see cref="ResponseTimeMs"/> are those of that call.
/// </summary>
public sealed class ModelHealth
{
    public required string ProviderName { get; set; }

    public required string Model { get; set; }

    public ModelType Type { get; set; }

    public bool Available { get; set; }

    /// <summary>The provider error class (InvalidCredential, RateLimited, ...), null when available.</summary>
    public string? ErrorClass { get; set; }

    public string? LastError { get; set; }

    public int ResponseTimeMs { get; set; }

    public DateTimeOffset ChangedAt { get; set; }

    public DateTimeOffset CheckedAt { get; set; }
}

internal sealed class ModelHealthConfiguration : IEntityTypeConfiguration<ModelHealth>
{
    public void Configure(EntityTypeBuilder<ModelHealth> builder)
    {
        builder.ToTable("model_health");
        builder.HasKey(h => new { h.ProviderName, h.Model, h.Type });
        builder.Property(h => h.ProviderName).HasMaxLength(32);
        builder.Property(h => h.Model).HasMaxLength(200);
        builder.Property(h => h.Type).HasConversion<string>().HasMaxLength(16);
        builder.Property(h => h.ErrorClass).HasMaxLength(32);
        builder.Property(h => h.LastError).HasMaxLength(1000);
    }
}
