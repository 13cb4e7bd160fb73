using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Gateway;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Routing;

/// <summary>
/// A provider's 429 takes a credential out for as long as the provider asked and no longer, through HTTP against
/// the fakes on the Api's own clock (<see cref="ClockedApiFactory"/>): a cool-down ends exactly when the clock
/// reaches it, so "served again within 2 s" is a statement about the Api's clock, not the test machine's speed.
/// </summary>
public sealed class ProviderCooldownTests
{
    private const string Body = """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static FakeReply RateLimited(params (string Name, string Value)[] headers) =>
        new() { FailStatus = 429, FailHeaders = headers.ToDictionary(h => h.Name, h => h.Value) };

    private static async Task<(ClockedApiFactory Api, FakeOpenAI Fake, HttpClient Client)> StartAsync(int credentials = 1, Action<ApiFactory>? configure = null)
    {
        var fake = await FakeOpenAI.StartAsync();
        var api = await ApiFactory.StartAsync<ClockedApiFactory>(configure: f =>
        {
            f.Settings["AigneHub:Billing:Enabled"] = "false";
            configure?.Invoke(f);
        });
        var client = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await GatewayFixture.AddProviderAsync(client, "openai", fake.BaseUrl, "sk-test-cooldown-000000001", "gpt-4o-mini");
        for (var i = 2; i <= credentials; i++)
        {
            await client.AddCredentialAsync(provider, $"sk-test-cooldown-00000000{i}", weight: 100);
        }
        return (api, fake, client);
    }

    private static async Task<(HttpStatusCode Status, int? RetryAfter, string? Code)> CallAsync(HttpClient client, string body = Body)
    {
        using var response = await client.PostAsync("/api/v2/chat/completions", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        var code = response.IsSuccessStatusCode ? null : (string?)JsonNode.Parse(text)!["error"]!["code"];
        return (response.StatusCode, (int?)response.Headers.RetryAfter?.Delta?.TotalSeconds, code);
    }

    [Fact]
    public async Task A_429_with_retry_after_1_cools_the_credential_for_one_second_and_it_serves_again()
    {
        var (api, fake, client) = await StartAsync();
        await using var _ = api;
        await using var __ = fake;
        using var ___ = client;

        fake.Enqueue(RateLimited(("retry-after", "1")));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 1, "provider_rate_limited"), await CallAsync(client));
        Assert.Single(fake.Requests);

        // Cooling: refused at once with the time really left, and the provider is not asked again.
        api.Time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 1, "provider_rate_limited"), await CallAsync(client));
        Assert.Single(fake.Requests);

        // The second the provider asked for has passed: served (before: cooled for 60 s).
        api.Time.Advance(TimeSpan.FromMilliseconds(500));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(client)).Status);
        Assert.Equal(2, fake.Requests.Count);
    }

    [Fact]
    public async Task Without_a_hint_the_cool_down_starts_at_a_second_doubles_on_each_repeat_and_resets_on_success()
    {
        var (api, fake, client) = await StartAsync();
        await using var _ = api;
        await using var __ = fake;
        using var ___ = client;

        fake.Enqueue(RateLimited(), RateLimited(), RateLimited());
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 1, "provider_rate_limited"), await CallAsync(client));
        api.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 2, "provider_rate_limited"), await CallAsync(client));
        api.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 1, "provider_rate_limited"), await CallAsync(client)); // 1 s of 2 left
        Assert.Equal(2, fake.Requests.Count);
        api.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 4, "provider_rate_limited"), await CallAsync(client));
        api.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(client)).Status);

        // A success forgets the back-off: the next 429 without a hint is a second again.
        fake.Enqueue(RateLimited());
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 1, "provider_rate_limited"), await CallAsync(client));
    }

    [Fact]
    public async Task An_http_date_is_honoured_and_an_overlong_retry_after_is_capped()
    {
        var (api, fake, client) = await StartAsync(configure: f => f.Settings["AigneHub:Routing:Cooldown:MaxCooldown"] = "00:00:10");
        await using var _ = api;
        await using var __ = fake;
        using var ___ = client;

        var date = (api.Time.GetUtcNow() + TimeSpan.FromSeconds(3)).ToString("r", CultureInfo.InvariantCulture);
        fake.Enqueue(RateLimited(("retry-after", date)));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 3, "provider_rate_limited"), await CallAsync(client));
        api.Time.Advance(TimeSpan.FromSeconds(3));

        // A day asked, ten seconds configured: ten seconds.
        fake.Enqueue(RateLimited(("retry-after", "86400")));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 10, "provider_rate_limited"), await CallAsync(client));
        api.Time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await CallAsync(client)).Status);
        api.Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(client)).Status);
        Assert.Equal(3, fake.Requests.Count);
    }

    [Fact]
    public async Task Retry_after_ms_and_openai_reset_headers_are_read()
    {
        var (api, fake, client) = await StartAsync();
        await using var _ = api;
        await using var __ = fake;
        using var ___ = client;

        fake.Enqueue(RateLimited(("retry-after-ms", "2500")));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 3, "provider_rate_limited"), await CallAsync(client));
        api.Time.Advance(TimeSpan.FromMilliseconds(2500));

        // OpenAI's own headers: the exhausted limit's reset (the tokens one here), Go duration notation.
        fake.Enqueue(RateLimited(("x-ratelimit-remaining-requests", "12"), ("x-ratelimit-reset-requests", "120ms"),
            ("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "1m5s")));
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 65, "provider_rate_limited"), await CallAsync(client));
        api.Time.Advance(TimeSpan.FromSeconds(65));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(client)).Status);
    }

    [Fact]
    public async Task Another_credential_serves_the_call_and_the_next_ones_while_the_first_cools()
    {
        var (api, fake, client) = await StartAsync(credentials: 2);
        await using var _ = api;
        await using var __ = fake;
        using var ___ = client;

        fake.Enqueue(RateLimited(("retry-after", "30")));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(client)).Status);
        var limitedKey = fake.Requests[0].Header("authorization");
        var otherKey = fake.Requests[1].Header("authorization");
        Assert.NotEqual(limitedKey, otherKey);

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await CallAsync(client)).Status);
        }
        Assert.All(fake.Requests.Skip(1), r => Assert.Equal(otherKey, r.Header("authorization")));

        api.Time.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await CallAsync(client)).Status);
        }
        Assert.Contains(fake.Requests.Skip(6), r => r.Header("authorization") == limitedKey);
    }

    [Fact]
    public async Task A_limit_gemini_names_for_one_model_cools_only_that_model()
    {
        var fake = await FakeGemini.StartAsync();
        await using var __ = fake;
        await using var api = await ApiFactory.StartAsync<ClockedApiFactory>(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        await GatewayFixture.AddProviderAsync(client, "google", fake.BaseUrl, "gemini-test-key-0123456789", "gemini-2.5-flash", "gemini-2.5-pro");

        fake.Enqueue(new FakeReply
        {
            FailStatus = 429,
            FailMessage = "You exceeded your current quota.",
            FailDetails = JsonNode.Parse("""
                [{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaDimensions":{"location":"global","model":"gemini-2.5-flash"}}]},
                 {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"41.2s"}]
                """)!.AsArray(),
        });
        const string Flash = """{"model":"google/gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}""";
        const string Pro = """{"model":"google/gemini-2.5-pro","messages":[{"role":"user","content":"hi"}]}""";
        Assert.Equal((HttpStatusCode.ServiceUnavailable, 42, "provider_rate_limited"), await CallAsync(client, Flash));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(client, Pro)).Status);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await CallAsync(client, Flash)).Status);
        Assert.Equal(2, fake.Requests.Count);
        api.Time.Advance(TimeSpan.FromSeconds(41.2));
        Assert.Equal(HttpStatusCode.OK, (await CallAsync(client, Flash)).Status);
    }
}
