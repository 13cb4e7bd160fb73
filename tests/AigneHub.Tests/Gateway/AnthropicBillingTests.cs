using System.Net.Http.Json;
using System.Text;
using Anthropic;
using Anthropic.Core;
using Anthropic.Models.Messages;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Money through the Anthropic ingress (credit billing on), with the official SDK: cached prompt tokens are charged
/// once whether Anthropic's usage arrives in the answer, in <c>message_start</c> only, or in
/// <c>message_start</c> and again in full in <c>message_delta</c>; an alias is charged at the rate of the target
/// that served it. Each expected charge is worked out here from what the fake reported and the rates.
/// </summary>
public sealed class AnthropicBillingTests(ITestOutputHelper output)
{
    private const decimal InputRate = 0.001m;
    private const decimal OutputRate = 0.002m;
    private const decimal CacheReadRate = 0.0001m;
    private const decimal CacheWriteRate = 0.00125m;

    private static AnthropicClient Sdk(BillingHost host, string key)
    {
        using var http = host.Api.CreateClient(bearer: null);
        return new(new ClientOptions { BaseUrl = new Uri(http.BaseAddress!, "api/v2/anthropic").ToString(), ApiKey = key, MaxRetries = 0 });
    }

    [Fact]
    public async Task Count_tokens_rate_limited_on_one_credential_is_counted_by_the_next_and_is_never_a_call()
    {
        await using var fake = await FakeAnthropic.StartAsync();
        await using var host = await BillingHost.StartAsync();
        using var owner = host.Owner;
        var provider = await GatewayFixture.AddProviderAsync(owner, "anthropic", fake.BaseUrl, "sk-ant-count-first-000000", "claude-count");
        await owner.AddCredentialAsync(provider, "sk-ant-count-second-00000", weight: 100);
        fake.Enqueue(new FakeReply { FailStatus = 429, FailMessage = "rate limited", FailHeaders = new Dictionary<string, string> { ["retry-after"] = "30" } });
        fake.Enqueue(new FakeReply { InputTokens = 4321 });
        var (_, key) = await owner.CreateMemberAsync();

        var counted = await Sdk(host, key).Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "anthropic/claude-count",
            Messages = [new UserMessageParam { Content = "count me" }],
        });

        // Anthropic's own count, from the second credential: not the hub's estimate (a few tokens for "count me").
        Assert.Equal(4321, counted.InputTokens);
        var keys = fake.Requests.Select(r => r.Header("x-api-key")).ToList();
        Assert.Equal(2, keys.Count);
        Assert.NotEqual(keys[0], keys[1]);
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM aignehub.model_calls"));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task Cache_writes_and_reads_from_anthropic_are_charged_once(bool stream, bool fullDeltaUsage)
    {
        await using var fake = await FakeAnthropic.StartAsync();
        fake.FullDeltaUsage = fullDeltaUsage;
        await using var host = await BillingHost.StartAsync();
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "anthropic", fake.BaseUrl, "sk-ant-billing-0123456789", "claude-cached");
        await host.AddRateAsync(new ModelTarget(ProviderKinds.Anthropic, null, fake.BaseUrl, "claude-cached", ModelType.Chat), "0.001", "0.002",
            ""","cacheReadRate":"0.0001","cacheWriteRate":"0.00125" """);
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "1000");
        // Anthropic's input_tokens (10) exclude the cache write (2000) and the cache read (40000).
        fake.Enqueue(new FakeReply { Text = "cached answer", InputTokens = 10, CacheCreationInputTokens = 2000, CacheReadInputTokens = 40000, OutputTokens = 3 });
        var expected = 10 * InputRate + 2000 * CacheWriteRate + 40000 * CacheReadRate + 3 * OutputRate;

        var parameters = new MessageCreateParams
        {
            Model = "anthropic/claude-cached",
            MaxTokens = 50,
            System = new List<TextBlockParam> { new("A long, cached system prompt.") { CacheControl = new CacheControlEphemeral() } },
            Messages = [new UserMessageParam { Content = "hi" }],
        };
        if (stream)
        {
            await foreach (var _ in Sdk(host, key).Messages.CreateStreaming(parameters))
            {
            }
        }
        else
        {
            var message = await Sdk(host, key).Messages.Create(parameters);
            Assert.Equal((10, 2000L, 40000L), (message.Usage.InputTokens, message.Usage.CacheCreationInputTokens, message.Usage.CacheReadInputTokens));
        }

        var call = (await host.SettledCallsAsync(member)).OrderByDescending(c => c.CreatedAt).First();
        output.WriteLine($"stream={stream} fullDelta={fullDeltaUsage}: charged {call.Credits}, expected {expected}");
        Assert.Equal((42010, 2000, 40000, 3), (call.PromptTokens, call.CacheCreationTokens, call.CacheReadTokens, call.CompletionTokens));
        Assert.False(call.Estimated);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await host.DebitsAsync(member));
        // The provider got the caller's one output limit (the reservation assumed it).
        Assert.Equal(50, (int?)fake.LastRequest.RequiredBody["max_tokens"]);
    }

    [Fact]
    public async Task An_alias_is_charged_at_the_rate_of_the_target_that_served_it_and_recorded_under_both_names()
    {
        await using var fake = await FakeAnthropic.StartAsync();
        await using var host = await BillingHost.StartAsync();
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "anthropic", fake.BaseUrl, "sk-ant-billing-0123456789", "claude-rated");
        await host.AddRateAsync(new ModelTarget(ProviderKinds.Anthropic, null, fake.BaseUrl, "claude-rated", ModelType.Chat), "0.001", "0.002");
        await host.AddRateAsync(new ModelTarget(ProviderKinds.Anthropic, null, fake.BaseUrl, "claude-opus-9", ModelType.Chat), "0.01", "0.05");
        using (var created = await owner.PostAsJsonAsync("/api/admin/aliases", new { alias = "team-model", targets = new[] { "anthropic/claude-rated" } }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "1000");

        // An exact alias, and the built-in pattern claude-* (anthropic/<same name>), each at its target's rate.
        fake.Enqueue(new FakeReply { InputTokens = 100, OutputTokens = 20 }, new FakeReply { InputTokens = 100, OutputTokens = 20 });
        await Sdk(host, key).Messages.Create(new MessageCreateParams { Model = "team-model", MaxTokens = 50, Messages = [new UserMessageParam { Content = "hi" }] });
        var first = (await host.SettledCallsAsync(member)).OrderByDescending(c => c.CreatedAt).First();
        await Sdk(host, key).Messages.Create(new MessageCreateParams { Model = "claude-opus-9", MaxTokens = 50, Messages = [new UserMessageParam { Content = "hi" }] });
        var calls = await host.SettledCallsAsync(member, 2);
        var second = calls.Single(c => c.Id != first.Id);

        Assert.Equal(("team-model", "anthropic", "claude-rated"), (first.RequestedModel, first.Provider, first.Model));
        Assert.Equal(100 * 0.001m + 20 * 0.002m, first.Credits);
        Assert.Equal(("claude-opus-9", "anthropic", "claude-opus-9"), (second.RequestedModel, second.Provider, second.Model));
        Assert.Equal(100 * 0.01m + 20 * 0.05m, second.Credits);
        Assert.Equal(["claude-rated", "claude-opus-9"], fake.Requests.Select(r => (string?)r.RequiredBody["model"]));
    }
}
