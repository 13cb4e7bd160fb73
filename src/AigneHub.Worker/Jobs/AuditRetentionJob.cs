using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>Configuration <c>AigneHub:Audit</c>.</summary>
public sealed class AuditRetentionOptions
{
    public const string Section = "AigneHub:Audit";

    /// <summary>Audit entries older than this are deleted. A year covers the usual review and incident windows.</summary>
    public int RetentionDays { get; set; } = 365;
}

internal sealed class ValidateAuditRetentionOptions : IValidateOptions<AuditRetentionOptions>
{
    public ValidateOptionsResult Validate(string? name, AuditRetentionOptions options) =>
        options.RetentionDays is >= 1 and <= 36_500
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{AuditRetentionOptions.Section}:RetentionDays must be between 1 and 36500.");
}

/// <summary>
/// Deletes audit entries older than <c>AigneHub:Audit:RetentionDays</c> in batches — the only deletion the audit log
/// ever sees (it is otherwise append-only).
/// </summary>
public sealed partial class AuditRetentionJob(
    NpgsqlDataSource database,
    IOptions<AuditRetentionOptions> options,
    IOptions<BillingJobOptions> jobs,
    TimeProvider time,
    ILogger<AuditRetentionJob> logger) : PeriodicJob(time, logger)
{
    private const int BatchSize = 5000;

    protected override TimeSpan Period => TimeSpan.FromSeconds(jobs.Value.RetentionIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = Time.GetUtcNow().AddDays(-options.Value.RetentionDays);
        var total = 0;
        int deleted;
        do
        {
            await using var command = database.CreateCommand(
                "DELETE FROM aignehub.audit_events WHERE id IN (SELECT id FROM aignehub.audit_events WHERE occurred_at < @cutoff ORDER BY id LIMIT @batch)");
            command.Parameters.Add(new NpgsqlParameter("cutoff", cutoff));
            command.Parameters.Add(new NpgsqlParameter("batch", BatchSize));
            deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            total += deleted;
        }
        while (deleted == BatchSize);
        if (total > 0)
        {
            Log.Deleted(logger, total, options.Value.RetentionDays);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Deleted {Count} audit entr(ies) older than {Days} days.")]
        public static partial void Deleted(ILogger logger, int count, int days);
    }
}
