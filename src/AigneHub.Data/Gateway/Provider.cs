using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Gateway;

/// <summary>
/// A configured AI provider. <see cref="Name"/> is one of the provider kinds the Api knows (openai, anthropic, ...);
/// it is stored as text because the kinds live in the Api project, and it is unique: one row per kind.
/// </summary>
public sealed class Provider
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    /// <summary>Lower-case kind name, as in <c>provider/model</c>.</summary>
    public required string Name { get; set; }

    public string? DisplayName { get; set; }

    /// <summary>Overrides the kind's default base URL (self-hosted, proxies, test fakes).</summary>
    public string? BaseUrl { get; set; }

    /// <summary>
    /// The kind's own settings as a JSON object (<c>jsonb</c>): Bedrock's <c>region</c>, Azure OpenAI's
    /// <c>apiVersion</c> and <c>deployments</c>. Validated and read by the Api, which knows the kinds.
    /// </summary>
    public string? Settings { get; set; }

    public bool Enabled { get; set; } = true;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public List<ProviderCredential> Credentials { get; } = [];

    public List<AiModel> Models { get; } = [];
}

internal sealed class ProviderConfiguration : IEntityTypeConfiguration<Provider>
{
    public void Configure(EntityTypeBuilder<Provider> builder)
    {
        builder.ToTable("providers");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Name).HasMaxLength(32);
        builder.HasIndex(p => p.Name).IsUnique();
        builder.Property(p => p.DisplayName).HasMaxLength(200);
        builder.Property(p => p.BaseUrl).HasMaxLength(2048);
        builder.Property(p => p.Settings).HasColumnType("jsonb");
    }
}
