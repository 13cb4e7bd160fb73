using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// One Api (credit billing off: these tests are about the gateway, money has its own) and two fake
/// OpenAI-compatible providers, configured the way an admin would: through the admin REST API.
/// <c>openai</c> → <see cref="Primary"/>, <c>deepseek</c> → <see cref="Secondary"/>; the catalogue lists
/// <c>shared-model</c> on both (openai first) for failover tests; <c>anthropic</c> and <c>google</c> point at fakes
/// of their own wire formats, so the OpenAI SDK's calls are translated both ways.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string ProviderKey = "sk-test-primary-0123456789";
    public const string SecondaryKey = "sk-test-secondary-9876543210";

    public static readonly string[] FaultProviders = ["xai", "openrouter", "poe", "doubao"];

    public ApiFactory Api { get; private set; } = null!;

    public FakeOpenAI Primary { get; private set; } = null!;

    public FakeOpenAI Secondary { get; private set; } = null!;

    public FakeAnthropic Anthropic { get; private set; } = null!;

    /// <summary>Behind <c>xai</c>, <c>openrouter</c>, <c>poe</c> and <c>doubao</c>, each with a credential of its own,
    /// so that fault tests (a 401 deactivates a credential, a 429 cools a provider down) touch nothing else.</summary>
    public FakeOpenAI Faults { get; private set; } = null!;

    public FakeGemini Gemini { get; private set; } = null!;

    public HttpClient Owner { get; private set; } = null!;

    public Uri HubBase => Owner.BaseAddress!;

    public async Task InitializeAsync()
    {
        Primary = await FakeOpenAI.StartAsync();
        Secondary = await FakeOpenAI.StartAsync();
        Anthropic = await FakeAnthropic.StartAsync();
        Faults = await FakeOpenAI.StartAsync();
        Gemini = await FakeGemini.StartAsync();
        Api = await ApiFactory.StartAsync(configure: f =>
        {
            f.Settings["AigneHub:Billing:Enabled"] = "false";
            f.Settings["AigneHub:Providers:Demo:Enabled"] = "true";
        });
        Owner = Api.CreateClient(ApiFactory.OwnerKey);

        await AddProviderAsync("openai", Primary.BaseUrl, ProviderKey, "gpt-4o-mini", "shared-model", "text-embedding-3-small:embedding", "dall-e-3:image");
        await AddProviderAsync("deepseek", Secondary.BaseUrl, SecondaryKey, "deepseek-chat", "shared-model");
        foreach (var name in FaultProviders)
        {
            await AddProviderAsync(name, Faults.BaseUrl, $"sk-test-{name}-0123456789", "fault-model");
        }
        await AddProviderAsync("anthropic", Anthropic.BaseUrl, "sk-ant-test-0123456789", "claude-sonnet-4");
        await AddProviderAsync("google", Gemini.BaseUrl, "gemini-test-key-0123456789", "gemini-2.5-flash", "text-embedding-004:embedding");
    }

    /// <summary>Creates a provider with one credential and catalogue entries (<c>model</c> or <c>model:type</c>).</summary>
    public Task<Guid> AddProviderAsync(string name, Uri baseUrl, string key, params string[] models) =>
        AddProviderAsync(Owner, name, baseUrl, key, models);

    public static async Task<Guid> AddProviderAsync(HttpClient owner, string name, Uri baseUrl, string key, params string[] models)
    {
        var id = await owner.CreateProviderAsync(name, baseUrl.ToString());
        await owner.AddCredentialAsync(id, key, weight: 100);
        foreach (var entry in models)
        {
            var parts = entry.Split(':');
            await owner.AddModelAsync(name, parts[0], parts.Length > 1 ? parts[1] : "chat");
        }
        return id;
    }

    public async Task DisposeAsync()
    {
        Owner.Dispose();
        await Api.DisposeAsync();
        await Primary.DisposeAsync();
        await Secondary.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Faults.DisposeAsync();
        await Gemini.DisposeAsync();
    }
}
