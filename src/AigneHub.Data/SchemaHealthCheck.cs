using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AigneHub.Data;

/// <summary>
/// For services that use the schema but do not own it (the Worker): Degraded until the Api has applied every
/// migration this build knows. Once current, it stays current for the life of the process, so it stops asking.
/// </summary>
public sealed class SchemaHealthCheck(AigneHubDbContext db) : IHealthCheck
{
    private static volatile bool _isCurrent;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_isCurrent)
        {
            return HealthCheckResult.Healthy("Schema is current.");
        }
        List<string> pending;
        try
        {
            pending = [.. await db.Database.GetPendingMigrationsAsync(cancellationToken)];
        }
        catch (Exception ex) when (ex is OperationCanceledException or Npgsql.NpgsqlException)
        {
            // The first probe of a fresh start can outrun Postgres (or EF building its model) and be cancelled by
            // the probe's timeout: that is "not ready yet", not a failure — no exception, no error in the logs.
            return HealthCheckResult.Degraded("Waiting for Postgres to answer the schema check.");
        }
        if (pending.Count > 0)
        {
            return HealthCheckResult.Degraded($"Waiting for the Api to apply {pending.Count} migration(s).");
        }
        _isCurrent = true;
        return HealthCheckResult.Healthy("Schema is current.");
    }
}
