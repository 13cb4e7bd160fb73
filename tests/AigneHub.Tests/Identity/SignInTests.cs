using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Identity;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class SignInTests
{
    [Fact]
    public async Task Password_sign_in_issues_a_session_token_that_logout_revokes()
    {
        await using var api = await ApiFactory.StartAsync();
        var email = NewEmail("ann");
        var (userId, apiKey) = await CreateUserWithKeyAsync(api, "member", password: "correct horse battery", email: email);
        using var anonymous = api.CreateClient(bearer: null);

        await AssertErrorAsync(await anonymous.PostAsJsonAsync("/api/auth/login", new { email, password = "wrong password" }), HttpStatusCode.Unauthorized, "authentication_error");
        await AssertErrorAsync(await anonymous.PostAsJsonAsync("/api/auth/login", new { email = NewEmail(), password = "whatever1" }), HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Contains("'email'", await AssertErrorAsync(await anonymous.PostAsJsonAsync("/api/auth/login", new { password = "x" }), HttpStatusCode.BadRequest, "invalid_request_error"));

        var login = await anonymous.PostAsJsonAsync("/api/auth/login", new { email = email.ToUpperInvariant(), password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var session = await ReadJsonAsync(login);
        var token = session["token"]!.GetValue<string>();
        Assert.StartsWith("ahs_", token);
        Assert.Equal(userId, session["user"]!["id"]!.GetValue<Guid>());
        var expiresAt = session["expiresAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(expiresAt - DateTimeOffset.UtcNow, TimeSpan.FromHours(11.9), TimeSpan.FromHours(12.1));

        using var browser = api.CreateClient(token);
        Assert.Equal(userId, (await ReadJsonAsync(await browser.GetAsync("/api/v2/me")))["id"]!.GetValue<Guid>());
        using var withApiKey = api.CreateClient(apiKey);
        Assert.Contains("session token", await AssertErrorAsync(await withApiKey.PostAsync("/api/auth/logout", null), HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Equal(HttpStatusCode.NoContent, (await browser.PostAsync("/api/auth/logout", null)).StatusCode);
        Assert.Contains("revoked", await AssertErrorAsync(await browser.GetAsync("/api/v2/me"), HttpStatusCode.Unauthorized, "authentication_error"));
    }

    [Fact]
    public async Task Wallet_sign_in_verifies_a_single_use_challenge_and_creates_a_member_once()
    {
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Auth:Registration"] = "open");
        using var client = api.CreateClient(bearer: null);
        var seed = RandomNumberGenerator.GetBytes(32);
        var did = DidKey.FromPublicKey(Ed25519Crypto.PublicKeyOf(seed));
        Assert.StartsWith("did:key:z6Mk", did); // the multibase form of multicodec 0xed01
        Assert.Equal(Ed25519Crypto.PublicKeyOf(seed), DidKey.PublicKeyOf(did));

        Assert.Contains("'did'", await AssertErrorAsync(await client.PostAsJsonAsync("/api/auth/wallet/challenge", new { did = "did:web:example.com" }), HttpStatusCode.BadRequest, "invalid_request_error"));

        async Task<(string Nonce, string Message)> Challenge()
        {
            var response = await client.PostAsJsonAsync("/api/auth/wallet/challenge", new { did });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await ReadJsonAsync(response);
            return (body["nonce"]!.GetValue<string>(), body["message"]!.GetValue<string>());
        }

        var (nonce, message) = await Challenge();
        Assert.Contains(did, message);
        Assert.Contains("Nonce: " + nonce, message);
        var signature = Convert.ToHexStringLower(Ed25519Crypto.Sign(seed, Encoding.UTF8.GetBytes(message)));

        var verified = await client.PostAsJsonAsync("/api/auth/wallet/verify", new { did, nonce, signature });
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        var session = await ReadJsonAsync(verified);
        var user = session["user"]!;
        Assert.Equal("member", user["role"]!.GetValue<string>());
        Assert.Equal(did, user["did"]!.GetValue<string>());
        Assert.Equal(did.ToLowerInvariant() + "@wallet.local", user["email"]!.GetValue<string>());
        using var signedIn = api.CreateClient(session["token"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await signedIn.GetAsync("/api/v2/me")).StatusCode);

        // Single use.
        Assert.Contains("already used", await AssertErrorAsync(await client.PostAsJsonAsync("/api/auth/wallet/verify", new { did, nonce, signature }), HttpStatusCode.Unauthorized, "authentication_error"));
        // A signature by another key, or over another message, fails (and burns the nonce).
        var (nonce2, message2) = await Challenge();
        var forged = Convert.ToHexStringLower(Ed25519Crypto.Sign(RandomNumberGenerator.GetBytes(32), Encoding.UTF8.GetBytes(message2)));
        Assert.Contains("does not match", await AssertErrorAsync(await client.PostAsJsonAsync("/api/auth/wallet/verify", new { did, nonce = nonce2, signature = forged }), HttpStatusCode.Unauthorized, "authentication_error"));
        // A challenge is bound to its DID.
        var (nonce3, message3) = await Challenge();
        var otherSeed = RandomNumberGenerator.GetBytes(32);
        var otherDid = DidKey.FromPublicKey(Ed25519Crypto.PublicKeyOf(otherSeed));
        var byOther = Convert.ToHexStringLower(Ed25519Crypto.Sign(otherSeed, Encoding.UTF8.GetBytes(message3)));
        await AssertErrorAsync(await client.PostAsJsonAsync("/api/auth/wallet/verify", new { did = otherDid, nonce = nonce3, signature = byOther }), HttpStatusCode.Unauthorized, "authentication_error");

        // The same wallet again: the same user (base64url signatures are accepted too).
        var (nonce4, message4) = await Challenge();
        var again = await client.PostAsJsonAsync("/api/auth/wallet/verify", new
        {
            did, nonce = nonce4, signature = Convert.ToBase64String(Ed25519Crypto.Sign(seed, Encoding.UTF8.GetBytes(message4))).TrimEnd('=').Replace('+', '-').Replace('/', '_'),
        });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(user["id"]!.GetValue<Guid>(), (await ReadJsonAsync(again))["user"]!["id"]!.GetValue<Guid>());
    }
}
