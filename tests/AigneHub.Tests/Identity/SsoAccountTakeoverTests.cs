using System.Net;
using System.Net.Http.Json;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

/// <summary>
/// Attacks on single sign-on account matching: an identity provider lets people set their email, so an email alone
/// must never hand someone an existing account. Accounts are matched on (issuer, subject); an email is linked once,
/// only when verified, never to an owner.
/// </summary>
public sealed class SsoAccountTakeoverTests(OidcApiFixture fixture) : IClassFixture<OidcApiFixture>
{
    private FakeOidcAuthority Authority => fixture.Authority;

    private async Task<HttpResponseMessage> ExchangeAsync(string idToken)
    {
        using var client = fixture.Api.CreateClient(bearer: null);
        return await client.PostAsJsonAsync("/api/auth/oidc/exchange", new { idToken });
    }

    [Fact]
    public async Task Takeover_by_an_unverified_or_unstated_email_is_refused_and_links_nothing()
    {
        var email = NewEmail("victim");
        var (victimId, _) = await CreateUserWithKeyAsync(fixture.Api, "admin", password: "victim's password", email: email);

        Assert.Contains("not verified", await AssertErrorAsync(await ExchangeAsync(Authority.CreateIdToken(email, emailVerified: null, subject: "attacker-1")),
            HttpStatusCode.Unauthorized, "authentication_error"));
        Assert.Contains("not verified", await AssertErrorAsync(await ExchangeAsync(Authority.CreateIdToken(email, emailVerified: false, subject: "attacker-2")),
            HttpStatusCode.Unauthorized, "authentication_error"));

        // Nothing was linked: the real person's verified sign-in still lands in the account and links it.
        var real = await ExchangeAsync(Authority.CreateIdToken(email, emailVerified: true, subject: "victim-subject"));
        Assert.Equal(HttpStatusCode.OK, real.StatusCode);
        Assert.Equal(victimId, (await ReadJsonAsync(real))["user"]!["id"]!.GetValue<Guid>());
    }

    [Fact]
    public async Task Takeover_of_a_linked_account_by_a_second_subject_with_the_same_verified_email_is_refused()
    {
        var email = NewEmail("linked");
        var first = await ExchangeAsync(Authority.CreateIdToken(email, subject: "first-subject"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        var message = await AssertErrorAsync(await ExchangeAsync(Authority.CreateIdToken(email, subject: "second-subject")),
            HttpStatusCode.Forbidden, "permission_error");
        Assert.Contains("already linked", message);
    }

    [Fact]
    public async Task Takeover_of_the_bootstrap_owner_by_a_verified_email_is_refused()
    {
        using var owner = fixture.Api.CreateClient(ApiFactory.OwnerKey);
        var ownerEmail = (await ReadJsonAsync(await owner.GetAsync("/api/v2/me")))["email"]!.GetValue<string>();

        var message = await AssertErrorAsync(await ExchangeAsync(Authority.CreateIdToken(ownerEmail, emailVerified: true, subject: "who-knows")),
            HttpStatusCode.Forbidden, "permission_error");
        Assert.Contains("owner", message);
    }

    [Fact]
    public async Task A_linked_account_is_found_by_issuer_and_subject_whatever_email_the_token_carries_later()
    {
        var email = NewEmail("mover");
        var subject = "stable-" + Guid.NewGuid().ToString("N");
        var linked = await ExchangeAsync(Authority.CreateIdToken(email, subject: subject));
        Assert.Equal(HttpStatusCode.OK, linked.StatusCode);
        var userId = (await ReadJsonAsync(linked))["user"]!["id"]!.GetValue<Guid>();

        // The person's address changed at the provider (and is not even verified yet): same subject, same account.
        var moved = await ExchangeAsync(Authority.CreateIdToken(NewEmail("moved"), emailVerified: null, subject: subject));
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var user = (await ReadJsonAsync(moved))["user"]!;
        Assert.Equal(userId, user["id"]!.GetValue<Guid>());
        Assert.Equal(email, user["email"]!.GetValue<string>());
    }
}
