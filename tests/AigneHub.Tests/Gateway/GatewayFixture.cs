using System.Net.Http.Json;
using System.Text.Json.Nodes;
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

    public ApiFactory Api { get; private set; } = null!;

    public FakeOpenAI Primary { get; private set; } = null!;

    public FakeOpenAI Secondary { get; private set; } = null!;

    public FakeAnthropic Anthropic { get; private set; } = null!;

    public FakeGemini Gemini { get; private set; } = null!;

    public HttpClient Owner { get; private set; } = null!;

    public Uri HubBase => Owner.BaseAddress!;

    public async Task InitializeAsync()
    {
        Primary = await FakeOpenAI.StartAsync();
        Secondary = await FakeOpenAI.StartAsync();
        Anthropic = await FakeAnthropic.StartAsync();
        Gemini = await FakeGemini.StartAsync();
        Api = await ApiFactory.StartAsync(configure: f =>
        {
            f.Settings["AigneHub:Billing:Enabled"] = "false";
            f.Settings["AigneHub:Providers:Demo:Enabled"] = "true";
        });
        Owner = Api.CreateClient(ApiFactory.OwnerKey);

        await AddProviderAsync("openai", Primary.BaseUrl, ProviderKey, "gpt-4o-mini", "shared-model", "text-embedding-3-small:embedding", "dall-e-3:image");
        await AddProviderAsync("deepseek", Secondary.BaseUrl, SecondaryKey, "deepseek-chat", "shared-model");
        await AddProviderAsync("anthropic", Anthropic.BaseUrl, "sk-ant-test-0123456789", "claude-sonnet-4");
        await AddProviderAsync("google", Gemini.BaseUrl, "gemini-test-key-0123456789", "gemini-2.5-flash", "text-embedding-004:embedding");
    }

    /// <summary>Creates a provider with one credential and catalogue entries (<c>model</c> or <c>model:type</c>).</summary>
    public async Task<Guid> AddProviderAsync(string name, Uri baseUrl, string key, params string[] models)
    {
        var provider = await PostAsync("/api/admin/providers", new JsonObject { ["name"] = name, ["baseUrl"] = baseUrl.ToString(), ["enabled"] = true });
        var id = Guid.Parse((string)provider["id"]!);
        await PostAsync($"/api/admin/providers/{id}/credentials", new JsonObject { ["name"] = "main", ["value"] = key, ["weight"] = 100 });
        foreach (var entry in models)
        {
            var parts = entry.Split(':');
            await PostAsync("/api/admin/models", new JsonObject { ["provider"] = name, ["model"] = parts[0], ["type"] = parts.Length > 1 ? parts[1] : "chat" });
        }
        return id;
    }

    private async Task<JsonObject> PostAsync(string path, JsonObject body)
    {
        using var response = await Owner.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}: {text}");
        }
        return (JsonObject)JsonNode.Parse(text)!;
    }

    public async Task DisposeAsync()
    {
        Owner.Dispose();
        await Api.DisposeAsync();
        await Primary.DisposeAsync();
        await Secondary.DisposeAsync();
        await Anthropic.DisposeAsync();
        await Gemini.DisposeAsync();
    }
}
