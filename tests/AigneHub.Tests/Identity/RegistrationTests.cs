using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Identity;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

/// <summary>
/// Self-registration attacks: a script making did:key wallets (or SSO identities) to get free use of the hub's
/// provider keys. The registration policy decides; closed by default.
/// </summary>
public sealed class RegistrationTests
{
    /// <summary>A fresh wallet that signs in through the public routes; returns the response of verify.</summary>
    private static async Task<HttpResponseMessage> WalletSignInAsync(HttpClient client, byte[] seed)
    {
        var did = DidKey.FromPublicKey(Ed25519Crypto.PublicKeyOf(seed));
        var challenge = await ReadJsonAsync(await client.PostAsJsonAsync("/api/auth/wallet/challenge", new { did }));
        var message = challenge["message"]!.GetValue<string>();
        var signature = Convert.ToHexStringLower(Ed25519Crypto.Sign(seed, Encoding.UTF8.GetBytes(message)));
        return await client.PostAsJsonAsync("/api/auth/wallet/verify", new { did, nonce = challenge["nonce"]!.GetValue<string>(), signature });
    }

    private static string DidOf(byte[] seed) => DidKey.FromPublicKey(Ed25519Crypto.PublicKeyOf(seed));

    private static async Task<JsonArray> UsersAsync(ApiFactory api)
    {
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        return (await ReadJsonAsync(await owner.GetAsync("/api/admin/users"))).AsArray();
    }

    [Fact]
    public async Task A_scripted_did_key_signing_in_under_the_default_closed_policy_gets_403_and_no_account()
    {
        await using var api = await ApiFactory.StartAsync();
        using var client = api.CreateClient(bearer: null);
        var seed = RandomNumberGenerator.GetBytes(32);

        var refused = await WalletSignInAsync(client, seed);
        Assert.StartsWith("Registration is closed", await AssertErrorAsync(refused, HttpStatusCode.Forbidden, "registration_closed"));
        Assert.DoesNotContain(await UsersAsync(api), u => u!["did"]?.GetValue<string>() == DidOf(seed));
        Assert.Equal("closed", (await ReadJsonAsync(await client.GetAsync("/api/auth/methods")))["registration"]!.GetValue<string>());
    }

