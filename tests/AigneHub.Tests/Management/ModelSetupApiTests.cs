using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Management;

/// <summary>The routes behind the Admin's Models page and live provider health, against a real Api and a fake OpenAI.</summary>
public sealed class ModelSetupApiTests
{
    private const string Model = "gpt-4o-mini";

    [Fact]
    public async Task Servable_names_each_missing_piece_until_the_gateway_serves_the_model()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync(configure: f =>
        {
            f.Settings["AigneHub:Billing:Enabled"] = "true";
            f.Settings["AigneHub:Providers:Demo:Enabled"] = "false";
        });
        using var owner = api.CreateClient(ApiFactory.OwnerKey);

        var provider = await owner.CreateProviderAsync("openai", fake.BaseUrl.ToString(), enabled: false);
        var modelId = await owner.AddModelAsync("openai", Model);
        var missing = await MissingAsync(owner, modelId);
        Assert.Equal(3, missing.Count);
        Assert.Contains("provider openai is disabled", missing[0]);
        Assert.Contains("no active credential for openai", missing[1]);
        Assert.Contains("no rate while credit billing is on", missing[2]);

        using (var enable = await owner.PutAsJsonAsync($"/api/admin/providers/{provider}", new { enabled = true }))
        {
            Assert.Equal(HttpStatusCode.OK, enable.StatusCode);
        }
        await owner.AddCredentialAsync(provider, "sk-setup-test-0123456789");
        var onlyRate = Assert.Single(await MissingAsync(owner, modelId));
        Assert.Contains("no rate", onlyRate);

