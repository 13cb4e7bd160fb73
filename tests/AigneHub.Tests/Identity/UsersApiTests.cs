using System.Net;
using System.Net.Http.Json;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class UsersApiTests
{
    [Fact]
    public async Task Owner_creates_lists_and_updates_users_with_clear_validation_errors()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var email = NewEmail();

        var created = await owner.PostAsJsonAsync("/api/admin/users", new { email = email.ToUpperInvariant(), displayName = "Ann", role = "member" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var user = await ReadJsonAsync(created);
        Assert.Equal(email, user["email"]!.GetValue<string>());
        Assert.Equal("member", user["role"]!.GetValue<string>());
        var id = user["id"]!.GetValue<Guid>();

        Assert.Contains("already exists", await AssertErrorAsync(
            await owner.PostAsJsonAsync("/api/admin/users", new { email, role = "member" }), HttpStatusCode.Conflict, "conflict_error"));
        Assert.Contains("'email'", await AssertErrorAsync(
            await owner.PostAsJsonAsync("/api/admin/users", new { email = "nope", role = "member" }), HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Contains("'role'", await AssertErrorAsync(
            await owner.PostAsJsonAsync("/api/admin/users", new { email = NewEmail(), role = "emperor" }), HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Contains("'password'", await AssertErrorAsync(
            await owner.PostAsJsonAsync("/api/admin/users", new { email = NewEmail(), role = "member", password = "short" }), HttpStatusCode.BadRequest, "invalid_request_error"));
        using var garbled = new StringContent("{\"email\": 12", System.Text.Encoding.UTF8, "application/json");
        await AssertErrorAsync(await owner.PostAsync("/api/admin/users", garbled), HttpStatusCode.BadRequest, "invalid_request_error");

        var list = await owner.GetStringAsync("/api/admin/users");
        Assert.Contains(id.ToString(), list);

        var patched = await owner.PatchAsJsonAsync($"/api/admin/users/{id}", new { role = "admin" });
        Assert.Equal("admin", (await ReadJsonAsync(patched))["role"]!.GetValue<string>());
        await AssertErrorAsync(await owner.PatchAsJsonAsync($"/api/admin/users/{Guid.NewGuid()}", new { disabled = true }), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await owner.PostAsJsonAsync($"/api/admin/users/{Guid.NewGuid()}/access-keys", new { }), HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task Roles_are_changed_only_by_owners_and_the_last_owner_stays()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var me = await ReadJsonAsync(await owner.GetAsync("/api/v2/me"));
        var ownerId = me["id"]!.GetValue<Guid>();
        var (adminId, adminKey) = await CreateUserWithKeyAsync(api, "admin");
        var (memberId, _) = await CreateUserWithKeyAsync(api, "member");
        using var admin = api.CreateClient(adminKey);

        Assert.Contains("Only an owner", await AssertErrorAsync(
            await admin.PatchAsJsonAsync($"/api/admin/users/{memberId}", new { role = "admin" }), HttpStatusCode.Forbidden, "permission_error"));
        Assert.Contains("Only an owner", await AssertErrorAsync(
            await admin.PostAsJsonAsync("/api/admin/users", new { email = NewEmail(), role = "owner" }), HttpStatusCode.Forbidden, "permission_error"));
        Assert.Contains("Only an owner", await AssertErrorAsync(
            await admin.PatchAsJsonAsync($"/api/admin/users/{ownerId}", new { disabled = true }), HttpStatusCode.Forbidden, "permission_error"));
        Assert.Contains("Only an owner", await AssertErrorAsync(
            await admin.PostAsJsonAsync($"/api/admin/users/{ownerId}/access-keys", new { name = "escalation" }), HttpStatusCode.Forbidden, "permission_error"));
        // An admin may still disable a member and give them keys.
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync($"/api/admin/users/{memberId}/access-keys", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PatchAsJsonAsync($"/api/admin/users/{memberId}", new { disabled = true })).StatusCode);

        Assert.Contains("last enabled owner", await AssertErrorAsync(
            await owner.PatchAsJsonAsync($"/api/admin/users/{ownerId}", new { role = "admin" }), HttpStatusCode.Conflict, "conflict_error"));
        Assert.Contains("last enabled owner", await AssertErrorAsync(
            await owner.PatchAsJsonAsync($"/api/admin/users/{ownerId}", new { disabled = true }), HttpStatusCode.Conflict, "conflict_error"));

        // With a second owner, the first may step down — and the change of role reaches the cached key at once.
        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsJsonAsync($"/api/admin/users/{adminId}", new { role = "owner" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsJsonAsync($"/api/admin/users/{ownerId}", new { role = "admin" })).StatusCode);
        Assert.Equal("admin", (await ReadJsonAsync(await owner.GetAsync("/api/v2/me")))["role"]!.GetValue<string>());
        Assert.Contains("Only an owner", await AssertErrorAsync(
            await owner.PatchAsJsonAsync($"/api/admin/users/{memberId}", new { role = "guest" }), HttpStatusCode.Forbidden, "permission_error"));
    }
}
