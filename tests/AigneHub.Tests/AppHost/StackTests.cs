using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using AigneHub.Tests.Infrastructure;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Xunit.Abstractions;

namespace AigneHub.Tests.AppHost;

/// <summary>
/// The whole stack from the AppHost, in local-process mode (no container runtime here): one scenario from a cold
/// data folder to a clean shutdown, because starting the stack costs ~15 s and stopping it ~15 s.
/// </summary>
public sealed class StackTests(ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Stack_starts_healthy_with_migrated_schema_and_stops_without_leftover_processes()
    {
        var dataDir = RepositoryPaths.NewTempFolder("aignehub-stack");
        const string ownerKey = "ahk_stack_test_owner_key_0123456789";
        var started = Stopwatch.StartNew();
        int[] ports = [];

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AigneHub_AppHost>(
            ["--infra", "local", "--data-dir", dataDir, "--postgres-fsync", "false", $"--Parameters:owner-key={ownerKey}"]);
        builder.Services.AddLogging(logging => logging
            .SetMinimumLevel(LogLevel.Warning)
            .AddFilter("Aspire.Hosting", LogLevel.Warning)
            .AddFilter($"{typeof(Projects.AigneHub_AppHost).Namespace}.Resources", LogLevel.None));

        await using (var app = await builder.BuildAsync())
        {
            using var cts = new CancellationTokenSource(StartTimeout);
            await app.StartAsync(cts.Token);

            // 1. Every resource reaches Healthy.
            var notifications = app.Services.GetRequiredService<ResourceNotificationService>();
            foreach (var resource in new[] { "postgres", "aignehub", "redis", "api", "worker", "admin" })
            {
                await notifications.WaitForResourceHealthyAsync(resource, cts.Token);
            }
            output.WriteLine($"stack healthy after {started.Elapsed.TotalSeconds:0.0} s");

            // 2. The Api and Worker say so themselves.
            using var api = app.CreateHttpClient("api");
            // Strangers get the status only; the owner gets every check.
            using var publicHealth = await api.GetAsync("/health", cts.Token);
            var publicHealthBody = await publicHealth.Content.ReadAsStringAsync(cts.Token);
            Assert.True(publicHealth.StatusCode == HttpStatusCode.OK, publicHealthBody);
            Assert.Equal("""{"status":"Healthy"}""", publicHealthBody);
            api.DefaultRequestHeaders.Authorization = new("Bearer", ownerKey);
            using var apiHealth = await api.GetAsync("/health", cts.Token);
            var apiHealthBody = await apiHealth.Content.ReadAsStringAsync(cts.Token);
            Assert.Contains("\"database-migrations\"", apiHealthBody);
            Assert.Contains("\"StackExchange.Redis\"", apiHealthBody);

            // A new stack answers a chat call at once, with no provider configured: the development demo provider.
            using var chat = await api.PostAsync("/api/v2/chat/completions", new StringContent(
                """{"model":"demo/echo","messages":[{"role":"user","content":"hello stack"}]}""", Encoding.UTF8, "application/json"), cts.Token);
            var chatBody = await chat.Content.ReadAsStringAsync(cts.Token);
            Assert.True(chat.StatusCode == HttpStatusCode.OK, chatBody);
            Assert.Contains("You said: \\\"hello stack\\\"", chatBody);

            using var worker = app.CreateHttpClient("worker");
            Assert.Equal(HttpStatusCode.OK, (await worker.GetAsync("/health", cts.Token)).StatusCode);

            // 3. The database has the migrated schema and the bootstrap owner holds the configured key (as a hash).
            var connectionString = await app.GetConnectionStringAsync("aignehub", cts.Token);
            var redisConnectionString = await app.GetConnectionStringAsync("redis", cts.Token);
            ports = [new NpgsqlConnectionStringBuilder(connectionString).Port, int.Parse(redisConnectionString!.Split(',')[0].Split(':')[1])];
            await using (var connection = new NpgsqlConnection(connectionString))
            {
                await connection.OpenAsync(cts.Token);
                var applied = await ScalarAsync<long>(connection, "SELECT count(*) FROM aignehub.\"__EFMigrationsHistory\"");
                var known = typeof(AigneHub.Data.AigneHubDbContext).Assembly.GetTypes()
                    .Count(t => t.GetCustomAttributes(typeof(Microsoft.EntityFrameworkCore.Migrations.MigrationAttribute), false).Length > 0);
                Assert.Equal(known, applied);

                await using var owner = new NpgsqlCommand(
                    "SELECT u.role, k.hash FROM aignehub.users u JOIN aignehub.access_keys k ON k.user_id = u.id", connection);
                await using var reader = await owner.ExecuteReaderAsync(cts.Token);
                Assert.True(await reader.ReadAsync(cts.Token), "no bootstrap owner");
                Assert.Equal("Owner", reader.GetString(0));
                Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(ownerKey)), (byte[])reader[1]);
                Assert.False(await reader.ReadAsync(cts.Token), "more than one bootstrap key");
            }

            // 4. The Admin home page renders the Api's status, fetched through service discovery (to a stranger: the
            //    status alone, not the list of checks).
            using var admin = app.CreateHttpClient("admin");
            var home = await admin.GetStringAsync("/", cts.Token);
            Assert.Contains("data-testid=\"api-status\">Healthy<", home);
            Assert.DoesNotContain(">database-migrations<", home);

            await app.StopAsync(cts.Token);
        }

        // 5. Nothing is left behind: no process names the data folder, and nothing answers on Postgres's or Redis's port.
        var leftovers = await WaitForNoProcessesAsync(dataDir, TimeSpan.FromSeconds(30));
        Assert.True(leftovers.Count == 0, "left running: " + string.Join("; ", leftovers));
        foreach (var port in ports)
        {
            using var probe = new System.Net.Sockets.TcpClient();
            await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => probe.ConnectAsync("127.0.0.1", port));
        }
        output.WriteLine($"stack stopped after {started.Elapsed.TotalSeconds:0.0} s in all");
        Directory.Delete(dataDir, recursive: true);
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Processes whose command line names the data folder (postgres) or whose parent was the stack (redis).</summary>
    private static async Task<List<string>> WaitForNoProcessesAsync(string dataDir, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<string> found;
        do
        {
            found = Directory.EnumerateDirectories("/proc")
                .Select(d => (Dir: d, Cmd: TryRead(Path.Combine(d, "cmdline"))))
                .Where(p => p.Cmd is not null && p.Cmd.Contains(dataDir, StringComparison.Ordinal))
                .Select(p => $"{Path.GetFileName(p.Dir)}: {p.Cmd}")
                .ToList();
            if (found.Count == 0)
            {
                return found;
            }
            await Task.Delay(500);
        }
        while (DateTime.UtcNow < deadline);
        return found;

        static string? TryRead(string path)
        {
            try { return File.ReadAllText(path).Replace('\0', ' '); }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }
    }
}