    [Fact]
    public async Task Under_invite_only_the_invited_did_creates_its_account_once_with_the_invited_role()
    {
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Auth:Registration"] = "invite");
        using var client = api.CreateClient(bearer: null);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var invited = RandomNumberGenerator.GetBytes(32);
        var stranger = RandomNumberGenerator.GetBytes(32);
        var revokedOne = RandomNumberGenerator.GetBytes(32);

        var created = await owner.PostAsJsonAsync("/api/admin/invitations", new { did = DidOf(invited), role = "guest" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var invitationId = (await ReadJsonAsync(created))["id"]!.GetValue<Guid>();
        var revoke = (await ReadJsonAsync(await owner.PostAsJsonAsync("/api/admin/invitations", new { did = DidOf(revokedOne) })))["id"]!.GetValue<Guid>();
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/admin/invitations/{revoke}")).StatusCode);

        // Someone not invited, and someone whose invitation was revoked, cannot register.
        Assert.Contains("invitation", await AssertErrorAsync(await WalletSignInAsync(client, stranger), HttpStatusCode.Forbidden, "registration_closed"));
        await AssertErrorAsync(await WalletSignInAsync(client, revokedOne), HttpStatusCode.Forbidden, "registration_closed");

        var signedIn = await WalletSignInAsync(client, invited);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        var user = (await ReadJsonAsync(signedIn))["user"]!;
        Assert.Equal("guest", user["role"]!.GetValue<string>());
        // The invitation is spent; the account remains and signs in again.
        var again = await WalletSignInAsync(client, invited);
        Assert.Equal(user["id"]!.GetValue<Guid>(), (await ReadJsonAsync(again))["user"]!["id"]!.GetValue<Guid>());

        var listed = await ReadJsonAsync(await owner.GetAsync("/api/admin/invitations"));
        Assert.Equal("invite", listed["registration"]!.GetValue<string>());
        var row = listed["invitations"]!.AsArray().Single(i => i!["id"]!.GetValue<Guid>() == invitationId)!;
        Assert.Equal("used", row["status"]!.GetValue<string>());
        Assert.Equal(user["id"]!.GetValue<Guid>(), row["usedBy"]!.GetValue<Guid>());
        Assert.Equal("revoked", listed["invitations"]!.AsArray().Single(i => i!["id"]!.GetValue<Guid>() == revoke)!["status"]!.GetValue<string>());
        Assert.Single(await UsersAsync(api), u => u!["did"]?.GetValue<string>() == DidOf(invited));
        Assert.DoesNotContain(await UsersAsync(api), u => u!["did"]?.GetValue<string>() == DidOf(stranger));
    }

    [Fact]
    public async Task Invitations_are_validated_and_an_admin_cannot_invite_an_owner()
    {
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Auth:Registration"] = "invite");
        var (_, adminKey) = await CreateUserWithKeyAsync(api, "admin");
        using var admin = api.CreateClient(adminKey);
        var did = DidOf(RandomNumberGenerator.GetBytes(32));

        await AssertErrorAsync(await admin.PostAsJsonAsync("/api/admin/invitations", new { email = NewEmail(), did }), HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertErrorAsync(await admin.PostAsJsonAsync("/api/admin/invitations", new { }), HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertErrorAsync(await admin.PostAsJsonAsync("/api/admin/invitations", new { did = "did:web:evil.example" }), HttpStatusCode.BadRequest, "invalid_request_error");
        await AssertErrorAsync(await admin.PostAsJsonAsync("/api/admin/invitations", new { did, expiresInDays = 365 }), HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains("owner", await AssertErrorAsync(await admin.PostAsJsonAsync("/api/admin/invitations", new { did, role = "owner" }), HttpStatusCode.Forbidden, "permission_error"));
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/api/admin/invitations", new { email = NewEmail("invitee"), role = "member" })).StatusCode);
    }

    [Fact]
    public async Task Under_open_registration_a_new_did_gets_the_configured_default_role()
    {
        await using var api = await ApiFactory.StartAsync(configure: f =>
        {
            f.Settings["AigneHub:Auth:Registration"] = "open";
            f.Settings["AigneHub:Auth:DefaultRole"] = "guest";
        });
        using var client = api.CreateClient(bearer: null);
        var signedIn = await WalletSignInAsync(client, RandomNumberGenerator.GetBytes(32));
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        Assert.Equal("guest", (await ReadJsonAsync(signedIn))["user"]!["role"]!.GetValue<string>());
        Assert.Equal("open", (await ReadJsonAsync(await client.GetAsync("/api/auth/methods")))["registration"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sso_registration_follows_the_policy_closed_refuses_and_an_email_invitation_admits()
    {
        await using var authority = await FakeOidcAuthority.StartAsync();
        await using var api = await ApiFactory.StartAsync(configure: f =>
        {
            OidcApiFixture.Configure(f.Settings, authority);
            f.Settings["AigneHub:Auth:Registration"] = "invite";
        });
        using var client = api.CreateClient(bearer: null);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var invitee = NewEmail("invitee");

        await AssertErrorAsync(await client.PostAsJsonAsync("/api/auth/oidc/exchange", new { idToken = authority.CreateIdToken(NewEmail("uninvited")) }),
            HttpStatusCode.Forbidden, "registration_closed");
        Assert.Equal(HttpStatusCode.Created, (await owner.PostAsJsonAsync("/api/admin/invitations", new { email = invitee, role = "admin" })).StatusCode);
        // An invitation names a verified address: a token that does not vouch for it gets nothing.
        await AssertErrorAsync(await client.PostAsJsonAsync("/api/auth/oidc/exchange", new { idToken = authority.CreateIdToken(invitee, emailVerified: null) }),
            HttpStatusCode.Unauthorized, "authentication_error");

        var admitted = await client.PostAsJsonAsync("/api/auth/oidc/exchange", new { idToken = authority.CreateIdToken(invitee) });
        Assert.Equal(HttpStatusCode.OK, admitted.StatusCode);
        Assert.Equal("admin", (await ReadJsonAsync(admitted))["user"]!["role"]!.GetValue<string>());
    }
}
