using System.Text;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Gateway;
using AigneHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AigneHub.Tests.Billing;

/// <summary>
/// Cached prompt tokens are charged once, at the cache rate, for every provider's reporting convention, JSON and
/// streamed: the charge is fresh input × input rate + cache reads × read rate + cache writes × write rate + output ×
/// output rate. Each expected amount is worked out here from what the fake provider reported, in that provider's
/// own terms (OpenAI and DeepSeek count cached tokens inside the prompt, Anthropic beside it, Gemini inside it).
/// </summary>
public sealed class CachedPromptBillingTests(ITestOutputHelper output)
{
    private const decimal InputRate = 0.001m;
    private const decimal OutputRate = 0.002m;
    private const decimal CacheReadRate = 0.0001m;
    private const decimal CacheWriteRate = 0.00125m;

    public static TheoryData<string, bool> Cases() => new()
    {
        { "openai", false }, { "openai", true },
        { "openai-large-cache", false },
        { "deepseek", false }, { "deepseek", true },
        { "anthropic", false }, { "anthropic", true },
        { "google", false }, { "google", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Cached_prompt_tokens_are_charged_once_at_the_cache_rate(string scenario, bool stream)
    {
        // What the provider reports, and the charge that follows from its documented convention.
        var (provider, kind, model, reply, expected) = scenario switch
        {
            // OpenAI: prompt_tokens 6 includes prompt_tokens_details.cached_tokens 2.
            "openai" => ("openai", ProviderKinds.OpenAI, "gpt-4o-mini",
                new FakeReply { InputTokens = 6, CacheReadInputTokens = 2, OutputTokens = 3 },
                4 * InputRate + 2 * CacheReadRate + 3 * OutputRate),
            // A large cached prompt: 100k read from the cache, 2k fresh.
            "openai-large-cache" => ("openai", ProviderKinds.OpenAI, "gpt-4o-mini",
                new FakeReply { InputTokens = 102_000, CacheReadInputTokens = 100_000, OutputTokens = 10 },
                2_000 * InputRate + 100_000 * CacheReadRate + 10 * OutputRate),
            // DeepSeek: prompt_tokens 6 = prompt_cache_hit_tokens 2 + prompt_cache_miss_tokens 4.
            "deepseek" => ("deepseek", ProviderKinds.DeepSeek, "deepseek-chat",
                new FakeReply { InputTokens = 6, CacheReadInputTokens = 2, OutputTokens = 3, DeepSeekCacheFields = true },
                4 * InputRate + 2 * CacheReadRate + 3 * OutputRate),
            // Anthropic: input_tokens 10 EXCLUDES cache_creation_input_tokens 2 and cache_read_input_tokens 4.
            "anthropic" => ("anthropic", ProviderKinds.Anthropic, "claude-test",
                new FakeReply { InputTokens = 10, CacheCreationInputTokens = 2, CacheReadInputTokens = 4, OutputTokens = 3 },
                10 * InputRate + 2 * CacheWriteRate + 4 * CacheReadRate + 3 * OutputRate),
            // Gemini: promptTokenCount 30 includes cachedContentTokenCount 20; thinking tokens (10) are billed as output.
            "google" => ("google", ProviderKinds.Google, "gemini-test",
                new FakeReply { InputTokens = 30, CacheReadInputTokens = 20, OutputTokens = 4, ReasoningTokens = 10 },
                10 * InputRate + 20 * CacheReadRate + (4 + 10) * OutputRate),
            _ => throw new ArgumentOutOfRangeException(nameof(scenario)),
        };

        await using FakeProvider fake = provider switch
        {
            "anthropic" => await FakeAnthropic.StartAsync(),
            "google" => await FakeGemini.StartAsync(),
            _ => await FakeOpenAI.StartAsync(),
        };
        await using var host = await BillingHost.StartAsync();
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, provider, fake.BaseUrl, "sk-test-cache-0123456789", model);
        await host.AddRateAsync(new ModelTarget(kind, null, fake.BaseUrl, model, ModelType.Chat), "0.001", "0.002",
            ""","cacheReadRate":"0.0001","cacheWriteRate":"0.00125" """);
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "1000");
        fake.Enqueue(reply);

        using var client = host.Api.CreateClient(key);
        using var response = await client.PostAsync("/api/v2/chat/completions", new StringContent(
            $$"""{"model":"{{provider}}/{{model}}","stream":{{(stream ? "true" : "false")}},"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}""",
            Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);

        var call = await host.WaitForSettledAsync(member);
        output.WriteLine($"{scenario} stream={stream}: charged {call.Credits}, expected {expected}");
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.False(call.Estimated);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await host.DebitsAsync(member));
        Assert.Equal(1000m - expected, (await host.AccountAsync(member)).Balance);
    }
}
