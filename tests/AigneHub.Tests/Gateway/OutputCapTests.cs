using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Data;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// The provider is held to the output cap the reservation assumed: whatever fields the caller wrote, the provider
/// receives exactly one cap, in the field it reads, equal to min(the caller's cap, the reserved cap) — on the
/// pass-through and the translated paths, JSON and streamed.
/// </summary>
public sealed class OutputCapTests : IAsyncLifetime
{
    /// <summary>The cap billing reserves when the caller sets none.</summary>
    private const int DefaultCap = 64;

    private BillingHost _host = null!;
    private FakeOpenAI _openAi = null!;
    private FakeAnthropic _anthropic = null!;
    private FakeGemini _gemini = null!;
    private string _key = null!;

    public async Task InitializeAsync()
    {
        _openAi = await FakeOpenAI.StartAsync();
        _anthropic = await FakeAnthropic.StartAsync();
        _gemini = await FakeGemini.StartAsync();
        _host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:DefaultMaxOutputTokens"] = DefaultCap.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var owner = _host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", _openAi.BaseUrl, "sk-test-cap-openai-0123456789", "gpt-4o-mini");
        await GatewayFixture.AddProviderAsync(owner, "deepseek", _openAi.BaseUrl, "sk-test-cap-deepseek-0123456789", "deepseek-chat");
        await GatewayFixture.AddProviderAsync(owner, "anthropic", _anthropic.BaseUrl, "sk-ant-test-cap-0123456789", "claude-sonnet-4");
        await GatewayFixture.AddProviderAsync(owner, "google", _gemini.BaseUrl, "gemini-test-cap-0123456789", "gemini-2.5-flash");
        foreach (var (kind, model) in new[] { (ProviderKinds.OpenAI, "gpt-4o-mini"), (ProviderKinds.DeepSeek, "deepseek-chat"), (ProviderKinds.Anthropic, "claude-sonnet-4"), (ProviderKinds.Google, "gemini-2.5-flash") })
        {
            await _host.AddRateAsync(new(kind, null, _openAi.BaseUrl, model, ModelType.Chat), "0.001", "0.002");
        }
        var (member, key) = await owner.CreateMemberAsync();
        await _host.GrantAsync(member, "1000");
        _key = key;
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _openAi.DisposeAsync();
        await _anthropic.DisposeAsync();
        await _gemini.DisposeAsync();
    }

    [Theory]
    [InlineData("deepseek/deepseek-chat", false, ""","max_completion_tokens":1,"max_tokens":8192""", "max_tokens", 1)]
    [InlineData("deepseek/deepseek-chat", true, ""","max_completion_tokens":1,"max_tokens":8192""", "max_tokens", 1)]
    [InlineData("deepseek/deepseek-chat", false, ""","max_tokens":8192,"max_completion_tokens":3""", "max_tokens", 3)]
    [InlineData("openai/gpt-4o-mini", false, ""","max_completion_tokens":1,"max_tokens":8192""", "max_completion_tokens", 1)]
    [InlineData("openai/gpt-4o-mini", true, ""","max_tokens":2""", "max_completion_tokens", 2)]
    [InlineData("deepseek/deepseek-chat", false, "", "max_tokens", DefaultCap)]
    [InlineData("deepseek/deepseek-chat", true, "", "max_tokens", DefaultCap)]
    [InlineData("openai/gpt-4o-mini", false, "", "max_completion_tokens", DefaultCap)]
    public async Task An_openai_compatible_provider_receives_exactly_one_cap_in_its_field(string model, bool stream, string caps, string field, int expected)
    {
        var received = await SendAsync(_openAi, "/api/v2/chat/completions",
            $$"""{"model":"{{model}}","stream":{{(stream ? "true" : "false")}}{{caps}},"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(expected, (int?)received[field]);
        var other = field == "max_tokens" ? "max_completion_tokens" : "max_tokens";
        Assert.False(received.ContainsKey(other), $"{other} must not reach the provider: {received.ToJsonString()}");
    }

    [Fact]
    public async Task The_aigne_route_holds_a_translated_provider_to_the_callers_cap()
    {
        var received = await SendAsync(_openAi, "/api/v2/chat",
            """{"input":{"modelOptions":{"model":"deepseek/deepseek-chat","maxTokens":5},"messages":[{"role":"user","content":"hi"}]}}""");

        Assert.Equal(5, (int?)received["max_tokens"]);
        Assert.False(received.ContainsKey("max_completion_tokens"));
    }

    [Fact]
    public async Task An_anthropic_target_receives_the_smaller_of_the_callers_two_fields_as_its_only_cap()
    {
        var received = await SendAsync(_anthropic, "/api/v2/chat/completions",
            """{"model":"anthropic/claude-sonnet-4","max_completion_tokens":1,"max_tokens":8192,"messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(1, (int?)received["max_tokens"]);
    }

    [Fact]
    public async Task A_gemini_target_without_a_caller_cap_receives_the_reserved_cap()
    {
        var received = await SendAsync(_gemini, "/api/v2/chat/completions",
            """{"model":"google/gemini-2.5-flash","messages":[{"role":"user","content":"hi"}]}""");

        Assert.Equal(DefaultCap, (int?)received["generationConfig"]?["maxOutputTokens"]);
    }

    private async Task<JsonObject> SendAsync(FakeProvider fake, string path, string body)
    {
        var before = fake.Requests.Count;
        using var client = _host.Api.CreateClient(_key);
        using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return fake.Requests.Skip(before).Single().RequiredBody.AsObject();
    }
}
