using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Tests.Infrastructure;
using Npgsql;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Audit;

/// <summary>The audit log through HTTP: what an admin did, to what, from where, with secrets masked; readable by admins only.</summary>
public sealed class AuditLogTests
{
    private static async Task<List<JsonNode>> AuditAsync(HttpClient owner, string query = "")
    {
        var response = await owner.GetAsync("/api/admin/audit?limit=500" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await ReadJsonAsync(response))["items"]!.AsArray().Select(n => n!)];
    }

    [Fact]
    public async Task Every_admin_change_key_creation_and_failed_sign_in_leaves_one_audit_row_with_actor_target_and_address()
    {
        await using var api = await ApiFactory.StartAsync();
        var ownerAddress = LoopbackClients.NewAddress();
        using var owner = LoopbackClients.From(ownerAddress, api, ApiFactory.OwnerKey);
        var ownerId = (await ReadJsonAsync(await owner.GetAsync("/api/v2/me")))["id"]!.GetValue<Guid>();

        // :: An admin's changes: a user, their role, a key for them (shown once) and its revocation, a provider,
        //    a credential, a grant, an invitation and its revocation.
        var email = NewEmail("audited");
        var user = (await ReadJsonAsync(await owner.PostAsJsonAsync("/api/admin/users", new { email, role = "member", password = "a long password" })))["id"]!.GetValue<Guid>();
        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsJsonAsync($"/api/admin/users/{user}", new { role = "admin" })).StatusCode);
        var key = await ReadJsonAsync(await owner.PostAsJsonAsync($"/api/admin/users/{user}/access-keys", new { name = "ci" }));
        var keyId = key["id"]!.GetValue<Guid>();
        var secret = key["key"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/admin/users/{user}/access-keys/{keyId}")).StatusCode);
        var provider = (await ReadJsonAsync(await owner.PostAsJsonAsync("/api/admin/providers", new { name = "openai", baseUrl = "http://127.0.0.1:9/v1" })))["id"]!.GetValue<Guid>();
        const string providerKey = "sk-audit-secret-0123456789";
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync($"/api/admin/providers/{provider}/credentials", new { name = "primary", value = providerKey })).StatusCode);
        Assert.True((await owner.PostAsJsonAsync($"/api/admin/users/{user}/credits/grants", new { amount = "10", category = "paid" })).IsSuccessStatusCode);
        var invitee = NewEmail("invited");
        var invitation = (await ReadJsonAsync(await owner.PostAsJsonAsync("/api/admin/invitations", new { email = invitee, role = "member" })))["id"]!.GetValue<Guid>();
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/admin/invitations/{invitation}")).StatusCode);
        // Reads are not changes.
        await owner.GetAsync("/api/admin/users");

        // :: A member's own key, and a failed sign-in from somewhere else.
        var (memberId, memberKey) = await CreateUserWithKeyAsync(api, "member");
        using var member = api.CreateClient(memberKey);
        Assert.Equal(HttpStatusCode.Created, (await member.PostAsJsonAsync("/api/v2/access-keys", new { name = "laptop" })).StatusCode);
        var attackerAddress = LoopbackClients.NewAddress();
        using var attacker = LoopbackClients.From(attackerAddress, api);
        Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.PostAsJsonAsync("/api/auth/login", new { email, password = "guess" })).StatusCode);

        var rows = await AuditAsync(owner);
        JsonNode Single(string action, Func<JsonNode, bool>? where = null)
        {
            var matches = rows.Where(r => r["action"]!.GetValue<string>() == action && (where?.Invoke(r) ?? true)).ToList();
            Assert.True(matches.Count == 1, $"{action}: {matches.Count} rows in {string.Join(", ", rows.Select(r => r["action"]))}");
            return matches[0];
        }

        // (CreateUserWithKeyAsync made the member through the same routes: pick this user's rows.)
        var created = Single("CreateUser", r => r["after"]?["email"]?.GetValue<string>() == email);
        Assert.Equal(ownerId, created["actorUserId"]!.GetValue<Guid>());
        Assert.Equal("owner", created["actorRole"]!.GetValue<string>());
        Assert.Equal(ownerAddress.ToString(), created["clientAddress"]!.GetValue<string>());
        Assert.Equal(201, created["status"]!.GetValue<int>());
        Assert.Equal("POST /api/admin/users/", created["route"]!.GetValue<string>().TrimEnd('/') + "/");
        Assert.Equal(email, created["after"]!["email"]!.GetValue<string>());

        var roleChange = Single("UpdateUser");
        Assert.Equal($"id={user}", roleChange["target"]!.GetValue<string>());
        Assert.Equal("member", roleChange["before"]!["role"]!.GetValue<string>());
        Assert.Equal("admin", roleChange["after"]!["role"]!.GetValue<string>());

        var keyCreated = Single("CreateUserAccessKey", r => r["target"]!.GetValue<string>() == $"id={user}");
        Assert.Equal("***", keyCreated["after"]!["key"]!.GetValue<string>());
        Assert.Equal(keyId, keyCreated["after"]!["id"]!.GetValue<Guid>());
        Assert.Contains(keyId.ToString(), Single("RevokeUserAccessKey")["target"]!.GetValue<string>());
        Single("CreateProvider");
        Single("CreateProviderCredential");
        Single("GrantCredits");
        Assert.Equal(invitee, Single("CreateInvitation")["after"]!["email"]!.GetValue<string>());
        Assert.Equal($"id={invitation}", Single("RevokeInvitation")["target"]!.GetValue<string>());
        Assert.Equal(memberId, Single("CreateMyAccessKey")["actorUserId"]!.GetValue<Guid>());

        var failed = Single("Login");
        Assert.Null(failed["actorUserId"]);
        Assert.Equal(401, failed["status"]!.GetValue<int>());
        Assert.Equal(email, failed["target"]!.GetValue<string>());
        Assert.Equal(attackerAddress.ToString(), failed["clientAddress"]!.GetValue<string>());

        Assert.DoesNotContain(rows, r => r["action"]!.GetValue<string>() == "ListUsers");
        // No secret anywhere in the log.
        var all = string.Join("\n", rows.Select(r => r.ToJsonString()));
        Assert.DoesNotContain(secret, all);
        Assert.DoesNotContain(providerKey, all);
        Assert.DoesNotContain(memberKey, all);
    }

    [Fact]
    public async Task Audit_filters_and_pages_without_gaps_or_overlaps_and_is_for_admins_only()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var (adminId, adminKey) = await CreateUserWithKeyAsync(api, "admin");
        using var admin = api.CreateClient(adminKey);
        const int byAdmin = 5;
        for (var i = 0; i < byAdmin; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/users", new { email = NewEmail("paged"), role = "member" })).StatusCode);
        }

        var mine = await AuditAsync(owner, $"&actor={adminId}");
        Assert.Equal(byAdmin, mine.Count);
        Assert.All(mine, r => Assert.Equal("CreateUser", r["action"]!.GetValue<string>()));
        // The owner made 2 rows (the admin and its key) through CreateUserWithKeyAsync.
        Assert.Equal(byAdmin + 1, (await AuditAsync(owner, "&action=CreateUser")).Count);

        // Pages of 2, newest first, following nextBefore: every row once.
        List<long> ids = [];
        string? before = null;
        do
        {
            var page = await ReadJsonAsync(await owner.GetAsync($"/api/admin/audit?actor={adminId}&limit=2" + (before is null ? "" : $"&before={before}")));
            ids.AddRange(page["items"]!.AsArray().Select(n => n!["id"]!.GetValue<long>()));
            before = page["nextBefore"]?.ToString();
        }
        while (before is not null);
        Assert.Equal(mine.Select(r => r["id"]!.GetValue<long>()), ids);

        Assert.Contains("'limit'", await AssertErrorAsync(await owner.GetAsync("/api/admin/audit?limit=0"), HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Contains("'since'", await AssertErrorAsync(await owner.GetAsync("/api/admin/audit?since=yesterday"), HttpStatusCode.BadRequest, "invalid_request_error"));
        var (_, memberKey) = await CreateUserWithKeyAsync(api, "member");
        using var member = api.CreateClient(memberKey);
        await AssertErrorAsync(await member.GetAsync("/api/admin/audit"), HttpStatusCode.Forbidden, "permission_error");
    }

    [Fact]
    public async Task Attack_rewriting_history_in_the_database_is_refused_the_log_is_append_only()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/admin/users", new { email = NewEmail(), role = "member" })).StatusCode);

        await using var connection = new NpgsqlConnection(api.DatabaseConnectionString);
        await connection.OpenAsync();
        await using var update = new NpgsqlCommand("UPDATE aignehub.audit_events SET actor_user_id = NULL", connection);
        Assert.Contains("append-only", (await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync())).MessageText);
        await using var truncate = new NpgsqlCommand("TRUNCATE aignehub.audit_events", connection);
        Assert.Contains("append-only", (await Assert.ThrowsAsync<PostgresException>(() => truncate.ExecuteNonQueryAsync())).MessageText);
        Assert.Single(await AuditAsync(owner, "&action=CreateUser"));
    }
}

public sealed class AuditRetentionTests
{
    [Fact]
    public async Task Retention_deletes_entries_older_than_the_configured_days_and_keeps_the_rest()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/admin/users", new { email = NewEmail(), role = "member" })).StatusCode);
        }
        var written = DateTimeOffset.UtcNow;

        const int days = 30;
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(written.AddDays(days - 1));
        await using var worker = new AigneHub.Tests.Worker.WorkerJobHost(api.DatabaseConnectionString, time,
            new() { ["AigneHub:Audit:RetentionDays"] = days.ToString() });
        var job = worker.Job<AigneHub.Worker.Jobs.AuditRetentionJob>();
        await job.RunOnceAsync(CancellationToken.None);
        Assert.Equal(3, (await AuditOf(owner)).Count);

        time.Advance(TimeSpan.FromDays(2));
        await job.RunOnceAsync(CancellationToken.None);
        Assert.Empty(await AuditOf(owner));
    }

    private static async Task<JsonArray> AuditOf(HttpClient owner) =>
        (await ReadJsonAsync(await owner.GetAsync("/api/admin/audit?action=CreateUser")))["items"]!.AsArray();
}
