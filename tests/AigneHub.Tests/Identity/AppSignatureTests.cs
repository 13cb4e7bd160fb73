using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AigneHub.Api.Identity;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class AppSignatureTests
{
    [Fact]
    public void Documented_worked_example_verifies()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "docs", "designs", "auth.md"));
        var body = Regex.Match(doc, "```json v1-example-body\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        var example = Regex.Match(doc, "```text v1-example\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
        var values = example.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.False(string.IsNullOrWhiteSpace(body));

        var seed = Convert.FromHexString(values["private key seed"]);
        var publicKey = Ed25519Crypto.PublicKeyOf(seed);
        Assert.Equal(values["public key"], Convert.ToHexStringLower(publicKey));
        Assert.Equal("(absent)", values["x-app-user-did"]);

        var canonical = AppSignaturePayload.CanonicalBytes(values["x-app-id"], long.Parse(values["x-timestamp"]), JsonNode.Parse(body), userDid: null);
        Assert.Equal(values["canonical"], Encoding.UTF8.GetString(canonical));
        Assert.Equal(values["canonical utf-8 hex"], Convert.ToHexStringLower(canonical));
        var hash = AppSignaturePayload.Digest(canonical);
        Assert.Equal(values["sha3-256"], Convert.ToHexStringLower(hash));
        // Ed25519 is deterministic: signing again gives the documented bytes.
        Assert.Equal(values["x-component-sig"], Convert.ToHexStringLower(Ed25519Crypto.Sign(seed, hash)));
        Assert.True(Ed25519Crypto.Verify(publicKey, hash, Convert.FromHexString(values["x-component-sig"])));
        hash[0] ^= 1;
        Assert.False(Ed25519Crypto.Verify(publicKey, hash, Convert.FromHexString(values["x-component-sig"])));
    }

    [Theory]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("1e2", "100")]
    [InlineData("4.50", "4.5")]
    [InlineData("0.002", "0.002")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("1e-7", "1e-7")]
    [InlineData("1e21", "1e+21")]
    [InlineData("1e20", "100000000000000000000")]
    [InlineData("123456789012345678901", "123456789012345680000")]
    [InlineData("333333333.33333329", "333333333.3333333")]
    [InlineData("5e-324", "5e-324")]
    [InlineData("-1.7976931348623157e308", "-1.7976931348623157e+308")]
    [InlineData("9007199254740993", "9007199254740992")]
    public void Canonical_numbers_follow_ecmascript(string json, string expected) =>
        Assert.Equal(expected, Encoding.UTF8.GetString(CanonicalJson.Serialize(JsonNode.Parse(json))));

    [Fact]
    public void Canonical_strings_and_member_order_follow_rfc_8785()
    {
        var node = JsonNode.Parse("{\"b\":\"\\u0001\\n\\u20ac\\\\/\",\"a\":[true,null,{\"\\u00e9\":1,\"z\":2,\"E\":3}],\"\\ud83d\\ude00\":0}");
        Assert.Equal("{\"a\":[true,null,{\"E\":3,\"z\":2,\"é\":1}],\"b\":\"\\u0001\\n€\\\\/\",\"😀\":0}",
            Encoding.UTF8.GetString(CanonicalJson.Serialize(node)));
        Assert.Throws<FormatException>(() => CanonicalJson.Serialize(JsonNode.Parse("\"\\ud800\"")));
    }

    [Fact]
    public async Task Signed_calls_are_verified_replays_tampering_and_skew_refused_and_the_subscription_gates_them()
    {
        await using var api = await ApiFactory.StartAsync();
        await using var replica = await ApiFactory.StartAsync(api.DatabaseConnectionString,
            f => f.Settings["ConnectionStrings:redis"] = api.RedisConnectionString);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var seed = RandomNumberGenerator.GetBytes(32);
        var publicKey = Ed25519Crypto.PublicKeyOf(seed);

        await AssertErrorAsync(await owner.PostAsJsonAsync("/api/admin/apps", new { name = "x", publicKey = "abcd" }), HttpStatusCode.BadRequest, "invalid_request_error");
        var created = await owner.PostAsJsonAsync("/api/admin/apps", new { name = "docs bot", publicKey = Convert.ToBase64String(publicKey) });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var appId = (await ReadJsonAsync(created))["appId"]!.GetValue<Guid>();
        await AssertErrorAsync(await owner.PostAsJsonAsync("/api/admin/apps", new { name = "again", publicKey = Convert.ToHexString(publicKey) }), HttpStatusCode.Conflict, "conflict_error");

        using var client = api.CreateClient(bearer: null);
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        const string body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":1.50}";

        // No subscription yet: authenticated, but 402 naming the app.
        var message = await AssertErrorAsync(await client.SendAsync(Signed(appId, seed, now, body)), HttpStatusCode.PaymentRequired, "subscription_error");
        Assert.Contains(appId.ToString(), message);

        Assert.Equal(HttpStatusCode.OK, (await owner.PutAsJsonAsync($"/api/admin/apps/{appId}/subscription",
            new { status = "active", currentPeriodEnd = DateTimeOffset.UtcNow.AddDays(30) })).StatusCode);
        var request = Signed(appId, seed, now, body, userDid: "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK");
        var replay = await CloneAsync(request);
        var ok = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var whoami = await ReadJsonAsync(ok);
        Assert.Equal(appId, whoami["appId"]!.GetValue<Guid>());
        Assert.Equal("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", whoami["userDid"]!.GetValue<string>());
        Assert.Equal("active", whoami["subscription"]!["status"]!.GetValue<string>());

        Assert.Contains("replay", await AssertErrorAsync(await client.SendAsync(replay), HttpStatusCode.Unauthorized, "authentication_error"));
        // The replay store is shared: the other replica refuses it too.
        using var onReplica = replica.CreateClient(bearer: null);
        Assert.Contains("replay", await AssertErrorAsync(await onReplica.SendAsync(await CloneAsync(replay)), HttpStatusCode.Unauthorized, "authentication_error"));

        // Same members, different bytes: still the same canonical form, so it verifies.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Signed(appId, seed, now, body, sendBody: "{ \"n\": 15e-1, \"messages\": [ {\"content\":\"hi\", \"role\":\"user\"} ] }"))).StatusCode);
        Assert.Contains("does not match", await AssertErrorAsync(await client.SendAsync(Signed(appId, seed, now, body, sendBody: body.Replace("hi", "HI"))), HttpStatusCode.Unauthorized, "authentication_error"));
        Assert.Contains("does not match", await AssertErrorAsync(await client.SendAsync(Signed(appId, RandomNumberGenerator.GetBytes(32), now, body)), HttpStatusCode.Unauthorized, "authentication_error"));
        Assert.Contains("stale", await AssertErrorAsync(await client.SendAsync(Signed(appId, seed, now - 700, body)), HttpStatusCode.Unauthorized, "authentication_error"));
        Assert.Contains("stale", await AssertErrorAsync(await client.SendAsync(Signed(appId, seed, now + 700, body)), HttpStatusCode.Unauthorized, "authentication_error"));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Signed(appId, seed, now - 500, body))).StatusCode);
        Assert.Contains("not registered", await AssertErrorAsync(await client.SendAsync(Signed(Guid.NewGuid(), seed, now, body)), HttpStatusCode.Unauthorized, "authentication_error"));
        Assert.Contains("must be JSON", await AssertErrorAsync(await client.SendAsync(Signed(appId, seed, now, null, sendBody: "not json")), HttpStatusCode.Unauthorized, "authentication_error"));
        Assert.Contains("larger than", await AssertErrorAsync(await client.SendAsync(Signed(appId, seed, now, null, sendBody: "\"" + new string('a', 1_100_000) + "\"")), HttpStatusCode.Unauthorized, "authentication_error"));
        var garbled = Signed(appId, seed, now, body);
        garbled.Headers.Remove("x-component-sig");
        garbled.Headers.TryAddWithoutValidation("x-component-sig", "zz-not-a-signature");
        Assert.Contains("x-component-sig", await AssertErrorAsync(await client.SendAsync(garbled), HttpStatusCode.Unauthorized, "authentication_error"));
        // An access key is not a v1 credential, and both at once is refused.
        Assert.Contains("signed component call", await AssertErrorAsync(await owner.GetAsync("/api/v1/whoami"), HttpStatusCode.Unauthorized, "authentication_error"));
        var both = Signed(appId, seed, now, body);
        both.Headers.Authorization = new("Bearer", ApiFactory.OwnerKey);
        Assert.Contains("both", await AssertErrorAsync(await client.SendAsync(both), HttpStatusCode.Unauthorized, "authentication_error"));
        // An empty body signs as data: null.
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(Signed(appId, seed, now, null))).StatusCode);

        foreach (var (status, end, allowed) in new[]
        {
            ("trialing", DateTimeOffset.UtcNow.AddDays(1), true),
            ("past_due", DateTimeOffset.UtcNow.AddDays(1), false),
            ("canceled", DateTimeOffset.UtcNow.AddDays(1), false),
            ("active", DateTimeOffset.UtcNow.AddMinutes(-1), false),
        })
        {
            Assert.Equal(HttpStatusCode.OK, (await owner.PutAsJsonAsync($"/api/admin/apps/{appId}/subscription", new { status, currentPeriodEnd = end })).StatusCode);
            var response = await client.SendAsync(Signed(appId, seed, now, body));
            if (allowed)
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            else
            {
                Assert.Contains(appId.ToString(), await AssertErrorAsync(response, HttpStatusCode.PaymentRequired, "subscription_error"));
            }
            // The change reaches the other replica's cache at once, over Redis.
            var other = await onReplica.SendAsync(Signed(appId, seed, now, body));
            Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.PaymentRequired, other.StatusCode);
        }
        await AssertErrorAsync(await owner.PutAsJsonAsync($"/api/admin/apps/{appId}/subscription", new { status = "paused", currentPeriodEnd = DateTimeOffset.UtcNow }), HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertErrorAsync(await owner.PutAsJsonAsync($"/api/admin/apps/{Guid.NewGuid()}/subscription", new { status = "active", currentPeriodEnd = DateTimeOffset.UtcNow }), HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains(appId.ToString(), await owner.GetStringAsync("/api/admin/apps"));
    }

    private static int _nonce;

    /// <summary>Signs <paramref name="signedBody"/> and sends <paramref name="sendBody"/> (the same unless told).</summary>
    private static HttpRequestMessage Signed(Guid appId, byte[] seed, long timestamp, string? signedBody, string? sendBody = null, string? userDid = null)
    {
        // A distinct member per request unless replaying, so two otherwise equal test requests are not replays.
        var data = signedBody is null ? null : JsonNode.Parse(signedBody);
        var body = sendBody ?? signedBody;
        if (sendBody is null && data is JsonObject o)
        {
            var nonce = Interlocked.Increment(ref _nonce);
            o["nonce"] = nonce;
            body = o.ToJsonString();
        }
        var signature = Ed25519Crypto.Sign(seed, AppSignaturePayload.Digest(AppSignaturePayload.CanonicalBytes(appId.ToString(), timestamp, data, userDid)));
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/whoami");
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }
        request.Headers.Add("x-app-id", appId.ToString());
        request.Headers.Add("x-timestamp", timestamp.ToString());
        request.Headers.Add("x-component-sig", Convert.ToHexStringLower(signature));
        if (userDid is not null)
        {
            request.Headers.Add("x-app-user-did", userDid);
        }
        return request;
    }

    private static async Task<HttpRequestMessage> CloneAsync(HttpRequestMessage request)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri);
        foreach (var h in request.Headers)
        {
            clone.Headers.TryAddWithoutValidation(h.Key, h.Value);
        }
        if (request.Content is not null)
        {
            clone.Content = new StringContent(await request.Content.ReadAsStringAsync(), Encoding.UTF8, "application/json");
        }
        return clone;
    }
}
