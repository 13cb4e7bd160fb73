using System.Diagnostics;
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
    public const string UserName = "postgres";

    public string DataDirectory { get; } = dataDirectory;

    public ParameterResource Password { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public Dictionary<string, string> Databases { get; } = new(StringComparer.Ordinal);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={UserName};Password={Password}");
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
        var binDirectory = PostgresBinaries.Find(builder.Configuration["postgres-bin"]);
        var asRoot = DataRoot.RunningAsRoot;
        var dataDirectory = dataRoot.Combine("postgres");
        var password = builder.AddParameter($"{name}-password", dataRoot.ReadOrCreateSecret("postgres.password").Value, secret: true);
        var fsync = builder.Configuration.GetValue("postgres-fsync", true);

        // Postgres refuses to run as root; as root, drop to the postgres OS user (setpriv execs, so DCP still
        // tracks and stops the server process itself).
        var postgres = Path.Combine(binDirectory, "postgres");
        var server = new LocalPostgresServerResource(name, asRoot ? "setpriv" : postgres, dataDirectory, password.Resource);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, ct) =>
            connectionString = await server.ConnectionStringExpression.GetValueAsync(ct));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (e, ct) =>
            await InitializeDataDirectoryAsync(binDirectory, dataDirectory, await password.Resource.GetValueAsync(ct) ?? "", asRoot,
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
                if (asRoot)
                {
                    context.Args.Add("--reuid=postgres");
                    context.Args.Add("--regid=postgres");
                    context.Args.Add("--init-groups");
                    context.Args.Add("--");
                    context.Args.Add(postgres);
                }
                context.Args.Add("-D");
                context.Args.Add(dataDirectory);
                context.Args.Add("-p");
                context.Args.Add(server.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=localhost");
                // No Unix socket: no clash with a system cluster's /var/run/postgresql.
                context.Args.Add("-c");
                context.Args.Add("unix_socket_directories=");
                context.Args.Add("-c");
                context.Args.Add($"fsync={(fsync ? "on" : "off")}");
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

    private static async Task InitializeDataDirectoryAsync(string binDirectory, string dataDirectory, string password, bool asRoot,
        Microsoft.Extensions.Logging.ILogger logger, CancellationToken ct)
    {
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            return;
        }

        Directory.CreateDirectory(dataDirectory);
        DataRoot.SetUnixMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var passwordFile = Path.Combine(dataDirectory, "..", ".initdb-password");
        await File.WriteAllTextAsync(passwordFile, password, ct);
        try
        {
            if (asRoot)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", dataDirectory], ct);
                await RunAsync("chown", ["postgres:postgres", passwordFile], ct);
            }
            string[] initdb = [Path.Combine(binDirectory, "initdb"), "-D", dataDirectory, "-U", LocalPostgresServerResource.UserName,
                $"--pwfile={passwordFile}", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"];
            Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(logger, "Initialising a new PostgreSQL data folder at {DataDirectory}", dataDirectory);
            await (asRoot
                ? RunAsync("setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", .. initdb], ct)
                : RunAsync(initdb[0], initdb[1..], ct));
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    private static async Task RunAsync(string command, string[] args, CancellationToken ct)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new DistributedApplicationException($"Could not start '{command}'.");
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new DistributedApplicationException(
                $"'{command} {string.Join(' ', args)}' failed with exit code {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}

/// <summary>Finds the PostgreSQL server binaries (Debian keeps them off PATH, under /usr/lib/postgresql/N/bin).</summary>
internal static class PostgresBinaries
{
    public static string Find(string? configured)
    {
        IEnumerable<string> candidates = configured is { Length: > 0 } ? [configured] : Candidates();
        foreach (var dir in candidates)
        {
            if (File.Exists(Path.Combine(dir, "postgres")) && File.Exists(Path.Combine(dir, "initdb")))
            {
                return dir;
            }
        }
        throw new DistributedApplicationException(
            "No container runtime answered and the PostgreSQL server binaries (postgres, initdb) were not found. Either start " +
            "Docker/Podman, or install the servers (Debian/Ubuntu: sudo apt-get install -y postgresql redis-server; ./run.sh does " +
            "this for you), or point --postgres-bin at the folder that holds them.");
    }

    private static IEnumerable<string> Candidates()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            foreach (var dir in Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .OrderByDescending(d => d.Version))
            {
                yield return Path.Combine(dir.Dir, "bin");
            }
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            yield return dir;
        }
    }
}
