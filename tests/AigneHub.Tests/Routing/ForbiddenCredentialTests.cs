using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Data.Gateway;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Routing;

/// <summary>
/// Item 4 of the security issue: a member must not be able to switch provider credentials off by sending requests
/// whose content the provider refuses with 403. The credential's real test call (through the fake provider) decides.
/// The clock is the test's, so the breaker's one-minute windows never run out mid-test.
/// </summary>
public sealed class ForbiddenCredentialTests
{
    private const string ContentRefusal = "You may not read file-7f3a from project p-secret (see https://files.corp.internal:8443/v1/files).";

    [Fact]
    public async Task A_member_provoking_403s_with_content_on_every_rotated_key_leaves_every_credential_active()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync<ClockedApiFactory>(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await owner.CreateProviderAsync("xai", fake.BaseUrl.ToString());
        Guid[] credentials = [await owner.AddCredentialAsync(provider, "xai-key-aaaaaaaaaaaa"), await owner.AddCredentialAsync(provider, "xai-key-bbbbbbbbbbbb")];
        await owner.AddModelAsync("xai", "grok-test");
        var (_, memberKey) = await owner.CreateMemberAsync();
        using var member = api.CreateClient(memberKey);

        // Keys rotate, so two such requests reach both credentials. Each 403 is followed by that credential's own
        // test call, which the provider answers (the default reply): the content was the problem, not the key.
        for (var i = 0; i < credentials.Length; i++)
        {
            fake.Enqueue(new FakeReply { FailStatus = 403, FailMessage = ContentRefusal });
            using var refused = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("grok-test"));
            var error = (await AdminClient.ReadAsync(refused))["error"]!;
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
            Assert.Equal("provider_forbidden", (string?)error["code"]);
        }

        foreach (var id in credentials)
        {
            var row = await RoutingTests.CredentialAsync(api, id);
            Assert.Equal(CredentialStatus.Active, row.Status);
        }
        // Two calls with content, two one-token test calls, one per key.
        var pings = fake.Requests.Where(r => (int?)r.RequiredBody["max_tokens"] == 1 || (int?)r.RequiredBody["max_completion_tokens"] == 1).ToList();
        Assert.Equal(4, fake.Requests.Count);
        Assert.Equal(2, pings.Count);
        Assert.Equal(["Bearer xai-key-aaaaaaaaaaaa", "Bearer xai-key-bbbbbbbbbbbb"], pings.Select(p => p.Header("Authorization")).Order());

        // Everyone else keeps being served.
        using var ok = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("grok-test"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task Repeated_content_403s_pause_only_that_credential_and_model_for_a_while()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync<ClockedApiFactory>(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await owner.CreateProviderAsync("xai", fake.BaseUrl.ToString());
        var credential = await owner.AddCredentialAsync(provider, "xai-key-cccccccccccc");
        await owner.AddModelAsync("xai", "grok-test");
        var (_, memberKey) = await owner.CreateMemberAsync();
        using var member = api.CreateClient(memberKey);

        // The first 403 is followed by the test call (answered); the next ones within the minute are only counted.
        fake.Enqueue(new FakeReply { FailStatus = 403, FailMessage = ContentRefusal }, new FakeReply());
        for (var i = 1; i < 5; i++)
        {
            fake.Enqueue(new FakeReply { FailStatus = 403, FailMessage = ContentRefusal });
        }
        for (var i = 0; i < 5; i++)
        {
            using var refused = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("xai/grok-test"));
            Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        }
        Assert.Equal(6, fake.Requests.Count);

        // Five within the minute: this credential is paused for this model. The provider is not even asked.
        using var paused = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("xai/grok-test"));
        Assert.Equal(HttpStatusCode.BadGateway, paused.StatusCode);
        Assert.Equal("provider_forbidden", (string?)(await AdminClient.ReadAsync(paused))["error"]!["code"]);
        Assert.Equal(6, fake.Requests.Count);

        // Another model on the same credential is served; the credential was never deactivated.
        using var other = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("xai/grok-other"));
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(CredentialStatus.Active, (await RoutingTests.CredentialAsync(api, credential)).Status);

        // The pause ends by itself.
        api.Time.Advance(TimeSpan.FromMinutes(1));
        using var again = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("xai/grok-test"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task A_403_that_the_credentials_own_test_call_reproduces_deactivates_it_and_a_401_does_at_once()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync<ClockedApiFactory>(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var forbidden = await owner.CreateProviderAsync("xai", fake.BaseUrl.ToString());
        var revoked = await owner.AddCredentialAsync(forbidden, "xai-key-dddddddddddd");
        var unauthorized = await owner.CreateProviderAsync("poe", fake.BaseUrl.ToString());
        var invalid = await owner.AddCredentialAsync(unauthorized, "poe-key-eeeeeeeeeeee");
        var (_, memberKey) = await owner.CreateMemberAsync();
        using var member = api.CreateClient(memberKey);

        // The key itself is refused: the call and the test call both get 403.
        fake.Enqueue(new FakeReply { FailStatus = 403, FailMessage = "This key has been disabled." },
            new FakeReply { FailStatus = 403, FailMessage = "This key has been disabled." });
        using var first = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("xai/grok-test"));
        Assert.Equal(HttpStatusCode.BadGateway, first.StatusCode);
        var row = await RoutingTests.CredentialAsync(api, revoked);
        Assert.Equal(CredentialStatus.Inactive, row.Status);
        Assert.Contains("test call was refused too", row.LastError);
        Assert.Equal(2, fake.Requests.Count);

        // A 401 needs no second opinion.
        fake.Enqueue(new FakeReply { FailStatus = 401 });
        using var second = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("poe/some-model"));
        Assert.Equal(HttpStatusCode.BadGateway, second.StatusCode);
        Assert.Equal(CredentialStatus.Inactive, (await RoutingTests.CredentialAsync(api, invalid)).Status);
        Assert.Equal(3, fake.Requests.Count);
    }

    private static JsonObject Chat(string model) => new()
    {
        ["model"] = model,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "summarise file-7f3a" }),
    };
}