        // The reason is the gateway's own: the same model is refused, and the refusal says the rate is missing.
        var ownerId = (await AdminClient.ReadAsync(await owner.GetAsync("/api/v2/me")))["id"]!.GetValue<Guid>();
        using (var grant = await owner.PostAsJsonAsync($"/api/admin/users/{ownerId}/credits/grants", new { amount = "50", category = "paid" }))
        {
            Assert.True(grant.IsSuccessStatusCode, await grant.Content.ReadAsStringAsync());
        }
        using (var refused = await owner.PostAsJsonAsync("/api/v2/chat/completions", Chat()))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("no rate is set for openai/gpt-4o-mini", await refused.Content.ReadAsStringAsync());
        }

        using (var rate = await owner.PostAsJsonAsync("/api/admin/model-rates", new { provider = "openai", model = Model, type = "chat", inputRate = "0.001", outputRate = "0.002" }))
        {
            Assert.True(rate.IsSuccessStatusCode, await rate.Content.ReadAsStringAsync());
        }
        var row = await RowAsync(owner, modelId);
        Assert.True(row["servable"]!.GetValue<bool>());
        Assert.Empty(row["missing"]!.AsArray());
        Assert.Equal("0.001", row["inputRate"]!.GetValue<string>());
        using (var served = await owner.PostAsJsonAsync("/api/v2/chat/completions", Chat()))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using (var disable = await owner.PutAsJsonAsync($"/api/admin/models/{modelId}", new { enabled = false }))
        {
            Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        }
        Assert.Equal("the catalogue entry is disabled", Assert.Single(await MissingAsync(owner, modelId)));
    }

    [Fact]
    public async Task The_test_call_and_the_providers_model_list_use_its_active_credential_and_leave_no_call_record()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        fake.ListedModels = ["gpt-b", "gpt-a", "gpt-b"];
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await owner.CreateProviderAsync("openai", fake.BaseUrl.ToString());

        var none = await AdminClient.ReadAsync(await owner.GetAsync($"/api/admin/providers/{provider}/upstream-models"));
        Assert.Empty(none["models"]!.AsArray());
        Assert.Contains("no active credential", none["error"]!.GetValue<string>());

        await owner.AddCredentialAsync(provider, "sk-listing-0123456789");
        var listed = await AdminClient.ReadAsync(await owner.GetAsync($"/api/admin/providers/{provider}/upstream-models"));
        Assert.Equal(["gpt-a", "gpt-b"], listed["models"]!.AsArray().Select(m => m!.GetValue<string>()));
        Assert.Equal("Bearer sk-listing-0123456789", fake.LastRequest.Header("Authorization"));
        Assert.Equal("/v1/models", fake.LastRequest.Path);

        var modelId = await owner.AddModelAsync("openai", Model);
        using var test = await owner.PostAsync($"/api/admin/models/{modelId}/test", null);
        var result = await AdminClient.ReadAsync(test);
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal(Model, (string?)fake.LastRequest.RequiredBody["model"]);
        var calls = await AdminClient.ReadAsync(await owner.GetAsync("/api/admin/model-calls"));
        Assert.Equal(0, calls["total"]!.GetValue<long>());

        fake.Enqueue(new FakeReply { FailStatus = 404, FailMessage = "The model `gpt-4o-mini` does not exist." });
        var failed = await AdminClient.ReadAsync(await owner.PostAsync($"/api/admin/models/{modelId}/test", null));
        Assert.False(failed["ok"]!.GetValue<bool>());
        Assert.Contains("does not exist", failed["error"]!.GetValue<string>());

        await AdminClient.AssertErrorAsync(await owner.PostAsync($"/api/admin/models/{Guid.NewGuid()}/test", null), HttpStatusCode.NotFound, null, "not_found_error");
        await AdminClient.AssertErrorAsync(await owner.GetAsync($"/api/admin/providers/{Guid.NewGuid()}/upstream-models"), HttpStatusCode.NotFound, null, "not_found_error");
    }

    [Fact]
    public async Task A_rate_limited_provider_shows_as_cooling_with_time_left_its_429s_and_its_last_error_without_hosts()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await owner.CreateProviderAsync("openai", fake.BaseUrl.ToString());
        var credential = await owner.AddCredentialAsync(provider, "sk-cooling-0123456789");
        var modelId = await owner.AddModelAsync("openai", Model);

        var healthy = await ProviderAsync(owner, provider);
        Assert.Equal("ok", healthy["status"]!.GetValue<string>());
        Assert.Equal("active", healthy["credentials"]![0]!["status"]!.GetValue<string>());

        fake.Enqueue(new FakeReply { FailStatus = 429, FailMessage = "Rate limit reached; see http://10.0.0.7:8080/limits" });
        using (var limited = await owner.PostAsJsonAsync("/api/v2/chat/completions", Chat()))
        {
            Assert.False(limited.IsSuccessStatusCode);
        }

        var cooling = await ProviderAsync(owner, provider);
        Assert.Equal("cooling", cooling["status"]!.GetValue<string>());
        var row = cooling["credentials"]!.AsArray().Single(c => c!["id"]!.GetValue<Guid>() == credential)!;
        Assert.Equal("cooling", row["status"]!.GetValue<string>());
        // The pool's cool-down is 60 s and only moments have passed: somewhere in (0, 60].
        Assert.InRange(row["coolingSecondsLeft"]!.GetValue<int>(), 1, 60);
        Assert.Equal(1, cooling["recentRateLimited"]!.GetValue<int>());
        var lastError = cooling["lastError"]!.GetValue<string>();
        Assert.Contains("Rate limit reached", lastError);
        Assert.DoesNotContain("10.0.0.7", lastError);

        // And the Models page says why a call would fail right now.
        Assert.Contains(await MissingAsync(owner, modelId), m => m.Contains("rate limited, cooling down for"));
    }

    private static JsonObject Chat() => new()
    {
        ["model"] = $"openai/{Model}",
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
    };

    private static async Task<JsonNode> RowAsync(HttpClient owner, Guid modelId)
    {
        var setup = await AdminClient.ReadAsync(await owner.GetAsync("/api/admin/models/servable"));
        return setup["models"]!.AsArray().Single(m => (string?)m!["id"] == modelId.ToString())!;
    }

    private static async Task<List<string>> MissingAsync(HttpClient owner, Guid modelId) =>
        [.. (await RowAsync(owner, modelId))["missing"]!.AsArray().Select(m => m!.GetValue<string>())];

    private static async Task<JsonNode> ProviderAsync(HttpClient owner, Guid providerId)
    {
        var health = await AdminClient.ReadAsync(await owner.GetAsync("/api/admin/providers/health"));
        Assert.Equal(15, health["windowMinutes"]!.GetValue<int>());
        return health["providers"]!.AsArray().Single(p => p!["id"]!.GetValue<Guid>() == providerId)!;
    }
}
