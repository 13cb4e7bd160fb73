using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway;
using AigneHub.Data;
using AigneHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Billing;

public sealed class BillingApiTests
{
    [Fact]
    public async Task Rates_keep_every_digit_write_history_and_reach_the_rate_cache()
    {
        await using var host = await BillingHost.StartAsync();
        var created = await host.AddRateAsync(BillingHost.Gpt, "0.000001234567890123", "\"0.000002\"",
            ""","cacheWriteRate":1.25E-6,"unitCosts":{"input":"0.0000025","output":0.00001},"metadata":{"contextWindow":128000}""");
        Assert.Equal("0.000001234567890123", created["inputRate"]!.GetValue<string>());
        Assert.Equal("0.000002", created["outputRate"]!.GetValue<string>());
        Assert.Equal("0.00000125", created["cacheWriteRate"]!.GetValue<string>());
        Assert.Equal("0.00001", created["unitCosts"]!["output"]!.GetValue<string>());
        var id = created["id"]!.GetValue<Guid>();

        var catalog = host.Api.Services.GetRequiredService<IRateCatalog>();
        var cached = (await catalog.GetAsync(CancellationToken.None)).Find("OpenAI", "gpt-test", ModelType.Chat);
        Assert.NotNull(cached);
        Assert.Equal(0.000002m, cached.OutputRate);

        // Derived from the provider's price: 0.00001 × 1.2 / 0.001 = 0.012 credits per output token.
        using var put = await host.Owner.PutAsync($"/api/admin/model-rates/{id}", Json("""
            {"provider":"openai","model":"gpt-test","type":"chat","unitCosts":{"input":"0.0000025","output":"0.00001"},"margin":{"percent":20,"creditPrice":"0.001"}}
            """));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var updated = JsonNode.Parse(await put.Content.ReadAsStringAsync())!;
        Assert.Equal("0.003", updated["inputRate"]!.GetValue<string>());
        Assert.Equal("0.012", updated["outputRate"]!.GetValue<string>());
        Assert.Equal(0.012m, (await catalog.GetAsync(CancellationToken.None)).Find("openai", "gpt-test", ModelType.Chat)!.OutputRate);

        using var duplicate = await host.Owner.PostAsync("/api/admin/model-rates", Json("""{"provider":"openai","model":"gpt-test","type":"chat","inputRate":1,"outputRate":1}"""));
        await BillingHost.AssertErrorAsync(duplicate, HttpStatusCode.Conflict, "conflict_error", "model");
        using var putMissing = await host.Owner.PutAsync($"/api/admin/model-rates/{Guid.NewGuid()}", Json("""{"provider":"openai","model":"x","type":"chat","inputRate":1,"outputRate":1}"""));
        await BillingHost.AssertErrorAsync(putMissing, HttpStatusCode.NotFound, "not_found_error", null);

        using var delete = await host.Owner.DeleteAsync($"/api/admin/model-rates/{id}");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var deleteAgain = await host.Owner.DeleteAsync($"/api/admin/model-rates/{id}");
        await BillingHost.AssertErrorAsync(deleteAgain, HttpStatusCode.NotFound, "not_found_error", null);
        Assert.Null((await catalog.GetAsync(CancellationToken.None)).Find("openai", "gpt-test", ModelType.Chat));

        var history = await host.Owner.GetFromJsonAsync<JsonArray>($"/api/admin/model-rates/{id}/history");
        Assert.Equal(["deleted", "updated", "created"], history!.Select(h => h!["change"]!.GetValue<string>()).ToArray());
    }

