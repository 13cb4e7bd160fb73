using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using AigneHub.Api.Identity;
using AigneHub.Data;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class AccessKeyTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Key_is_shown_once_in_the_documented_format_stored_as_hash_and_revocation_reaches_a_second_replica_at_once()
    {
        await using var first = await ApiFactory.StartAsync();
        await using var second = await ApiFactory.StartAsync(first.DatabaseConnectionString,
            f => f.Settings["ConnectionStrings:redis"] = first.RedisConnectionString);
        var (userId, _) = await CreateUserWithKeyAsync(first, "member");

        using var member = first.CreateClient(await CreateUserWithKeyAsync(first, "member").ContinueWith(t => t.Result.Key));
        var created = await member.PostAsJsonAsync("/api/v2/access-keys", new { name = "laptop" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await ReadJsonAsync(created);
        var key = body["key"]!.GetValue<string>();
        var keyId = body["id"]!.GetValue<Guid>();
        Assert.Matches(new Regex("^ahk_[0-9a-f]{48}$"), key);
        Assert.Equal(key[..12], body["prefix"]!.GetValue<string>());

        await using (var scope = first.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<AigneHubDbContext>().AccessKeys.SingleAsync(k => k.Id == keyId);
            Assert.Equal(AccessKeySecrets.Hash(key), row.Hash);
            Assert.DoesNotContain(key, System.Text.Json.JsonSerializer.Serialize(row, new System.Text.Json.JsonSerializerOptions { ReferenceHandler = System.Text.Json.Serialization.ReferenceHandler.IgnoreCycles }));
        }

        // The list never shows the secret.
        var listed = await member.GetStringAsync("/api/v2/access-keys");
        Assert.Contains(keyId.ToString(), listed);
        Assert.DoesNotContain(key, listed);

        using var onFirst = first.CreateClient(key);
        using var onSecond = second.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, (await onFirst.GetAsync("/api/v2/me")).StatusCode);
        // Warm the second replica's cache so that only the pub/sub message can make it forget the key.
        Assert.Equal(HttpStatusCode.OK, (await onSecond.GetAsync("/api/v2/me")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await member.DeleteAsync($"/api/v2/access-keys/{keyId}")).StatusCode);
        var message = await AssertErrorAsync(await onFirst.GetAsync("/api/v2/me"), HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Contains("revoked", message);

        var clock = Stopwatch.StartNew();
        HttpStatusCode status;
        do
        {
            status = (await onSecond.GetAsync("/api/v2/me")).StatusCode;
        }
        while (status == HttpStatusCode.OK && clock.Elapsed < TimeSpan.FromSeconds(10));
        // Well under the 30 s cache TTL: the revocation arrived over Redis.
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        output.WriteLine($"revocation effective on the second replica after {clock.ElapsedMilliseconds} ms");
        Assert.NotEqual(Guid.Empty, userId);
    }

    [Fact]
    public async Task Bad_credentials_get_a_json_401_and_never_a_500()
    {
        await using var api = await ApiFactory.StartAsync();
        var (_, memberKey) = await CreateUserWithKeyAsync(api, "member");
        using var client = api.CreateClient(bearer: null);

        async Task<string> Send(Action<HttpRequestMessage> setup)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v2/me");
            setup(request);
            return await AssertErrorAsync(await client.SendAsync(request), HttpStatusCode.Unauthorized, "authentication_error");
        }

        Assert.Contains("Authentication required", await Send(_ => { }));
        Assert.Contains("not valid", await Send(r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer ahk_" + new string('0', 48))));
        Assert.Contains("too long", await Send(r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + new string('x', 20_000))));
        Assert.Contains("Bearer", await Send(r => r.Headers.TryAddWithoutValidation("Authorization", "Basic dXNlcjpwYXNz")));
        Assert.Contains("empty", await Send(r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer    ")));
        Assert.Contains("malformed", await Send(r => r.Headers.TryAddWithoutValidation("Authorization", "Bearer ahk_a\tb")));
        Assert.Contains("two different credentials", await Send(r =>
        {
            r.Headers.TryAddWithoutValidation("Authorization", "Bearer " + memberKey);
            r.Headers.TryAddWithoutValidation("x-api-key", ApiFactory.OwnerKey);
        }));
        // Two values in one header (HttpClient folds them into "a, b") are not one key.
        Assert.Contains("malformed", await Send(r => r.Headers.TryAddWithoutValidation("x-api-key", new[] { memberKey, ApiFactory.OwnerKey })));

        // The same key in both headers is one credential, and x-api-key alone works.
        using var same = new HttpRequestMessage(HttpMethod.Get, "/api/v2/me");
        same.Headers.TryAddWithoutValidation("Authorization", "Bearer " + memberKey);
        same.Headers.TryAddWithoutValidation("x-api-key", memberKey);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(same)).StatusCode);
        using var apiKeyOnly = new HttpRequestMessage(HttpMethod.Get, "/api/v2/me");
        apiKeyOnly.Headers.TryAddWithoutValidation("x-api-key", memberKey);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(apiKeyOnly)).StatusCode);
    }

    [Fact]
    public async Task Expired_keys_and_disabled_users_are_refused_and_last_use_is_recorded()
    {
        await using var api = await ApiFactory.StartAsync();
        var (userId, key) = await CreateUserWithKeyAsync(api, "member");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        using var member = api.CreateClient(key);

        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/api/v2/me")).StatusCode);
        await using (var scope = api.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while ((await db.AccessKeys.AsNoTracking().SingleAsync(k => k.UserId == userId)).LastUsedAt is null && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
            Assert.NotNull((await db.AccessKeys.AsNoTracking().SingleAsync(k => k.UserId == userId)).LastUsedAt);
            Assert.NotNull((await db.Users.AsNoTracking().SingleAsync(u => u.Id == userId)).LastSeenAt);
        }

        var bad = await owner.PostAsJsonAsync($"/api/admin/users/{userId}/access-keys", new { expiresAt = DateTimeOffset.UtcNow.AddMinutes(-1) });
        Assert.Contains("expiresAt", await AssertErrorAsync(bad, HttpStatusCode.BadRequest, "invalid_request_error"));
        var shortLived = await owner.PostAsJsonAsync($"/api/admin/users/{userId}/access-keys", new { expiresAt = DateTimeOffset.UtcNow.AddSeconds(2) });
        using var expiring = api.CreateClient((await ReadJsonAsync(shortLived))["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await expiring.GetAsync("/api/v2/me")).StatusCode);
        await Task.Delay(2500);
        Assert.Contains("expired", await AssertErrorAsync(await expiring.GetAsync("/api/v2/me"), HttpStatusCode.Unauthorized, "authentication_error"));

        Assert.Equal(HttpStatusCode.OK, (await owner.PatchAsJsonAsync($"/api/admin/users/{userId}", new { disabled = true })).StatusCode);
        Assert.Contains("disabled", await AssertErrorAsync(await member.GetAsync("/api/v2/me"), HttpStatusCode.Unauthorized, "authentication_error"));
    }

    [Fact]
    public async Task Cached_key_lookup_cost_is_measured()
    {
        await using var api = await ApiFactory.StartAsync();
        var (_, key) = await CreateUserWithKeyAsync(api, "member");
        await using var scope = api.Services.CreateAsyncScope();
        var auth = scope.ServiceProvider.GetRequiredService<IAuthenticationService>();

        async Task<AuthenticateResult> Once()
        {
            var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
            context.Request.Headers.Authorization = "Bearer " + key;
            return await auth.AuthenticateAsync(context, AccessKeyAuthenticationHandler.SchemeName);
        }

        Assert.True((await Once()).Succeeded); // fills the cache
        for (var i = 0; i < 2_000; i++)
        {
            await Once();
        }
        const int n = 50_000;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            await Once();
        }
        clock.Stop();
        Assert.True((await Once()).Succeeded);
        output.WriteLine($"cached access-key authentication (SHA-256 + cache hit + principal): {clock.Elapsed.TotalMicroseconds / n:F2} µs per request over {n} requests");
    }
}
