using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class ConnectFlowTests
{
    private static async Task<(string Id, string UserCode)> StartSessionAsync(HttpClient cli, string? clientName = null)
    {
        var started = clientName is null
            ? await cli.PostAsync("/api/v2/access-key/session", null)
            : await cli.PostAsJsonAsync("/api/v2/access-key/session", new { clientName });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var session = await ReadJsonAsync(started);
        return (session["id"]!.GetValue<string>(), session["userCode"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cli_receives_a_new_key_exactly_once_after_the_browser_approves_with_the_user_code()
    {
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Auth:PublicBaseUrl"] = "https://admin.example.test/");
        var (userId, browserKey) = await CreateUserWithKeyAsync(api, "member");
        using var cli = api.CreateClient(bearer: null);
        cli.DefaultRequestHeaders.UserAgent.ParseAdd("aigne-cli/1.2.3");
        using var browser = api.CreateClient(browserKey);

        var started = await cli.PostAsJsonAsync("/api/v2/access-key/session", new { clientName = "Ann's laptop" });
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var session = await ReadJsonAsync(started);
        var id = session["id"]!.GetValue<string>();
        var userCode = session["userCode"]!.GetValue<string>();
        Assert.Matches("^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", userCode);
        Assert.Equal($"https://admin.example.test/connect/{id}", session["url"]!.GetValue<string>());
        Assert.InRange(session["expiresAt"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(11));

        var pending = await cli.GetAsync($"/api/v2/access-key/session/{id}");
        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        Assert.Equal("pending", (await ReadJsonAsync(pending))["status"]!.GetValue<string>());

        // The approval page shows who asked.
        var request = await ReadJsonAsync(await browser.GetAsync($"/api/v2/access-key/session/{id}/request"));
        Assert.Equal("Ann's laptop", request["clientName"]!.GetValue<string>());
        Assert.Equal("aigne-cli/1.2.3", request["userAgent"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", request["ipAddress"]!.GetValue<string>());
        Assert.Equal(5, request["triesLeft"]!.GetValue<int>());

        // Approving needs a signed-in member and the code (any case, with or without the dash).
        await AssertErrorAsync(await cli.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode }), HttpStatusCode.Unauthorized, "authentication_error");
        var approved = await browser.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode = userCode.Replace("-", "").ToLowerInvariant() });
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);
        Assert.Contains("already approved", await AssertErrorAsync(await browser.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode }), HttpStatusCode.Conflict, "conflict_error"));

        var collected = await cli.GetAsync($"/api/v2/access-key/session/{id}");
        Assert.Equal(HttpStatusCode.OK, collected.StatusCode);
        var key = (await ReadJsonAsync(collected))["key"]!.GetValue<string>();
        Assert.Matches("^ahk_[0-9a-f]{48}$", key);
        using var asCli = api.CreateClient(key);
        Assert.Equal(userId, (await ReadJsonAsync(await asCli.GetAsync("/api/v2/me")))["id"]!.GetValue<Guid>());

        // The key is inference-only, expires in 90 days (the default) and is named after the client.
        var keys = (await ReadJsonAsync(await browser.GetAsync("/api/v2/access-keys"))).AsArray();
        var issued = keys.Single(k => k!["name"]!.GetValue<string>() == "Ann's laptop (connect)")!;
        Assert.Equal("inference", issued["scope"]!.GetValue<string>());
        Assert.InRange(issued["expiresAt"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow, TimeSpan.FromDays(89.9), TimeSpan.FromDays(90.1));
        await AssertErrorAsync(await asCli.GetAsync("/api/v2/access-keys"), HttpStatusCode.Forbidden, "permission_error");

        // Exactly once; then the session is gone.
        await AssertErrorAsync(await cli.GetAsync($"/api/v2/access-key/session/{id}"), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await browser.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode }), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await cli.GetAsync($"/api/v2/access-key/session/{new string('a', 32)}"), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await cli.GetAsync("/api/v2/access-key/session/not-an-id"), HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task A_phished_connect_link_clicked_by_the_owner_without_the_code_or_with_wrong_codes_issues_nothing()
    {
        await using var api = await ApiFactory.StartAsync();
        using var attacker = api.CreateClient(bearer: null);
        using var victim = api.CreateClient(ApiFactory.OwnerKey);
        var (id, userCode) = await StartSessionAsync(attacker, "definitely-your-cli");
        var wrong = userCode == "BBBB-BBBB" ? "CCCC-CCCC" : "BBBB-BBBB";
        var keysBefore = (await ReadJsonAsync(await victim.GetAsync("/api/v2/access-keys"))).AsArray().Count;

        // One click on Approve (no body, or no code) is not an approval.
        Assert.Contains("body", await AssertErrorAsync(await victim.PostAsync($"/api/v2/access-key/session/{id}/approve", null), HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Contains("'userCode'", await AssertErrorAsync(await victim.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { }), HttpStatusCode.BadRequest, "invalid_request_error"));
        for (var i = 1; i <= 4; i++)
        {
            Assert.Contains($"{5 - i} tries left", await AssertErrorAsync(await victim.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode = wrong }),
                HttpStatusCode.BadRequest, "invalid_request_error"));
        }
        Assert.Contains("ended", await AssertErrorAsync(await victim.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode = wrong }),
            HttpStatusCode.BadRequest, "invalid_request_error"));

        // Five wrong codes end the session: even the right code does nothing now, and the attacker collects nothing.
        await AssertErrorAsync(await victim.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode }), HttpStatusCode.NotFound, "not_found_error");
        await AssertErrorAsync(await attacker.GetAsync($"/api/v2/access-key/session/{id}"), HttpStatusCode.NotFound, "not_found_error");
        Assert.Equal(keysBefore, (await ReadJsonAsync(await victim.GetAsync("/api/v2/access-keys"))).AsArray().Count);
    }

    [Fact]
    public async Task Connect_session_ids_never_appear_in_the_apis_request_spans()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) || source.Name.StartsWith("System.Net.Http", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        await using var api = await ApiFactory.StartAsync();
        // Registered after the host's own tracing, so it sees each span after the host's processors ran.
        ActivitySource.AddActivityListener(listener);
        using var cli = api.CreateClient(bearer: null);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var (id, userCode) = await StartSessionAsync(cli);
        await cli.GetAsync($"/api/v2/access-key/session/{id}");
        await owner.GetAsync($"/api/v2/access-key/session/{id}/request");
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await cli.GetAsync($"/api/v2/access-key/session/{id}")).StatusCode);

        var mine = spans.Where(s => s.Tags.Any(t => t.Value?.Contains("/access-key/session", StringComparison.Ordinal) == true)
            || s.DisplayName.Contains("/access-key/session", StringComparison.Ordinal)).ToList();
        Assert.True(mine.Count >= 5, $"expected the connect requests' spans, saw {mine.Count}");
        var leaks = mine.Where(s => s.DisplayName.Contains(id, StringComparison.Ordinal) || s.Tags.Any(t => t.Value?.Contains(id, StringComparison.Ordinal) == true))
            .Select(s => $"{s.Source.Name} {s.DisplayName}: {string.Join(", ", s.Tags.Select(t => $"{t.Key}={t.Value}"))}").ToList();
        Assert.True(leaks.Count == 0, "session id in spans:\n" + string.Join('\n', leaks));
    }

    [Fact]
    public async Task Connect_session_ids_never_appear_in_the_audit_log_of_approvals()
    {
        await using var api = await ApiFactory.StartAsync();
        using var cli = api.CreateClient(bearer: null);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var (id, userCode) = await StartSessionAsync(cli, "audited-cli");
        var wrong = userCode == "BBBB-BBBB" ? "CCCC-CCCC" : "BBBB-BBBB";
        await AssertErrorAsync(await owner.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode = wrong }),
            HttpStatusCode.BadRequest, "invalid_request_error");
        var approved = await ReadJsonAsync(await owner.PostAsJsonAsync($"/api/v2/access-key/session/{id}/approve", new { userCode }));

        // An admin reading the log (or its CSV) must not learn an id that still collects the key.
        var rows = (await ReadJsonAsync(await owner.GetAsync("/api/admin/audit?action=ApproveConnectSession")))["items"]!.AsArray();
        Assert.Equal([200, 400], rows.Select(r => r!["status"]!.GetValue<int>()).Order());
        Assert.DoesNotContain(id, rows.ToJsonString(), StringComparison.Ordinal);
        // The approval still names what it created.
        var ok = rows.Single(r => r!["status"]!.GetValue<int>() == 200)!;
        Assert.Equal(approved["keyId"]!.GetValue<Guid>(), ok["after"]!["keyId"]!.GetValue<Guid>());
    }
}
