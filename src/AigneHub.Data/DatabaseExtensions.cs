using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AigneHub.Data;

public static class DatabaseExtensions
{
    /// <summary>Connection string name of the database, as the AppHost names it.</summary>
    public const string ConnectionName = "aignehub";

    /// <summary>
    /// The most connections one process holds to Postgres. It replaces any <c>Maximum Pool Size</c> of the connection
    /// string, so that each service has one knob whose default is sized for it (see
    /// docs/designs/local-infrastructure.md for the budget against <c>max_connections</c>).
    /// </summary>
    public const string MaxPoolSizeKey = "AigneHub:Database:MaxPoolSize";

    /// <summary>
    /// The one connection pool of the process: the Aspire-registered <see cref="NpgsqlDataSource"/> (health check,
    /// tracing, metrics), bounded by <see cref="MaxPoolSizeKey"/> (default <paramref name="defaultMaxPoolSize"/>),
    /// shared by raw SQL (inject <see cref="NpgsqlDataSource"/>) and by the pooled <see cref="AigneHubDbContext"/>,
    /// which the Aspire EF integration enriches with retries and telemetry. Configured identically in every service.
    /// </summary>
    public static IHostApplicationBuilder AddAigneHubDatabase(this IHostApplicationBuilder builder, int defaultMaxPoolSize)
    {
        var maxPoolSize = ReadMaxPoolSize(builder.Configuration, defaultMaxPoolSize);
        builder.AddNpgsqlDataSource(ConnectionName, configureDataSourceBuilder: dataSource =>
        {
            var settings = dataSource.ConnectionStringBuilder;
            settings.MaxPoolSize = maxPoolSize;
            // The handful of billing statements run on every call: let Npgsql prepare them once per connection.
            settings.MaxAutoPrepare = Math.Max(settings.MaxAutoPrepare, 32);
            settings.AutoPrepareMinUsages = 2;
            // No session reset when a connection goes back to the pool. The reset (SET SESSION AUTHORIZATION DEFAULT;
            // RESET ALL; UNLISTEN *; pg_advisory_unlock_all(); DISCARD SEQUENCES; DISCARD TEMP) is executed before the
            // next statement on that connection: twice per call (its start and its settlement), ~28 µs of Postgres
            // each (bench/README.md). Nothing here keeps session state: no SET outside a transaction, no LISTEN, no
            // temporary tables, advisory locks only transaction-scoped (pg_advisory_xact_lock), and Npgsql still
            // rolls back a transaction left open. DataSourceTests names any statement that would keep some.
            settings.NoResetOnClose = true;
            dataSource.EnableDynamicJson();
        });
        builder.Services.AddDbContextPool<AigneHubDbContext>((services, options) =>
            ConfigureContext(options, services.GetRequiredService<NpgsqlDataSource>()));
        // The data source's health check already probes the same server through the same pool. Retries are ours
        // (ConfigureContext), not Aspire's default of six over up to a minute.
        builder.EnrichNpgsqlDbContext<AigneHubDbContext>(settings =>
        {
            settings.DisableHealthChecks = true;
            settings.DisableRetry = true;
        });
        return builder;
    }

    /// <summary>The context's options, the same at run time and at design time (migrations are generated from them):
    /// snake_case names throughout (but for EF Core's own history table, see <see cref="MigrationsHistory"/>), and
    /// everything in the schema's own schema, the migrations history included.</summary>
    /// <remarks>
    /// Transient failures (a dropped connection, a failover, no pooled connection within the pool's <c>Timeout</c>)
    /// are retried <see cref="MaxRetries"/> times at most <see cref="MaxRetryDelay"/> apart: enough for a blip, short
    /// enough that a request in a burst or an outage is answered 503 with Retry-After within seconds rather than held
    /// for a minute (Aspire's default, six retries up to 30 s apart, held requests 40 s and more in the burst drill).
    /// </remarks>
    internal static void ConfigureContext(DbContextOptionsBuilder options, NpgsqlDataSource dataSource) =>
        options.UseNpgsql(dataSource, npgsql => npgsql
                .MigrationsHistoryTable("__EFMigrationsHistory", AigneHubDbContext.Schema)
                .EnableRetryOnFailure(MaxRetries, MaxRetryDelay, errorCodesToAdd: null))
            .UseSnakeCaseNamingConvention()
            // Migrate's own "model changed without a migration" check builds a second, design-time model, the
            // snapshot's model and a diff of the two at every start: ~3 MiB of the Api's idle RSS (bench/README.md).
            // The same check runs in the tests instead (MigrationsTests), where a missing migration fails the build.
            .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning))
            .ReplaceService<IHistoryRepository, MigrationsHistory>();

    internal const int MaxRetries = 2;

    internal static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    private static int ReadMaxPoolSize(IConfiguration configuration, int defaultMaxPoolSize)
    {
        var text = configuration[MaxPoolSizeKey];
        if (string.IsNullOrEmpty(text))
        {
            return defaultMaxPoolSize;
        }
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= 1000
            ? size
            : throw new InvalidOperationException($"{MaxPoolSizeKey} must be a whole number from 1 to 1000 (got '{text}').");
    }
}
