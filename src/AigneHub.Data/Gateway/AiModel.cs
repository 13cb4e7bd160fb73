using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Gateway;

/// <summary>
/// An entry of the model catalogue: a provider serves <see cref="Model"/> (its own id) for <see cref="Type"/>.
/// Unprefixed model names resolve through it, in catalogue order (creation order) across providers.
/// </summary>
public sealed class AiModel
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public Guid ProviderId { get; set; }

    public Provider? Provider { get; set; }

    public required string Model { get; set; }

    public ModelType Type { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>A JSON object (context window, features, ...), stored as <c>jsonb</c> and passed through as text.</summary>
    public string? Metadata { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class AiModelConfiguration : IEntityTypeConfiguration<AiModel>
{
    public void Configure(EntityTypeBuilder<AiModel> builder)
    {
        builder.ToTable("ai_models");
        builder.HasKey(m => m.Id);
        builder.Property(m => m.Model).HasMaxLength(200);
        builder.Property(m => m.Type).HasConversion<string>().HasMaxLength(16);
        builder.Property(m => m.DisplayName).HasMaxLength(200);
        builder.Property(m => m.Metadata).HasColumnType("jsonb");
        builder.HasIndex(m => new { m.ProviderId, m.Model, m.Type }).IsUnique();
        builder.HasIndex(m => new { m.Model, m.Type });
        builder.HasOne(m => m.Provider).WithMany(p => p.Models).HasForeignKey(m => m.ProviderId).OnDelete(DeleteBehavior.Cascade);
    }
}
