using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace AigneHub.AppHost.Infrastructure;

/// <summary>
/// A PostgreSQL server run as a local process from the OS packages, with the same name and connection-string
/// shape as <c>AddPostgres</c> (<c>Host=…;Port=…;Username=postgres;Password=…</c>), so services cannot tell.
/// </summary>
internal sealed class LocalPostgresServerResource(string name, string command, string dataDirectory, ParameterResource password)
    : ExecutableResource(name, command, dataDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource Password { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public Dictionary<string, string> Databases { get; } = new(StringComparer.Ordinal);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={PostgresProcess.UserName};Password={Password}");
}

internal sealed class LocalPostgresDatabaseResource(string name, string databaseName, LocalPostgresServerResource parent)
    : Resource(name), IResourceWithParent<LocalPostgresServerResource>, IResourceWithConnectionString
{
    public LocalPostgresServerResource Parent { get; } = parent;

    public string DatabaseName { get; } = databaseName;

    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{Parent};Database={DatabaseName}");
}

internal static class LocalPostgresExtensions
{
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, string name, DataRoot dataRoot)
    {
        var binDirectory = PostgresProcess.FindBinDirectory(builder.Configuration["postgres-bin"]);
        var asRoot = DataRoot.RunningAsRoot;
        var dataDirectory = dataRoot.Combine("postgres");
        var password = builder.AddParameter($"{name}-password", dataRoot.ReadOrCreateSecret("postgres.password").Value, secret: true);
        var fsync = builder.Configuration.GetValue("postgres-fsync", true);

        var postgres = Path.Combine(binDirectory, "postgres");
        var server = new LocalPostgresServerResource(name, PostgresProcess.Command(postgres, asRoot), dataDirectory, password.Resource);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) =>
            connectionString = await server.ConnectionStringExpression.GetValueAsync(ct));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (e, ct) =>
            await PostgresProcess.InitializeDataDirectoryAsync(binDirectory, dataDirectory, await password.Resource.GetValueAsync(ct) ?? "", asRoot,
                e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server), ct));

        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (_, ct) =>
        {
            await using var connection = new NpgsqlConnection(connectionString + ";Database=postgres");
            await connection.OpenAsync(ct);
            foreach (var database in server.Databases.Values)
            {
                await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
                exists.Parameters.AddWithValue("name", database);
                if (await exists.ExecuteScalarAsync(ct) is null)
                {
                    await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"")}\"", connection);
                    await create.ExecuteNonQueryAsync(ct);
                }
            }
        });

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => (connectionString ?? throw new InvalidOperationException("Connection string is unavailable")) + ";Database=postgres",
            name: healthCheckKey);

        return builder.AddResource(server)
            .WithEndpoint(name: LocalPostgresServerResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var arg in PostgresProcess.ServerArguments(postgres, dataDirectory, server.PrimaryEndpoint.Property(EndpointProperty.TargetPort), fsync, asRoot))
                {
                    context.Args.Add(arg);
                }
            })
            .WithIconName("DatabaseMultiple")
            .WithHealthCheck(healthCheckKey);
    }

    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresServerResource> server, string name, string? databaseName = null)
    {
        var builder = server.ApplicationBuilder;
        var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, server.Resource);
        server.Resource.Databases[name] = database.DatabaseName;

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, ct) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(ct));

        // The orchestrator copies a parent's state onto its children only for container parents; for a process
        // parent we mirror it, or the database never leaves "Starting" and WaitFor(database) hangs.
        builder.Eventing.Subscribe<InitializeResourceEvent>(database, (e, ct) =>
        {
            var stopping = e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            _ = MirrorParentStateAsync(e.Notifications, database, server.Resource, stopping);
            return Task.CompletedTask;
        });

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"),
            name: healthCheckKey);

        return builder.AddResource(database)
            .WithHealthCheck(healthCheckKey);
    }

    private static async Task MirrorParentStateAsync(ResourceNotificationService notifications, IResource child, IResource parent, CancellationToken ct)
    {
        try
        {
            await foreach (var update in notifications.WatchAsync(ct))
            {
                if (!ReferenceEquals(update.Resource, parent))
                {
                    continue;
                }
                await notifications.PublishUpdateAsync(child, s => s with
                {
                    State = update.Snapshot.State,
                    StartTimeStamp = update.Snapshot.StartTimeStamp,
                    StopTimeStamp = update.Snapshot.StopTimeStamp,
                });
            }
        }
        catch (OperationCanceledException)
        {
            // the AppHost is stopping
        }
    }
}
