using AigneHub.Data;
using AigneHub.Tests.Infrastructure;
using AigneHub.Tests.Worker;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure.Internal;

namespace AigneHub.Tests.Data;

/// <summary>Each service has one bounded connection pool, the Aspire-registered data source, used by EF Core and by
/// the raw SQL alike.</summary>
public sealed class DataSourceTests
{
    [Fact]
    public async Task The_Api_has_one_data_source_bounded_at_40_connections_and_its_DbContext_runs_on_it()
    {
        var servers = await TestServers.GetAsync();
        // A pool size in the connection string is replaced by the service's own bound.
        var database = await servers.CreateDatabaseAsync("pool") + ";Maximum Pool Size=3";
        await using var api = await ApiFactory.StartAsync(database);

        var dataSource = Assert.Single(api.Services.GetServices<NpgsqlDataSource>());
        var settings = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        Assert.Equal(40, settings.MaxPoolSize);
        Assert.True(settings.MaxAutoPrepare > 0, "the billing statements are prepared automatically");
        Assert.True(settings.NoResetOnClose, "a returned connection is not reset (no code keeps session state)");

        await using var scope = api.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        // The provider's options are the one place that says which data source EF Core opens its connections from.
#pragma warning disable EF1001
        Assert.Same(dataSource, db.GetService<IDbContextOptions>().FindExtension<NpgsqlOptionsExtension>()!.DataSource);
#pragma warning restore EF1001
    }

    /// <summary>
    /// Connections go back to the pool without Npgsql's session reset (DatabaseExtensions), which is right only while
    /// no statement leaves state on its session for the next user of the connection. Any that would is named here.
    /// </summary>
    [Fact]
    public void No_statement_leaves_session_state_on_a_pooled_connection()
    {
        var sessionState = new System.Text.RegularExpressions.Regex(
            @"pg_(try_)?advisory_lock(_shared)?\s*\(|\bLISTEN\s|CREATE\s+(TEMP|TEMPORARY)\b|set_config\s*\([^)]*,\s*false\s*\)|""\s*SET\s+(?!LOCAL\b)(SESSION\s+)?[a-z_]+\s*(=|TO\b)",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase);
        var offenders = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: f, Line: i + 1, Text: line)))
            .Where(l => !l.Text.TrimStart().StartsWith("//", StringComparison.Ordinal) && sessionState.IsMatch(l.Text))
            .Select(l => $"{Path.GetRelativePath(RepositoryPaths.Root, l.File)}:{l.Line}: {l.Text.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, "session state on a pooled connection: " + string.Join("; ", offenders));
    }

    [Fact]
    public async Task The_Worker_pool_defaults_to_10_connections_and_EF_Core_reuses_the_connection_raw_SQL_returned()
    {
        var servers = await TestServers.GetAsync();
        var database = await servers.CreateDatabaseAsync("pool");
        await using var worker = new WorkerJobHost(database, new FakeTimeProvider());
        var dataSource = Assert.Single(worker.Services.GetServices<NpgsqlDataSource>());
        Assert.Equal(10, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxPoolSize);

        // Nothing else runs in this host (its jobs are not started), so the pool's only idle connection is the one raw
        // SQL just returned: EF Core gets that very server process only if it draws from the same pool.
        int rawBackend;
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            rawBackend = await BackendPidAsync(connection);
        }
        await using var scope = worker.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        await db.Database.OpenConnectionAsync();
        Assert.Equal(rawBackend, await BackendPidAsync((NpgsqlConnection)db.Database.GetDbConnection()));
    }

    [Fact]
    public async Task The_pool_bound_is_configurable_and_a_bad_value_stops_the_start_naming_its_key()
    {
        var servers = await TestServers.GetAsync();
        var database = await servers.CreateDatabaseAsync("pool");
        await using (var worker = new WorkerJobHost(database, new FakeTimeProvider(), new() { [DatabaseExtensions.MaxPoolSizeKey] = "7" }))
        {
            var dataSource = worker.Services.GetRequiredService<NpgsqlDataSource>();
            Assert.Equal(7, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxPoolSize);
        }

        foreach (var bad in new[] { "0", "-1", "ten", "1001" })
        {
            var error = Assert.Throws<InvalidOperationException>(() =>
                new WorkerJobHost(database, new FakeTimeProvider(), new() { ["AigneHub:Database:MaxPoolSize"] = bad }));
            Assert.Contains("AigneHub:Database:MaxPoolSize", error.Message);
            Assert.Contains($"'{bad}'", error.Message);
        }
    }

    private static async Task<int> BackendPidAsync(NpgsqlConnection connection)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        return (int)(await cmd.ExecuteScalarAsync())!;
    }
}