    [Theory]
    [InlineData("""{"provider":"nope","model":"m","type":"chat","inputRate":1,"outputRate":1}""", "provider")]
    [InlineData("""{"provider":"openai","model":"m","type":"music","inputRate":1,"outputRate":1}""", "type")]
    [InlineData("""{"provider":"openai","model":"m","type":"chat","inputRate":-1,"outputRate":1}""", "inputRate")]
    [InlineData("""{"provider":"openai","model":"m","type":"chat","inputRate":"abc","outputRate":1}""", "inputRate")]
    [InlineData("""{"provider":"openai","model":"m","type":"chat","inputRate":1}""", "outputRate")]
    [InlineData("""{"provider":"openai","model":"m","type":"chat","inputRate":1,"outputRate":1,"margin":{"percent":5,"creditPrice":0}}""", "margin.creditPrice")]
    [InlineData("""[1,2]""", null)]
    // One body reader for every management route now: truncated JSON names the field it broke off in, as the
    // provider routes always did (`{"name":` → name); this reader used to say null here.
    [InlineData("""{"provider":""", "provider")]
    public async Task Bad_rate_input_is_a_400_naming_the_field(string body, string? field)
    {
        await using var host = await BillingHost.StartAsync();
        using var response = await host.Owner.PostAsync("/api/admin/model-rates", Json(body));
        await BillingHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", field);
    }

    [Fact]
    public async Task Grants_move_the_balance_and_credits_and_transactions_report_it()
    {
        await using var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:WelcomeCredits"] = "1.5");
        var owner = await OwnerIdAsync(host);
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");

        using var grant = await host.Owner.PostAsync($"/api/admin/users/{owner}/credits/grants",
            Json("""{"amount":10.123456789,"category":"paid","expiresAt":"2099-01-01T00:00:00Z"}"""));
        Assert.Equal(HttpStatusCode.Created, grant.StatusCode);
        using var bad = await host.Owner.PostAsync($"/api/admin/users/{owner}/credits/grants", Json("""{"amount":0,"category":"gift"}"""));
        await BillingHost.AssertErrorAsync(bad, HttpStatusCode.BadRequest, "invalid_request_error", "amount");
        Assert.Contains("'category' must be 'paid' or 'promotional'.", JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        using var past = await host.Owner.PostAsync($"/api/admin/users/{owner}/credits/grants", Json("""{"amount":1,"category":"paid","expiresAt":"2001-01-01T00:00:00Z"}"""));
        await BillingHost.AssertErrorAsync(past, HttpStatusCode.BadRequest, "invalid_request_error", "expiresAt");
        using var missing = await host.Owner.PostAsync($"/api/admin/users/{Guid.NewGuid()}/credits/grants", Json("""{"amount":1,"category":"paid"}"""));
        await BillingHost.AssertErrorAsync(missing, HttpStatusCode.NotFound, "not_found_error", null);
        using var missingCredits = await host.Owner.GetAsync($"/api/admin/users/{Guid.NewGuid()}/credits");
        await BillingHost.AssertErrorAsync(missingCredits, HttpStatusCode.NotFound, "not_found_error", null);

        var ticket = await host.Recorder.StartAsync(BillingHost.Context(owner), [BillingHost.Gpt], new CallEstimate { PromptTokens = 1000, MaxOutputTokens = 1000 }, CancellationToken.None);
        var during = await host.Owner.GetFromJsonAsync<JsonObject>("/api/v2/credits");
        Assert.Equal("11.623456789", during!["balance"]!.GetValue<string>());
        Assert.Equal("3", during["reserved"]!.GetValue<string>());
        Assert.Equal("8.623456789", during["available"]!.GetValue<string>());
        Assert.Equal("credits", during["currency"]!.GetValue<string>());
        Assert.Equal("https://pay.example/credits", during["paymentLink"]!.GetValue<string>());
        Assert.Equal("10.123456789", during["grants"]!["paid"]!.GetValue<string>());
        Assert.Equal("1.5", during["grants"]!["promotional"]!.GetValue<string>());
        Assert.Equal("0", during["expiringSoon"]!["amount"]!.GetValue<string>());
        Assert.Equal(new DateTimeOffset(2099, 1, 1, 0, 0, 0, TimeSpan.Zero), during["expiringSoon"]!["nextExpiresAt"]!.GetValue<DateTimeOffset>());

        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 1000, 250), CancellationToken.None);
        var after = await host.Owner.GetFromJsonAsync<JsonObject>("/api/v2/credits");
        Assert.Equal("10.123456789", after!["balance"]!.GetValue<string>());
        Assert.Equal("0", after["reserved"]!.GetValue<string>());
        // The 1.5 charge came out of the welcome credits (promotional, no expiry) rather than the paid grant that
        // expires in 2099: soonest-expiring first.
        Assert.Equal("8.623456789", after["grants"]!["paid"]!.GetValue<string>());
        Assert.Equal("1.5", after["grants"]!["promotional"]!.GetValue<string>());

