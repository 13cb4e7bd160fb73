using System.Diagnostics;
using System.Text.Json.Nodes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.AppHost;

/// <summary>The published manifest (what azd deploys) must describe containers and wire every connection string.</summary>
public sealed class ManifestTests
{
    [Fact]
    public async Task Manifest_describes_containers_databases_and_wired_projects()
    {
        var output = Path.Combine(RepositoryPaths.NewTempFolder("aignehub-manifest"), "aspire-manifest.json");
        var psi = new ProcessStartInfo("dotnet",
            ["run", "--no-build", "--project", Path.Combine(RepositoryPaths.Root, "src", "AigneHub.AppHost"),
             "--launch-profile", "http", "--", "--publisher", "manifest", "--output-path", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepositoryPaths.Root,
        };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"manifest publish failed: {await stdout}{await stderr}");

        var resources = JsonNode.Parse(await File.ReadAllTextAsync(output))!["resources"]!.AsObject();

        Assert.StartsWith("container.", Type("postgres"));
        Assert.StartsWith("container.", Type("redis"));
        Assert.Equal("value.v0", Type("aignehub"));
        Assert.Contains("{postgres.connectionString}", (string?)resources["aignehub"]!["connectionString"]);
        Assert.Contains("Database=aignehub", (string?)resources["aignehub"]!["connectionString"]);

        foreach (var project in new[] { "api", "worker", "admin" })
        {
            Assert.StartsWith("project.", Type(project));
        }
        foreach (var project in new[] { "api", "worker" })
        {
            var env = resources[project]!["env"]!;
            Assert.Equal("{aignehub.connectionString}", (string?)env["ConnectionStrings__aignehub"]);
            Assert.Equal("{redis.connectionString}", (string?)env["ConnectionStrings__redis"]);
        }
        Assert.Equal("{owner-key.value}", (string?)resources["api"]!["env"]!["AigneHub__Bootstrap__OwnerKey"]);
        Assert.Equal("{api.bindings.http.url}", (string?)resources["admin"]!["env"]!["services__api__http__0"]);

        // Deployed, people reach the Admin over https: links and wallet messages name that address, and replicas of
        // the Admin share their Data Protection keys (sign-in cookies) through Redis.
        Assert.Equal("{admin.bindings.https.url}", (string?)resources["api"]!["env"]!["AigneHub__Auth__PublicBaseUrl"]);
        var https = resources["admin"]!["bindings"]!["https"]!;
        Assert.Equal("https", (string?)https["scheme"]);
        Assert.True((bool?)https["external"]);
        Assert.Equal("{redis.connectionString}", (string?)resources["admin"]!["env"]!["ConnectionStrings__redis"]);

        Assert.Equal("{master-key.value}", (string?)resources["api"]!["env"]!["AigneHub__Secrets__MasterKey"]);
        foreach (var secret in new[] { "owner-key", "master-key" })
        {
            Assert.Equal("parameter.v0", Type(secret));
            Assert.True((bool?)resources[secret]!["inputs"]!["value"]!["secret"]);
            // Secrets are asked of the deployer, never baked into the manifest.
            Assert.Null(resources[secret]!["inputs"]!["value"]!["default"]);
        }

        // No machine-specific local processes leak into what gets deployed.
        Assert.DoesNotContain(resources, r => ((string?)r.Value!["type"])?.StartsWith("executable.") == true);

        string? Type(string name) => (string?)(resources[name] ?? throw new Xunit.Sdk.XunitException($"manifest lacks '{name}'"))["type"];
    }
}
