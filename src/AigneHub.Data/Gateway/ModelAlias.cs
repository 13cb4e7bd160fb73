using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Gateway;

/// <summary>
/// A model name callers send without a provider (<c>claude-sonnet-4-5</c>, <c>gpt-5-codex</c>) and where it goes:
/// <see cref="Name"/> is an exact name or a prefix pattern ending in <c>*</c> (with <c>[0-9]</c>-style character
/// classes, e.g. <c>o[0-9]*</c>); <see cref="Targets"/> are <c>provider/model</c> in order of preference (the rest
/// are failover), where <c>*</c> in a target's model stands for the requested name. The built-in defaults
/// (<c>claude-*</c>, <c>gpt-*</c>, <c>o[0-9]*</c>, <c>gemini-*</c> to their makers) are seeded rows an admin may
/// change or delete.
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

internal sealed class ModelAliasConfiguration : IEntityTypeConfiguration<ModelAlias>
{
    private static readonly DateTimeOffset Seeded = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    public void Configure(EntityTypeBuilder<ModelAlias> builder)
    {
        builder.ToTable("model_aliases");
        builder.HasKey(a => a.Id);
        builder.Property(a => a.Name).HasMaxLength(200);
        builder.HasIndex(a => a.Name).IsUnique();
        builder.HasData(
            Default("0193f000-0000-7000-8000-000000000001", "claude-*", "anthropic/*"),
            Default("0193f000-0000-7000-8000-000000000002", "gpt-*", "openai/*"),
            Default("0193f000-0000-7000-8000-000000000003", "o[0-9]*", "openai/*"),
            Default("0193f000-0000-7000-8000-000000000004", "gemini-*", "google/*"));
    }

    private static ModelAlias Default(string id, string name, string target) => new()
    {
        Id = Guid.Parse(id),
        Name = name,
        Targets = [target],
        CreatedAt = Seeded,
        UpdatedAt = Seeded,
    };
}
