using AigneHub.Data.Billing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Gateway;

/// <summary>
/// A Responses API answer kept because its caller asked for <c>store</c> (the API's default), so that
/// <c>GET /responses/{id}</c> and <c>previous_response_id</c> work for every provider: the hub rebuilds the
/// conversation from the chain of stored inputs and outputs. It belongs to the call that produced it and goes with
/// that call's record (the foreign key cascades), so it follows the call-log retention with no job of its own.
/// </summary>
public sealed class StoredResponse
{
    /// <summary>The response id the caller saw (<c>resp_…</c>: the hub's, or OpenAI's when passed through).</summary>
    public required string Id { get; set; }

    public Guid CallId { get; set; }

    /// <summary>The only user who may read, chain from or delete it.</summary>
    public Guid UserId { get; set; }

    public string? PreviousResponseId { get; set; }

    /// <summary>This request's own input items (JSON array), without the conversation it continued.</summary>
    public required string Input { get; set; }

    /// <summary>The whole response object (JSON) as the caller received it.</summary>
    public required string Response { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

internal sealed class StoredResponseConfiguration : IEntityTypeConfiguration<StoredResponse>
{
    public void Configure(EntityTypeBuilder<StoredResponse> builder)
    {
        builder.ToTable("stored_responses");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.Id).HasMaxLength(128);
        builder.Property(r => r.PreviousResponseId).HasMaxLength(128);
        // json, not jsonb: the caller's text is kept as sent (member order, and \u0000, which jsonb refuses).
        builder.Property(r => r.Input).HasColumnType("json");
        builder.Property(r => r.Response).HasColumnType("json");
        builder.HasIndex(r => r.CallId);
        builder.HasOne<ModelCall>().WithMany().HasForeignKey(r => r.CallId).OnDelete(DeleteBehavior.Cascade);
    }
}
