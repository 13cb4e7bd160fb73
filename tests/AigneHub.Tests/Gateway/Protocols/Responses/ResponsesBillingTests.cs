using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AigneHub.Tests.Gateway.Protocols.Responses;

/// <summary>
/// Responses calls with credit billing on: the charge follows from the usage the provider reported, in its own
/// convention, times the rate; one output cap reaches the provider; a stored response goes with its call record.
/// </summary>
public sealed class ResponsesBillingTests
{
    private const decimal InputRate = 0.001m;
    private const decimal OutputRate = 0.002m;
    private const decimal CacheReadRate = 0.0001m;

    /// <summary>The cap billing reserves for (and holds the provider to) when the caller sets none.</summary>
    private const int DefaultCap = 300;

    private static async Task<(BillingHost Host, FakeProvider Fake, string Model, HttpClient Client, Guid Member)> StartAsync(string provider)
    {
        FakeProvider fake = provider == "anthropic" ? await FakeAnthropic.StartAsync() : await FakeOpenAI.StartAsync();
        var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:DefaultMaxOutputTokens"] = DefaultCap.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (kind, model) = provider == "anthropic" ? (ProviderKinds.Anthropic, "claude-test") : (ProviderKinds.OpenAI, "gpt-test");
        using (var owner = host.Owner)
        {
            await GatewayFixture.AddProviderAsync(owner, provider, fake.BaseUrl, "sk-test-responses-0123456789", model);
            await host.AddRateAsync(new ModelTarget(kind, null, fake.BaseUrl, model, ModelType.Chat), "0.001", "0.002", ""","cacheReadRate":"0.0001" """);
            var (member, key) = await owner.CreateMemberAsync();
            await host.GrantAsync(member, "100");
            return (host, fake, $"{provider}/{model}", host.Api.CreateClient(key), member);
        }
    }

    public static TheoryData<string, bool> Cases => new() { { "openai", false }, { "openai", true }, { "anthropic", false }, { "anthropic", true } };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task The_charge_is_the_providers_usage_times_the_rate(string provider, bool stream)
    {
        var (host, fake, model, client, member) = await StartAsync(provider);
        await using var _ = host;
        await using var __ = fake;
        using var ___ = client;
        // OpenAI's Responses usage: input_tokens 30 INCLUDES cached_tokens 10; output_tokens 5 includes reasoning 3.
        // Anthropic's: input_tokens 20 EXCLUDES cache_read_input_tokens 10.
        var (reply, expected) = provider == "openai"
            ? (new FakeReply { Text = "ok", InputTokens = 30, CacheReadInputTokens = 10, OutputTokens = 5, ReasoningTokens = 3 },
                20 * InputRate + 10 * CacheReadRate + 5 * OutputRate)
            : (new FakeReply { Text = "ok", InputTokens = 20, CacheReadInputTokens = 10, OutputTokens = 5 },
                20 * InputRate + 10 * CacheReadRate + 5 * OutputRate);
        fake.Enqueue(reply);

        using var response = await client.PostAsync("/api/v2/responses",
            Json($$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}},"input":"hi"}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);

        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.False(call.Estimated);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Theory]
    [InlineData("openai", null, DefaultCap)]
    [InlineData("openai", 50, 50)]
    [InlineData("openai", 1000, 1000)]
    [InlineData("anthropic", null, DefaultCap)]
    [InlineData("anthropic", 50, 50)]
    public async Task Exactly_one_output_cap_reaches_the_provider(string provider, int? callerCap, int expected)
    {
        var (host, fake, model, client, _) = await StartAsync(provider);
        await using var _h = host;
        await using var _f = fake;
        using var _c = client;
        var cap = callerCap is int c ? $",\"max_output_tokens\":{c}" : "";
        using var response = await client.PostAsync("/api/v2/responses", Json($$"""{"model":"{{model}}","input":"hi"{{cap}}}"""));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var sent = fake.LastRequest.RequiredBody.AsObject();
        var caps = sent.Where(p => p.Key is "max_output_tokens" or "max_tokens" or "max_completion_tokens").ToList();
        Assert.Equal(expected, (int)Assert.Single(caps).Value!);
    }

    [Fact]
    public async Task A_stored_response_goes_with_its_call_record_when_retention_deletes_it()
    {
        var (host, fake, model, client, _) = await StartAsync("anthropic");
        await using var _h = host;
        await using var _f = fake;
        using var _c = client;
        using var created = await client.PostAsync("/api/v2/responses", Json($$"""{"model":"{{model}}","input":"remember me"}"""));
        var id = (string)JsonNode.Parse(await created.Content.ReadAsStringAsync())!["id"]!;
        using (var kept = await client.GetAsync($"/api/v2/responses/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }

        // The Worker's retention job deletes settled calls older than the cutoff; a cutoff in the future takes this one
        // (once it is settled: the settlement may still be committing after the answer).
        await host.Api.WaitForSettlementsAsync();
        var database = host.Api.Services.GetRequiredService<NpgsqlDataSource>();
        Assert.True(await BillingSql.DeleteCallsBeforeAsync(database, DateTimeOffset.UtcNow.AddDays(1), 100, CancellationToken.None) >= 1);

        using var gone = await client.GetAsync($"/api/v2/responses/{id}");
        await ResponsesSdkTests.AssertOpenAiErrorAsync(gone, HttpStatusCode.NotFound);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
