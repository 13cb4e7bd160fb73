using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

/// <summary>A fake OpenID Connect authority and an Api configured to trust it (one of each for the class).</summary>
public sealed class OidcApiFixture : IAsyncLifetime
{
    public FakeOidcAuthority Authority { get; private set; } = null!;

    public ApiFactory Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Authority = await FakeOidcAuthority.StartAsync();
        Api = await ApiFactory.StartAsync(configure: f =>
        {
            Configure(f.Settings, Authority);
            f.Settings["AigneHub:Auth:Registration"] = "open";
        });
    }

    public static void Configure(IDictionary<string, string?> settings, FakeOidcAuthority authority)
    {
        settings["AigneHub:Auth:Oidc:Authority"] = authority.Authority;
        settings["AigneHub:Auth:Oidc:ClientId"] = FakeOidcAuthority.ClientId;
        settings["AigneHub:Auth:Oidc:ClientSecret"] = FakeOidcAuthority.ClientSecret;
        settings["AigneHub:Auth:Oidc:DisplayName"] = "Corp SSO";
    }

    public async Task DisposeAsync()
    {
        await (Api?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (Authority?.DisposeAsync() ?? ValueTask.CompletedTask);
    }
}

public sealed class OidcSignInTests(OidcApiFixture fixture) : IClassFixture<OidcApiFixture>
{
    private FakeOidcAuthority Authority => fixture.Authority;

    private Task<HttpResponseMessage> ExchangeAsync(HttpClient client, string idToken) =>
        client.PostAsJsonAsync("/api/auth/oidc/exchange", new { idToken });

