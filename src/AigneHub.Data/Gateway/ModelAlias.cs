using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Gateway;

/// <summary>
/// A model name callers send without a provider (<c>claude-sonnet-4-5</c>, <c>gpt-5-codex</c>) and where it goes:
/// <see cref="Name"/> is an exact name or a prefix pattern ending in <c>*</c> (with <c>[0-9]</c>-style character
/// classes, e.g. <c>o[0-9]*</c>); <see cref="Targets"/> are <c>provider/model</c> in order of preference (the rest
/// are failover), where <c>*</c> in a target's model stands for the requested name. The built-in defaults
/// (<c>claude-*</c>, <c>gpt-*</c>, <c>o[0-9]*</c>, <c>gemini-*</c> to their makers) are rows the migration inserts,
/// which an admin may change or delete.
/// </summary>
public sealed class ModelAlias
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public required string Name { get; set; }

    public List<string> Targets { get; set; } = [];

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

/// <remarks>The built-in defaults are inserted by the migration that creates the table (not model seed data, whose
/// list-valued column EF Core would see as changed on every build).</remarks>
internal sealed class ModelAliasConfiguration : IEntityTypeConfiguration<ModelAlias>
{
    public void Configure(EntityTypeBuilder<ModelAlias> builder)
    {
        builder.ToTable("model_aliases");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Name).HasMaxLength(200);
        builder.HasIndex(a => a.Name).IsUnique();
    }
}
