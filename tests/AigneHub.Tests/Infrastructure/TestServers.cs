using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AigneHub.AppHost.Infrastructure;
using Npgsql;
using StackExchange.Redis;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// One real PostgreSQL and one real Redis server for the whole test run, started as local processes the same way
/// the AppHost's local mode starts them (<see cref="PostgresProcess"/>), and killed when the test process exits.
/// Each test host gets a database of its own (<see cref="CreateDatabaseAsync"/>, dropped again by
/// <see cref="DropDatabaseAsync"/>) and a Redis key prefix of its own. The data folder is deleted when the servers
/// stop, also when the test host is killed: a full run creates hundreds of databases, and a CI machine's disk is small.
/// </summary>
public sealed class TestServers
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static TestServers? _instance;

    private readonly List<Process> _processes = [];

    private TestServers(string postgresAdmin, string redis)
    {
        PostgresAdminConnectionString = postgresAdmin;
        RedisConnectionString = redis;
    }

    /// <summary>Superuser connection string to the server, without a database.</summary>
    public string PostgresAdminConnectionString { get; }

    public string RedisConnectionString { get; }

    public static async Task<TestServers> GetAsync()
    {
        if (_instance is not null)
        {
            return _instance;
        }
        await Gate.WaitAsync();
        try
        {
            return _instance ??= await StartAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A fresh, empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "t")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 33)];
        await using var connection = new NpgsqlConnection(PostgresAdminConnectionString + ";Database=postgres");
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return $"{PostgresAdminConnectionString};Database={name}";
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing whatever still holds it open.</summary>
    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        await using var connection = new NpgsqlConnection(PostgresAdminConnectionString + ";Database=postgres");
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private static async Task<TestServers> StartAsync()
    {
        var root = RepositoryPaths.NewTempFolder("aignehub-test-servers");
        DataRoot.SetUnixMode(root, (UnixFileMode)0b111_001_001); // rwx--x--x: the postgres user traverses it
        var asRoot = DataRoot.RunningAsRoot;
        const string password = "aignehub-test";

        var bin = PostgresProcess.FindBinDirectory(null);
        var dataDir = Path.Combine(root, "postgres");
        await PostgresProcess.InitializeDataDirectoryAsync(bin, dataDir, password, asRoot, null, CancellationToken.None);
        var pgPort = FreePort();
        var postgres = Path.Combine(bin, "postgres");
        // WAL is recycled early: every CREATE DATABASE logs the whole template.
        var pgArgs = PostgresProcess.ServerArguments(postgres, dataDir, pgPort, fsync: false, asRoot)
            .Select(a => a.ToString()!).Concat(["-c", "max_wal_size=128MB", "-c", "min_wal_size=32MB"]);

        var redisPort = FreePort();
        var redisArgs = LocalRedisExtensions.ServerArguments(redisPort, password).Select(a => a.ToString()!);

        var servers = new TestServers(
            $"Host=127.0.0.1;Port={pgPort};Username={PostgresProcess.UserName};Password={password};Maximum Pool Size=40",
            $"127.0.0.1:{redisPort},password={password}");
        servers._processes.Add(Start(PostgresProcess.Command(postgres, asRoot), pgArgs, deleteAfterwards: root));
        servers._processes.Add(Start(LocalRedisExtensions.FindRedisServer(null), redisArgs, deleteAfterwards: null));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => servers.Stop();

        await WaitUntilAsync(async () =>
        {
            await using var c = new NpgsqlConnection(servers.PostgresAdminConnectionString + ";Database=postgres;Timeout=2");
            await c.OpenAsync();
        });
        await WaitUntilAsync(async () =>
        {
            await using var r = await ConnectionMultiplexer.ConnectAsync(servers.RedisConnectionString + ",connectTimeout=1000");
            await r.GetDatabase().PingAsync();
        });
        return servers;
    }

    /// <summary>
    /// Starts a server under a small shell watchdog that stops it (SIGINT) when the test process goes away — also when
    /// the test host is killed and its ProcessExit handler never runs — or when the watchdog itself is interrupted.
    /// Once the server has exited, the watchdog deletes <paramref name="deleteAfterwards"/> (the server's data).
    /// </summary>
    private static Process Start(string command, IEnumerable<string> args, string? deleteAfterwards)
    {
        const string watchdog = """
            "$@" & server=$!
            trap 'kill -INT $server 2>/dev/null' INT TERM
            while kill -0 $PPID 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 1; done
            kill -INT $server 2>/dev/null
            wait $server
            [ -n "$DELETE_AFTERWARDS" ] && rm -rf "$DELETE_AFTERWARDS"
            exit 0
            """;
        var psi = new ProcessStartInfo("sh", ["-c", watchdog, "watchdog", command, .. args])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment["DELETE_AFTERWARDS"] = deleteAfterwards ?? "";
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {command}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Stop()
    {
        // Signal every server first, then wait: the test host may be killed at any moment after ProcessExit starts,
        // and no server should be left waiting for its turn. SIGINT is Postgres's "fast" shutdown; Redis exits on it.
        foreach (var p in _processes)
        {
            try
            {
                Process.Start("kill", ["-INT", p.Id.ToString()])?.WaitForExit(1000);
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }
        foreach (var p in _processes)
        {
            try
            {
                if (!p.WaitForExit(5000))
                {
                    p.Kill(entireProcessTree: true);
                }
            }
            catch (InvalidOperationException)
            {
                // already gone
            }
        }
    }

    private static async Task WaitUntilAsync(Func<Task> probe)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await probe();
                return;
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
