using AigneHub.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace AigneHub.Api.Infrastructure;

/// <summary>Set once the schema is migrated and the start-up seeding is done.</summary>
public sealed class DatabaseMigrationState
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompleted;

    public Task WhenReady => _ready.Task;

    internal void MarkReady() => _ready.TrySetResult();
}

/// <summary>
/// The one owner of migrations. Applies them at start (retrying until Postgres answers; EF Core takes a database
/// lock, so several Api replicas can start together), then runs the start-up seeders. Until then the Api's
/// <c>/health</c> is Degraded (503), so the AppHost's <c>WaitFor(api)</c> holds the Worker and Admin back.
/// </summary>
internal sealed partial class DatabaseMigrator(
    IServiceScopeFactory scopes,
    DatabaseMigrationState state,
    IEnumerable<IStartupSeeder> seeders,
    TimeProvider time,
    ILogger<DatabaseMigrator> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
                // EF Core reads the history table before it creates it, so a fresh database logs a failed command
                // (an error, a red badge on the dashboard) on a healthy first start. EF's own script creates it first.
                if (!await HistoryTableExistsAsync(db, stoppingToken))
                {
                    await db.Database.ExecuteSqlRawAsync(db.GetService<IHistoryRepository>().GetCreateIfNotExistsScript(), stoppingToken);
                }
                await db.Database.MigrateAsync(stoppingToken);
                foreach (var seeder in seeders)
                {
                    await seeder.SeedAsync(db, stoppingToken);
                }
                state.MarkReady();
                Log.Migrated(logger, attempt);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.MigrationFailed(logger, ex, attempt);
                await Task.Delay(RetryDelay, time, stoppingToken);
            }
        }
    }

    /// <summary>Asks the catalogue (to_regclass is null for a missing table), so nothing fails to find out.</summary>
    private static async Task<bool> HistoryTableExistsAsync(AigneHubDbContext db, CancellationToken cancellationToken)
    {
        var table = $"{AigneHubDbContext.Schema}.\"{HistoryRepository.DefaultTableName}\"";
        return await db.Database.SqlQuery<bool>($"SELECT to_regclass({table}) IS NOT NULL AS \"Value\"").SingleAsync(cancellationToken);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Database schema is up to date (attempt {Attempt}).")]
        public static partial void Migrated(ILogger logger, int attempt);

        [LoggerMessage(2, LogLevel.Warning, "Applying database migrations failed (attempt {Attempt}); retrying.")]
        public static partial void MigrationFailed(ILogger logger, Exception exception, int attempt);
    }
}

/// <summary>Idempotent data the Api ensures after every migration (e.g. the bootstrap owner).</summary>
public interface IStartupSeeder
{
    Task SeedAsync(AigneHubDbContext db, CancellationToken cancellationToken);
}

internal sealed class DatabaseMigrationHealthCheck(DatabaseMigrationState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(state.IsReady
            ? HealthCheckResult.Healthy("Schema migrated.")
            : HealthCheckResult.Degraded("Applying database migrations."));
}
