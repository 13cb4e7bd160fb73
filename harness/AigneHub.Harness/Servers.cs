using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using AigneHub.AppHost.Infrastructure;
using Npgsql;
using StackExchange.Redis;

namespace AigneHub.Harness;

/// <summary>
/// A PostgreSQL server on loopback started as the AppHost's local mode and the tests start it
/// (<see cref="PostgresProcess"/>), with the server's default <c>max_connections</c> of 100 unless told otherwise.
/// It can be stopped by its PID and started again on the same port and data (the outage drill).
/// </summary>
public sealed class PostgresServer
{
    private const string Password = "aignehub-drills";
    private readonly string _bin;
    private readonly string _dataDirectory;
    private readonly string _logFile;
    private readonly int _maxConnections;
    private readonly bool _fsync;
    private readonly int _maxWalMegabytes;
    private Process? _process;

    private PostgresServer(string bin, string dataDirectory, string logFile, int maxConnections, bool fsync, int maxWalMegabytes)
    {
        _fsync = fsync;
        _maxWalMegabytes = maxWalMegabytes;
        _bin = bin;
        _dataDirectory = dataDirectory;
        _logFile = logFile;
        _maxConnections = maxConnections;
    }

    public int Port { get; } = FreePort();

    public int MaxConnections => _maxConnections;

    /// <summary>The postmaster (its children are the backends and background processes).</summary>
    public Process Process => _process ?? throw new InvalidOperationException("not started");

    /// <summary>Starts a server in <paramref name="root"/>. <paramref name="fsync"/> off (the tests' and drills' mode) or on
    /// (as deployed: every commit waits for the disk); <paramref name="maxWalMegabytes"/> small for the drills (little
    /// disk), the server's default of 1024 for the benchmark (a smaller one checkpoints more often under load).</summary>
    public static async Task<PostgresServer> StartAsync(string root, int maxConnections, bool fsync = false, int maxWalMegabytes = 128)
    {
        var bin = PostgresProcess.FindBinDirectory(null);
        var data = Path.Combine(root, "postgres");
        await PostgresProcess.InitializeDataDirectoryAsync(bin, data, Password, DataRoot.RunningAsRoot, null, CancellationToken.None);
        var server = new PostgresServer(bin, data, Path.Combine(root, "postgres.log"), maxConnections, fsync, maxWalMegabytes);
        await server.StartAsync();
        return server;
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={PostgresProcess.UserName};Password={Password};Database={database}";

    public async Task StartAsync()
    {
        var postgres = Path.Combine(_bin, "postgres");
        // PostgresProcess gives the local mode's 500 connections; a later -c wins, so the drills get the server default.
        var args = PostgresProcess.ServerArguments(postgres, _dataDirectory, Port, _fsync, DataRoot.RunningAsRoot)
            .Select(a => a.ToString()!)
            .Concat(["-c", $"max_connections={_maxConnections}", "-c", $"max_wal_size={_maxWalMegabytes}MB"]);
        _process = Processes.Start(PostgresProcess.Command(postgres, DataRoot.RunningAsRoot), args, null, _logFile);
        await Wait.UntilAsync(TimeSpan.FromSeconds(30), async () =>
        {
            await using var c = new NpgsqlConnection(ConnectionString("postgres") + ";Timeout=2;Pooling=false");
            await c.OpenAsync();
            return true;
        }, "Postgres to accept connections");
    }

    /// <summary>Stops the server by its PID (SIGINT: fast shutdown, every session is ended) and waits until it is gone.</summary>
    public async Task StopAsync()
    {
        var process = _process ?? throw new InvalidOperationException("not started");
        Processes.Signal(process, "INT");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        NpgsqlConnection.ClearAllPools();
    }

    public async Task<string> CreateDatabaseAsync(string name)
    {
        await using (var c = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false"))
        {
            await c.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
            await create.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    public async Task DropDatabaseAsync(string name)
    {
        await using var c = new NpgsqlConnection(ConnectionString("postgres") + ";Pooling=false");
        await c.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", c);
        await drop.ExecuteNonQueryAsync();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>A Redis server on loopback with the AppHost's arguments (<see cref="LocalRedisExtensions"/>): nothing on
/// disk, so a restart after an outage starts empty, as a real cache node that lost its memory would.</summary>
public sealed class RedisServer
{
    private const string Password = "aignehub-drills";
    private readonly string _logFile;
    private Process? _process;

    private RedisServer(string logFile) => _logFile = logFile;

    public int Port { get; } = PostgresServer.FreePort();

    public string ConnectionString(int database) => $"127.0.0.1:{Port},password={Password},defaultDatabase={database}";

    public static async Task<RedisServer> StartAsync(string root)
    {
        var server = new RedisServer(Path.Combine(root, "redis.log"));
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var args = LocalRedisExtensions.ServerArguments(Port, Password).Select(a => a.ToString()!);
        _process = Processes.Start(LocalRedisExtensions.FindRedisServer(null), args, null, _logFile);
        await Wait.UntilAsync(TimeSpan.FromSeconds(30), async () =>
        {
            await using var r = await ConnectionMultiplexer.ConnectAsync(ConnectionString(0) + ",connectTimeout=1000");
            await r.GetDatabase().PingAsync();
            return true;
        }, "Redis to answer");
    }

    public async Task StopAsync()
    {
        var process = _process ?? throw new InvalidOperationException("not started");
        Processes.Signal(process, "INT");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
    }
}

public static class Wait
{
    /// <summary>Polls <paramref name="probe"/> every 200 ms until it returns true (exceptions count as false), at
    /// most <paramref name="timeout"/>; then throws naming <paramref name="what"/>.</summary>
    public static async Task UntilAsync(TimeSpan timeout, Func<Task<bool>> probe, string what)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await probe())
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                last = ex;
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Gave up after {timeout.TotalSeconds:0} s waiting for {what}{(last is null ? "" : $" (last: {last.Message})")}.");
    }
}