    [Fact]
    public async Task A_valid_id_token_for_a_new_email_makes_a_member_and_a_working_session_once()
    {
        using var client = fixture.Api.CreateClient(bearer: null);
        var email = NewEmail("sso");
        var subject = "subject-" + Guid.NewGuid().ToString("N");
        var idToken = Authority.CreateIdToken(email.ToUpperInvariant(), name: "Sso Person", subject: subject);

        var response = await ExchangeAsync(client, idToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = await ReadJsonAsync(response);
        var token = session["token"]!.GetValue<string>();
        Assert.StartsWith("ahs_", token);
        Assert.InRange(session["expiresAt"]!.GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow, TimeSpan.FromHours(11.9), TimeSpan.FromHours(12.1));
        var user = session["user"]!;
        Assert.Equal(email, user["email"]!.GetValue<string>());
        Assert.Equal("member", user["role"]!.GetValue<string>());
        Assert.Equal("Sso Person", user["displayName"]!.GetValue<string>());

        using var signedIn = fixture.Api.CreateClient(token);
        var me = await ReadJsonAsync(await signedIn.GetAsync("/api/v2/me"));
        Assert.Equal(user["id"]!.GetValue<Guid>(), me["id"]!.GetValue<Guid>());

        // The same ID token cannot be exchanged twice; a fresh one for the same person finds the same user.
        Assert.Contains("already been exchanged", await AssertErrorAsync(await ExchangeAsync(client, idToken), HttpStatusCode.Unauthorized, "authentication_error"));
        var again = await ExchangeAsync(client, Authority.CreateIdToken(email, subject: subject));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(user["id"]!.GetValue<Guid>(), (await ReadJsonAsync(again))["user"]!["id"]!.GetValue<Guid>());
    }

    [Fact]
    public async Task An_existing_account_is_linked_by_a_verified_email_and_keeps_its_role()
    {
        var email = NewEmail("admin-sso");
        var (userId, _) = await CreateUserWithKeyAsync(fixture.Api, "admin", password: "a password here", email: email);
        using var client = fixture.Api.CreateClient(bearer: null);

        var response = await ExchangeAsync(client, Authority.CreateIdToken(email, emailVerified: true));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var user = (await ReadJsonAsync(response))["user"]!;
        Assert.Equal(userId, user["id"]!.GetValue<Guid>());
        Assert.Equal("admin", user["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bad_tokens_are_refused_with_a_message_that_says_why()
    {
        using var client = fixture.Api.CreateClient(bearer: null);
        var email = NewEmail("bad");
        using var otherKey = RSA.Create(2048);

        async Task<string> Refused(string idToken) =>
            await AssertErrorAsync(await ExchangeAsync(client, idToken), HttpStatusCode.Unauthorized, "authentication_error");

        Assert.Contains("another client", await Refused(Authority.CreateIdToken(email, audience: "someone-else")));
        Assert.Contains("another authority", await Refused(Authority.CreateIdToken(email, issuer: "https://evil.example.test")));
        Assert.Contains("expired", await Refused(Authority.CreateIdToken(email, expires: DateTimeOffset.UtcNow.AddMinutes(-5))));
        // A key the authority never published, under its key id and under another (the second forces a JWKS refetch).
        Assert.Contains("signature", await Refused(Authority.CreateIdToken(email, signWith: otherKey)));
        Assert.Contains("signature", await Refused(Authority.CreateIdToken(email, signWith: otherKey, keyId: "rotated-key")));
        Assert.Contains("not verified", await Refused(Authority.CreateIdToken(email, emailVerified: false)));
        Assert.Contains("'email'", await Refused(Authority.CreateIdToken(email, includeEmail: false)));
        Assert.Contains("well-formed", await Refused("not.a.jwt"));
        // An unsigned token (alg none) with otherwise perfect claims.
        var parts = Authority.CreateIdToken(email).Split('.');
        Assert.Contains("signature", await Refused($"{Base64Url("""{"alg":"none","typ":"JWT"}""")}.{parts[1]}."), StringComparison.OrdinalIgnoreCase);

        Assert.Contains("'idToken'", await AssertErrorAsync(await client.PostAsJsonAsync("/api/auth/oidc/exchange", new { }), HttpStatusCode.BadRequest, "invalid_request_error"));

        // None of them made a user.
        using var owner = fixture.Api.CreateClient(ApiFactory.OwnerKey);
        var users = await ReadJsonAsync(await owner.GetAsync("/api/admin/users"));
        Assert.DoesNotContain(users.AsArray(), u => u!["email"]!.GetValue<string>() == email);
    }

    [Fact]
    public async Task Methods_name_the_configured_provider()
    {
        using var client = fixture.Api.CreateClient(bearer: null);
        var methods = await ReadJsonAsync(await client.GetAsync("/api/auth/methods"));
        Assert.True(methods["password"]!.GetValue<bool>());
        Assert.True(methods["wallet"]!.GetValue<bool>());
        Assert.True(methods["oidc"]!["enabled"]!.GetValue<bool>());
        Assert.Equal("Corp SSO", methods["oidc"]!["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_configuration_the_exchange_is_404_and_methods_say_off()
    {
        await using var api = await ApiFactory.StartAsync();
        using var client = api.CreateClient(bearer: null);
        Assert.Contains("not configured", await AssertErrorAsync(await ExchangeAsync(client, Authority.CreateIdToken(NewEmail())), HttpStatusCode.NotFound, "not_found_error"));
        var methods = await ReadJsonAsync(await client.GetAsync("/api/auth/methods"));
        Assert.False(methods["oidc"]!["enabled"]!.GetValue<bool>());
        Assert.Null(methods["oidc"]!["displayName"]);
    }

    [Fact]
    public async Task An_unreachable_authority_is_a_503_not_a_500()
    {
        var authority = await FakeOidcAuthority.StartAsync();
        var token = authority.CreateIdToken(NewEmail());
        var settings = new Dictionary<string, string?>();
        OidcApiFixture.Configure(settings, authority);
        await authority.DisposeAsync();
        await using var api = await ApiFactory.StartAsync(configure: f =>
        {
            foreach (var (key, value) in settings)
            {
                f.Settings[key] = value;
            }
        });
        using var client = api.CreateClient(bearer: null);
        Assert.Contains("cannot be reached", await AssertErrorAsync(await ExchangeAsync(client, token), HttpStatusCode.ServiceUnavailable, "service_unavailable_error"));
    }

    private static string Base64Url(string json) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(json);
}
