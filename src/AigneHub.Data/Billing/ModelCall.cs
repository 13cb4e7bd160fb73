using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AigneHub.Data.Billing;

public enum ModelCallStatus
{
    Processing,
    Success,
    Failed,
}

/// <summary>Which front door a call came through (v1: signed component, subscription; v2: user, credits).</summary>
public enum CallSurface
{
    V1,
    V2,
}

/// <summary>
/// One AI request that passed authentication: the single source of truth for usage. Created <c>processing</c>
/// before the provider is called, settled exactly once (guarded by <c>status = 'processing'</c>) by the Api or, after a
/// crash, by the Worker's stale-call cleanup.
/// </summary>
public sealed class ModelCall
{
    public Guid Id { get; set; } = Guid.CreateVersion7();

    public Guid? UserId { get; set; }

    /// <summary>The v1 app, or the <c>x-aigne-hub-client-did</c> of a v2 call; empty when unknown.</summary>
    public string? AppId { get; set; }

    public Guid? AccessKeyId { get; set; }

    public CallSurface Surface { get; set; }

    /// <summary>Provider kind name (<c>openai</c>, ...) that served or last failed the call.</summary>
    public string? Provider { get; set; }

    /// <summary>The provider's model id.</summary>
    public string? Model { get; set; }

    /// <summary>The model name as the caller wrote it.</summary>
    public required string RequestedModel { get; set; }

    public Guid? CredentialId { get; set; }

    public ModelType Type { get; set; }

    public ModelCallStatus Status { get; set; }

    public int PromptTokens { get; set; }

    public int CompletionTokens { get; set; }

    public int CacheCreationTokens { get; set; }

    public int CacheReadTokens { get; set; }

    public int Images { get; set; }

    public string? ImageSize { get; set; }

    public string? ImageQuality { get; set; }

    public decimal? VideoSeconds { get; set; }

    /// <summary>Audio: characters of text spoken (speech).</summary>
    public int Characters { get; set; }

    /// <summary>Audio: seconds of audio heard (transcription, translation), as billed.</summary>
    public decimal? AudioSeconds { get; set; }

    public JsonObject? Parameters { get; set; }

    public decimal Credits { get; set; }

    /// <summary>Worst-case cost held against the balance while processing; released (or settled) exactly once.</summary>
    public decimal ReservedCredits { get; set; }

    /// <summary>Credit billing applied (v2 with billing on): the settlement debits the ledger.</summary>
    public bool Billed { get; set; }

    /// <summary>Usage estimated by the gateway (the provider reported none).</summary>
    public bool Estimated { get; set; }

    public int? DurationMs { get; set; }

    public int? GatewayTtfbMs { get; set; }

    public int? ProviderTtfbMs { get; set; }

    public int Attempts { get; set; }

    public int? StatusCode { get; set; }

    public string? ErrorReason { get; set; }

    public string? RequestId { get; set; }

    public string? TraceId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Renewed by the Api serving the call while it is in flight (its lease); null until the first renewal.
    /// The stale-call cleanup closes a processing call only when this (else <see cref="CreatedAt"/>) is old.</summary>
    public DateTimeOffset? LastActivityAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }
}

internal sealed class ModelCallConfiguration : IEntityTypeConfiguration<ModelCall>
{
    public void Configure(EntityTypeBuilder<ModelCall> builder)
    {
        builder.ToTable("model_calls");
        builder.HasKey(c => c.Id);
        builder.Property(c => c.AppId).HasMaxLength(200);
        builder.Property(c => c.Surface).HasLowerCaseConversion();
        builder.Property(c => c.Provider).HasMaxLength(64);
        builder.Property(c => c.Model).HasMaxLength(200);
        builder.Property(c => c.RequestedModel).HasMaxLength(300);
        builder.Property(c => c.Type).HasLowerCaseConversion();
        builder.Property(c => c.Status).HasLowerCaseConversion();
        builder.Property(c => c.PromptTokens).HasDefaultValue(0);
        builder.Property(c => c.CompletionTokens).HasDefaultValue(0);
        builder.Property(c => c.CacheCreationTokens).HasDefaultValue(0);
        builder.Property(c => c.CacheReadTokens).HasDefaultValue(0);
        builder.Property(c => c.Images).HasDefaultValue(0);
        builder.Property(c => c.ImageSize).HasMaxLength(32);
        builder.Property(c => c.ImageQuality).HasMaxLength(32);
        builder.Property(c => c.VideoSeconds).HasColumnType("numeric(18,3)");
        builder.Property(c => c.Characters).HasDefaultValue(0);
        builder.Property(c => c.AudioSeconds).HasColumnType("numeric(18,3)");
        builder.Property(c => c.Parameters).HasColumnType("jsonb");
        builder.Property(c => c.Credits).HasColumnType(BillingModel.CreditsColumnType).HasDefaultValue(0m);
        builder.Property(c => c.ReservedCredits).HasColumnType(BillingModel.CreditsColumnType).HasDefaultValue(0m);
        builder.Property(c => c.Attempts).HasDefaultValue(0);
        builder.Property(c => c.Estimated).HasDefaultValue(false);
        builder.Property(c => c.ErrorReason).HasMaxLength(2000);
        builder.Property(c => c.RequestId).HasMaxLength(200);
        builder.Property(c => c.TraceId).HasMaxLength(64);
        builder.HasIndex(c => new { c.UserId, c.CreatedAt });
        // The calls still processing, for the stale-call cleanup: a partial index, so a settlement (which ends the
        // call's `processing`) adds no entry to it, and it holds only the calls in flight, not every call ever made.
        builder.HasIndex(c => c.CreatedAt).HasFilter("status = 'processing'").HasDatabaseName("ix_model_calls_processing");
        builder.HasIndex(c => new { c.AppId, c.CreatedAt });
        // Everyone's call log and export, newest first, and the trends' recent part across users.
        builder.HasIndex(c => new { c.CreatedAt, c.Id });
        // The rollups recompute the buckets of calls that closed since their last run (a call may close hours
        // after it was created).
        builder.HasIndex(c => c.CompletedAt);
    }
}
