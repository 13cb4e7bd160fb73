using System.Net;
using System.Net.Http.Json;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Identity;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Management;

/// <summary>
/// Item 7 of the security issue: an admin points a provider's base URL at their own server and presses Test, and the
/// hub sends them the stored key. The "evil" server here is a real fake provider that records what reaches it.
/// </summary>
public sealed class BaseUrlChangeTests
{
    private const string Secret = "sk-real-provider-secret-000001";

    [Fact]
    public async Task An_admin_cannot_move_a_providers_base_url_and_an_owners_move_disables_the_stored_keys_until_re_entered()
    {
        await using var legit = await FakeOpenAI.StartAsync();
        await using var evil = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await owner.CreateProviderAsync("openai", legit.BaseUrl.ToString());
        var credential = await owner.AddCredentialAsync(provider, Secret);
        await owner.AddModelAsync("openai", "gpt-4o-mini");
        var (_, adminKey) = await IdentityTestClient.CreateUserWithKeyAsync(api, "admin");
        using var admin = api.CreateClient(adminKey);

        // :: An admin may edit the provider, but not where its calls (and keys) go.
        using (var moved = await admin.PutAsJsonAsync($"/api/admin/providers/{provider}", new { baseUrl = evil.BaseUrl.ToString() }))
        {
            await AdminClient.AssertErrorAsync(moved, HttpStatusCode.Forbidden, null, "permission_error");
        }
        using (var renamed = await admin.PutAsJsonAsync($"/api/admin/providers/{provider}", new { displayName = "OpenAI (prod)", baseUrl = legit.BaseUrl.ToString() }))
        {
            Assert.Equal(HttpStatusCode.OK, renamed.StatusCode); // same URL: an ordinary edit
        }
        var listed = await AdminClient.ReadAsync(await owner.GetAsync("/api/admin/providers"));
        Assert.Equal(legit.BaseUrl.ToString(), (string?)listed[0]!["baseUrl"]);
        using (var test = await admin.PostAsJsonAsync($"/api/admin/providers/{provider}/credentials/{credential}/test", new { model = "gpt-4o-mini" }))
        {
            Assert.True((bool)(await AdminClient.ReadAsync(test))["ok"]!);
        }
        Assert.Empty(evil.Requests);

        // :: The owner may move it; the stored key is disabled at once and is neither tested nor used there.
        using (var moved = await owner.PutAsJsonAsync($"/api/admin/providers/{provider}", new { baseUrl = evil.BaseUrl.ToString() }))
        {
            Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
            Assert.Equal(0, (int)(await AdminClient.ReadAsync(moved))["activeCredentialCount"]!);
        }
        var credentials = await AdminClient.ReadAsync(await owner.GetAsync($"/api/admin/providers/{provider}/credentials"));
        Assert.Equal("disabled", (string?)credentials[0]!["status"]);
        Assert.Contains("base URL changed", (string?)credentials[0]!["lastError"]);
        using (var test = await admin.PostAsJsonAsync($"/api/admin/providers/{provider}/credentials/{credential}/test", new { model = "gpt-4o-mini" }))
        {
            await AdminClient.AssertErrorAsync(test, HttpStatusCode.Conflict, null, "conflict_error");
        }
        using (var chat = await owner.PostAsJsonAsync("/api/v2/chat/completions",
            new { model = "openai/gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } }))
        {
            Assert.False(chat.IsSuccessStatusCode);
        }
        Assert.Empty(evil.Requests);

        // :: Entering the key again is a deliberate act by someone who has it: back in service at the new address.
        using (var reentered = await owner.PutAsJsonAsync($"/api/admin/providers/{provider}/credentials/{credential}", new { value = Secret }))
        {
            Assert.Equal("active", (string?)(await AdminClient.ReadAsync(reentered))["status"]);
        }
    }
}
