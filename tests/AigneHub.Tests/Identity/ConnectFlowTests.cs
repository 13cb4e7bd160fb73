using System.Net;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class ConnectFlowTests
{
    [Fact]
    public async Task Cli_receives_a_new_key_exactly_once_after_the_browser_approves()
    {
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Auth:PublicBaseUrl"] = "https://admin.example.test/");
        var (userId, browserKey) = await CreateUserWithKeyAsync(api, "member");
        using var cli = api.CreateClient(bearer: null);
        using var browser = api.CreateClient(browserKey);

        var started = await cli.PostAsync("/api/v2/access-key/session", null);
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var session = await ReadJsonAsync(started);
        var id = session["id"]!.GetValue<string>();
        Assert.Equal($"https://admin.example.test/connect/{id}", session["url"]!.GetValue<string>());
        Assert.InRange(session["expiresAt"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));

        var pending = await cli.GetAsync($"/api/v2/access-key/session/{id}");
        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        Assert.Equal("pending", (await ReadJsonAsync(pending))["status"]!.GetValue<string>());

        // Approving needs a signed-in member.
        await AssertErrorAsync(await cli.PostAsync($"/api/v2/access-key/session/{id}/approve", null), HttpStatusCode.Unauthorized, "authentication_error");
        var approved = await browser.PostAsync($"/api/v2/access-key/session/{id}/approve", null);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Contains("already approved", await AssertErrorAsync(await browser.PostAsync($"/api/v2/access-key/session/{id}/approve", null), HttpStatusCode.Conflict, "conflict_error"));

        var collected = await cli.GetAsync($"/api/v2/access-key/session/{id}");
        Assert.Equal(HttpStatusCode.OK, collected.StatusCode);
        var key = (await ReadJsonAsync(collected))["key"]!.GetValue<string>();
        Assert.Matches("^ahk_[0-9a-f]{48}$", key);
        using var asCli = api.CreateClient(key);
        Assert.Equal(userId, (await ReadJsonAsync(await asCli.GetAsync("/api/v2/me")))["id"]!.GetValue<Guid>());

        // Exactly once; then the session is gone.
        await AssertErrorAsync(await cli.GetAsync($"/api/v2/access-key/session/{id}"), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await browser.PostAsync($"/api/v2/access-key/session/{id}/approve", null), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await cli.GetAsync($"/api/v2/access-key/session/{new string('a', 32)}"), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await cli.GetAsync("/api/v2/access-key/session/not-an-id"), HttpStatusCode.NotFound, "not_found_error");
    }
}
