using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Issue 12, drill 1 as tests: far more concurrent calls than the Api's one connection pool holds. Calls wait for a
/// connection at most the pool's timeout, then get a 503 with Retry-After in their protocol's shape — never a 500,
/// never exception text — and the money stays exact (one record per call id, nothing left processing, nothing
/// reserved, Σ debits = Σ charges).
/// </summary>
public sealed class BurstTests
{
    private const int Pool = 4;

    private static readonly string[] ExceptionText = ["Npgsql", "Exception", "   at ", "pool", "53300", "StackExchange"];

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<(BillingHost Host, FakeOpenAI Fake, Guid Member, string Key)> StartAsync<T>() where T : ApiFactory, new()
    {
        var fake = await FakeOpenAI.StartAsync();
        var host = await BillingHost.StartAsync<T>(f =>
        {
            f.Settings["AigneHub:Database:MaxPoolSize"] = Pool.ToString(System.Globalization.CultureInfo.InvariantCulture);
            // How long a call waits for a pooled connection (Npgsql's Timeout) before it is told to come back.
            f.Settings["ConnectionStrings:aignehub"] += ";Timeout=2";
        });
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-burst-0123456789", "gpt-4o-mini");
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat), "0.001", "0.002");
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "100000");
        return (host, fake, member, key);
    }

    private static void AssertNoExceptionText(string body)
    {
        foreach (var text in ExceptionText)
        {
            Assert.False(body.Contains(text, StringComparison.Ordinal), $"the body shows '{text}': {body}");
        }
    }

    [Fact]
    public async Task A_burst_fifty_times_the_pool_gets_no_500_and_every_call_id_keeps_exactly_one_record()
    {
        var (host, fake, member, key) = await StartAsync<ApiFactory>();
        await using var _ = host;
        await using var __ = fake;
        using var client = host.Api.CreateClient(key);
        client.Timeout = TimeSpan.FromSeconds(90);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/api/v2/chat/completions",
            Json("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"warm"}]}"""))).StatusCode);

        const int Calls = Pool * 50;
        var results = await Task.WhenAll(Enumerable.Range(0, Calls).Select(async i =>
        {
            var stream = i % 2 == 0 ? "true" : "false";
            using var response = await client.PostAsync("/api/v2/chat/completions",
                Json($$"""{"model":"openai/gpt-4o-mini","stream":{{stream}},"max_tokens":16,"messages":[{"role":"user","content":"burst {{i}}"}]}"""));
            var body = await response.Content.ReadAsStringAsync();
            var callId = response.Headers.TryGetValues("x-aignehub-call-id", out var ids) ? Guid.Parse(ids.Single()) : (Guid?)null;
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, body, callId);
        }));

        foreach (var (status, retryAfter, body, _) in results)
        {
            Assert.True(status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)status}: {body}");
            AssertNoExceptionText(body);
            if (status == HttpStatusCode.ServiceUnavailable)
            {
                Assert.True(retryAfter is { TotalSeconds: >= 1 }, "a 503 says when to come back");
            }
        }

        var served = results.Count(r => r.StatusCode == HttpStatusCode.OK);
        var calls = await host.SettledCallsAsync(member, results.Count(r => r.callId is not null));
        Assert.True(served >= 1, "the pool serves some of the burst");
        Assert.DoesNotContain(calls, c => c.Status == ModelCallStatus.Processing);
        foreach (var id in results.Select(r => r.callId).OfType<Guid>())
        {
            Assert.Single(calls, c => c.Id == id);
        }
        Assert.Equal(served + 1, calls.Count(c => c.Status == ModelCallStatus.Success));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
        Assert.Equal(calls.Sum(c => c.Credits), await host.DebitsAsync(member));
    }

    [Fact]
    public async Task With_every_pooled_connection_taken_each_protocol_gets_a_503_with_retry_after_after_a_bounded_wait_and_recovers()
    {
        var (host, fake, member, key) = await StartAsync<ApiFactory>();
        await using var _ = host;
        await using var __ = fake;
        using var warm = host.Api.CreateClient(key);
        using var owner = host.Owner;
        // A key the Api has not seen yet: its lookup needs the database too.
        var (coldMember, coldKey) = await owner.CreateMemberAsync();
        await host.GrantAsync(coldMember, "1000");
        using var cold = host.Api.CreateClient(coldKey);
        // The bound on the wait: every answer within it (Npgsql's Timeout of 2 s per attempt, EF Core's two retries;
        // before, Aspire's default retries held the cold key's lookup past 40 s).
        warm.Timeout = cold.Timeout = TimeSpan.FromSeconds(30);
        Assert.Equal(HttpStatusCode.OK, (await warm.PostAsync("/api/v2/chat/completions",
            Json("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"warm"}]}"""))).StatusCode);

        // :: Every connection of the Api's one pool is taken (as by long statements of a burst).
        var dataSource = host.Api.Services.GetRequiredService<NpgsqlDataSource>();
        List<NpgsqlConnection> held = [];
        for (var i = 0; i < Pool; i++)
        {
            held.Add(await dataSource.OpenConnectionAsync());
        }
        (HttpClient Client, string Path, string Body, bool AnthropicShape)[] requests =
        [
            (warm, "/api/v2/chat/completions", """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", false),
            (warm, "/api/v2/chat/completions", """{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}""", false),
            (warm, "/api/v2/chat", """{"input":{"modelOptions":{"model":"openai/gpt-4o-mini"},"messages":[{"role":"user","content":"hi"}]}}""", false),
            (warm, "/api/v2/anthropic/v1/messages", """{"model":"openai/gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""", true),
            (cold, "/api/v2/chat/completions", """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""", false),
            (cold, "/api/v2/anthropic/v1/messages", """{"model":"openai/gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}""", true),
            (warm, "/api/v2/model-calls", "", false),
        ];
        try
        {
            var answers = await Task.WhenAll(requests.Select(async r =>
            {
                using var response = r.Body.Length == 0 ? await r.Client.GetAsync(r.Path) : await r.Client.PostAsync(r.Path, Json(r.Body));
                return (r, response.StatusCode, response.Headers.RetryAfter?.Delta, await response.Content.ReadAsStringAsync());
            }));
            foreach (var (request, status, retryAfter, body) in answers)
            {
                // Anthropic's clients retry its 529 overloaded_error, the shape's 503.
                Assert.True(status == HttpStatusCode.ServiceUnavailable || (request.AnthropicShape && (int)status == 529), $"{request.Path}: {(int)status} {body}");
                Assert.True(retryAfter is { TotalSeconds: >= 1 }, $"{request.Path}: a 503 says when to come back");
                AssertNoExceptionText(body);
                var json = JsonNode.Parse(body)!;
                Assert.False(string.IsNullOrWhiteSpace((string?)json["error"]!["message"]), body);
                if (request.AnthropicShape)
                {
                    Assert.Equal("error", (string?)json["type"]);
                }
            }
            Assert.Single(fake.Requests); // only the warm-up reached the provider
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }

        // :: Connections free again: served, without a restart.
        Assert.Equal(HttpStatusCode.OK, (await cold.PostAsync("/api/v2/chat/completions",
            Json("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"""))).StatusCode);
        Assert.DoesNotContain(await host.SettledCallsAsync(member), c => c.Status == ModelCallStatus.Processing);
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task In_development_too_an_unhandled_storage_failure_shows_no_exception_text()
    {
        var (host, fake, _, _) = await StartAsync<DevelopmentApiFactory>();
        await using var __ = host;
        await using var ___ = fake;
        using var owner = host.Owner;
        var (_, coldKey) = await owner.CreateMemberAsync();
        using var cold = host.Api.CreateClient(coldKey);
        var dataSource = host.Api.Services.GetRequiredService<NpgsqlDataSource>();
        List<NpgsqlConnection> held = [];
        try
        {
            for (var i = 0; i < Pool; i++)
            {
                held.Add(await dataSource.OpenConnectionAsync());
            }
            // The key's lookup fails outside any route's own error handling (before: the developer page, a stack trace).
            using var response = await cold.GetAsync("/api/v2/model-calls");
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            AssertNoExceptionText(body);
            Assert.True(response.Headers.Contains("x-trace-id"));
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private sealed class DevelopmentApiFactory : ApiFactory
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            Microsoft.AspNetCore.Hosting.HostingAbstractionsWebHostBuilderExtensions.UseEnvironment(builder, "Development");
        }
    }
}
