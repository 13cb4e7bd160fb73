using System.Diagnostics;
using System.Text;
using AigneHub.Api.Billing;
using AigneHub.Data;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace AigneHub.Tests.Billing;

public sealed class RateCatalogTests(ITestOutputHelper output)
{
    [Fact]
    public async Task The_demo_rate_a_new_stack_seeds_has_its_creation_in_the_rate_history()
    {
        await using var host = await BillingHost.StartAsync(configure: f => f.Settings["AigneHub:Providers:Demo:Enabled"] = "true");
        var rates = System.Text.Json.Nodes.JsonNode.Parse(await host.Owner.GetStringAsync("/api/admin/model-rates"))!.AsArray();
        var demo = Assert.Single(rates, r => (string?)r!["provider"] == "demo");

        var history = System.Text.Json.Nodes.JsonNode.Parse(await host.Owner.GetStringAsync($"/api/admin/model-rates/{demo!["id"]}/history"))!.AsArray();
        var created = Assert.Single(history)!;
        Assert.Equal("created", (string?)created["change"]);
        Assert.Equal(("0", "0"), ((string?)created["inputRate"], (string?)created["outputRate"]));
        Assert.Null(created["changedBy"]); // the system, not a person
    }

    [Fact]
    public async Task A_rate_changed_on_one_replica_reaches_the_other_replicas_rate_cache_at_once()
    {
        await using var first = await BillingHost.StartAsync();
        await using var second = await BillingHost.StartAsync(database: first.Api.DatabaseConnectionString);
        var id = (await first.AddRateAsync(BillingHost.Gpt, "0.001", "0.002"))["id"]!.GetValue<Guid>();
        var onSecond = second.Api.Services.GetRequiredService<IRateCatalog>();
        // Warm the second replica's snapshot, so only the invalidation (not its 60 s freshness) can refresh it.
        Assert.Equal(0.002m, (await onSecond.GetAsync(CancellationToken.None)).Find("openai", "gpt-test", ModelType.Chat)!.OutputRate);

        using var put = await first.Owner.PutAsync($"/api/admin/model-rates/{id}", new StringContent(
            """{"provider":"openai","model":"gpt-test","type":"chat","inputRate":"0.001","outputRate":"0.005"}""", Encoding.UTF8, "application/json"));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());

        var clock = Stopwatch.StartNew();
        decimal? seen;
        do
        {
            seen = (await onSecond.GetAsync(CancellationToken.None)).Find("openai", "gpt-test", ModelType.Chat)?.OutputRate;
        }
        while (seen == 0.002m && clock.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(0.005m, seen);
        output.WriteLine($"rate change seen on the second replica after {clock.ElapsedMilliseconds} ms");
    }
}
