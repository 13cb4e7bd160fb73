using System.Collections.Concurrent;
using AigneHub.Api.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// The Api on real Kestrel (loopback, a free port) against the shared test Postgres (a database of its own) and
/// Redis. Extra configuration goes in through <see cref="Settings"/> before the first use.
/// </summary>
public class ApiFactory : WebApplicationFactory<AigneHub.Api.ApiAssembly>
{
    public const string OwnerKey = "ahk_test_owner_key_0123456789abcdef";

    /// <summary>The credential master key of every test Api (base64 of the bytes 0..31).</summary>
    public const string MasterKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    private static readonly ConcurrentDictionary<string, int> RedisDatabases = new();
    private static int _redisDatabase;

    public Dictionary<string, string?> Settings { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Set when this instance made its database: it drops it when disposed (after any replica given it).</summary>
    private bool _ownsDatabase;

    public static readonly IReadOnlyDictionary<string, string?> RelaxedClientLimits = new Dictionary<string, string?>
    {
        ["AigneHub:ClientLimits:SignInPerMinute"] = "1000000",
        ["AigneHub:ClientLimits:ReadsPerMinute"] = "1000000",
        ["AigneHub:ClientLimits:UnknownCredentialsPerMinute"] = "1000000",
    };

    /// <summary>Starts an Api with its own fresh database (or the given one, to share it with another instance).</summary>
    public static async Task<T> StartAsync<T>(string? databaseConnectionString = null, Action<T>? configure = null) where T : ApiFactory, new()
    {
        var servers = await TestServers.GetAsync();
        var factory = new T();
        var database = databaseConnectionString ?? await servers.CreateDatabaseAsync("api");
        factory.Settings["ConnectionStrings:aignehub"] = database;
        factory._ownsDatabase = databaseConnectionString is null;
        // Replicas of one deployment (same database) share one Redis database too.
        var redisDatabase = RedisDatabases.GetOrAdd(database, _ => Interlocked.Increment(ref _redisDatabase) % 16);
        factory.Settings["ConnectionStrings:redis"] = $"{servers.RedisConnectionString},defaultDatabase={redisDatabase}";
        // Pub/sub ignores the database number: the cache channel is per deployment too (named after its database,
        // which only its replicas share), so one test's invalidations never reach another test's Api.
        factory.Settings["AigneHub:Cache:ChannelPrefix"] = "aignehub-test:" + new NpgsqlConnectionStringBuilder(database).Database;
        factory.Settings["AigneHub:Bootstrap:OwnerKey"] = OwnerKey;
        factory.Settings["AigneHub:Secrets:MasterKey"] = MasterKey;
        // The whole suite talks from 127.0.0.1 and instances share Redis databases, so per-address limits would
        // count every test as one client. The tests of those limits restore them (ClientLimitTests.Defaults) and
        // talk from addresses of their own (LoopbackClients).
        foreach (var (key, value) in RelaxedClientLimits)
        {
            factory.Settings[key] = value;
        }
        configure?.Invoke(factory);
        factory.UseKestrel(0);
        factory.StartServer();
        await factory.Services.GetRequiredService<DatabaseMigrationState>().WhenReady.WaitAsync(TimeSpan.FromSeconds(60));
        return factory;
    }

    public static Task<ApiFactory> StartAsync(string? databaseConnectionString = null, Action<ApiFactory>? configure = null) =>
        StartAsync<ApiFactory>(databaseConnectionString, configure);

    public string DatabaseConnectionString => Settings["ConnectionStrings:aignehub"]!;

    /// <summary>Waits until no call of this database is processing: a served answer ends for its caller before its
    /// settlement commits, so a test that reads usage right after its calls waits for this first.</summary>
    public async Task WaitForSettlementsAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseConnectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM aignehub.model_calls WHERE status = 'processing'", connection);
            var processing = (long)(await count.ExecuteScalarAsync())!;
            if (processing == 0)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"{processing} calls still processing after 15 s");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Pass to a second instance (<c>f.Settings["ConnectionStrings:redis"] = first.RedisConnectionString</c>)
    /// so that the two replicas share Redis state (throttles, replay marks) and not only the database.</summary>
    public string RedisConnectionString => Settings["ConnectionStrings:redis"]!;

    /// <summary>A client for the real server, authenticated as the bootstrap owner unless told otherwise.</summary>
    public HttpClient CreateClient(string? bearer)
    {
        var client = CreateClient();
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", bearer);
        }
        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_ownsDatabase)
        {
            _ownsDatabase = false;
            await (await TestServers.GetAsync()).DropDatabaseAsync(DatabaseConnectionString);
        }
        GC.SuppressFinalize(this);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }
}