        var page = await host.Owner.GetFromJsonAsync<JsonObject>("/api/v2/credits/transactions?pageSize=2");
        Assert.Equal(3, page!["total"]!.GetValue<long>());
        var items = page["items"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.Equal("-1.5", items[0]!["amount"]!.GetValue<string>());
        Assert.Equal("debit", items[0]!["kind"]!.GetValue<string>());
        Assert.Equal(ticket.CallId, items[0]!["modelCallId"]!.GetValue<Guid>());
        using var badPage = await host.Owner.GetAsync("/api/v2/credits/transactions?pageSize=1000");
        await BillingHost.AssertErrorAsync(badPage, HttpStatusCode.BadRequest, "invalid_request_error", "pageSize");
    }

    [Fact]
    public async Task Credit_routes_require_authentication_and_admin_routes_an_admin()
    {
        await using var host = await BillingHost.StartAsync();
        using var anonymous = host.Api.CreateClient(bearer: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v2/credits")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/admin/model-rates")).StatusCode);
    }

    [Fact]
    public async Task Rate_limits_hold_across_two_api_instances()
    {
        var servers = await TestServers.GetAsync();
        // Both replicas on one database and one Redis database, as in production.
        var redis = $"{servers.RedisConnectionString},defaultDatabase=15";
        void Limits(ApiFactory f)
        {
            f.Settings["ConnectionStrings:redis"] = redis;
            f.Settings["AigneHub:Billing:Enabled"] = "false";
            f.Settings["AigneHub:RateLimits:PerKey:RequestsPerMinute"] = "5";
            f.Settings["AigneHub:RateLimits:PerUser:TokensPerMinute"] = "100000";
        }
        await using var first = await BillingHost.StartAsync(Limits);
        await using var second = await BillingHost.StartAsync(Limits, first.Api.DatabaseConnectionString);
        var user = await first.CreateUserAsync();
        var key = Guid.NewGuid();
        var context = BillingHost.Context(user) with { AccessKeyId = key };

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 12).Select(async i =>
        {
            var recorder = (i % 2 == 0 ? first : second).Recorder;
            try
            {
                var ticket = await recorder.StartAsync(context, [BillingHost.Gpt], new CallEstimate { PromptTokens = 10 }, CancellationToken.None);
                await recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 10, 10), CancellationToken.None);
                return (int?)null;
            }
            catch (GatewayException ex) when (ex.Status == 429)
            {
                Assert.Equal("rate_limit_error", ex.Type);
                return ex.RetryAfterSeconds;
            }
        }));
        Assert.Equal(5, outcomes.Count(o => o is null));
        Assert.All(outcomes.Where(o => o is not null), o => Assert.InRange(o!.Value, 1, 60));
        // Every call has its record: 5 served, the rest failed with the rate limit as the reason.
        var calls = await first.CallsAsync(user);
        Assert.Equal(outcomes.Length, calls.Count);
        Assert.Equal(outcomes.Length - 5, calls.Count(c => c.Status == AigneHub.Data.Billing.ModelCallStatus.Failed));

        // Another key of the same user has its own request budget; the user's token budget is shared.
        var other = BillingHost.Context(user) with { AccessKeyId = Guid.NewGuid() };
        var ticket = await second.Recorder.StartAsync(other, [BillingHost.Gpt], new CallEstimate { PromptTokens = 10 }, CancellationToken.None);
        await second.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 10, 10), CancellationToken.None);
        var huge = await Assert.ThrowsAsync<GatewayException>(async () =>
            await first.Recorder.StartAsync(other, [BillingHost.Gpt], new CallEstimate { PromptTokens = 100_000 }, CancellationToken.None));
        Assert.Equal(429, huge.Status);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<Guid> OwnerIdAsync(BillingHost host) =>
        await host.ScalarAsync<Guid>("SELECT id FROM aignehub.users WHERE role = 'Owner'");
}
