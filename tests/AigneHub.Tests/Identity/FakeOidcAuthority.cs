using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace AigneHub.Tests.Identity;

/// <summary>A person the fake authority signs in at <c>/authorize</c> (it has no login form of its own).</summary>
public sealed record FakeOidcUser(string Email, string? Name = null, bool? EmailVerified = true, string? Subject = null);

/// <summary>
/// An OpenID Connect provider on loopback Kestrel: discovery, JWKS with an RSA key made for the test, and the
/// authorization-code flow (<c>/authorize</c> signs in <see cref="NextUser"/> at once and redirects back with a code;
/// <c>/token</c> checks the client secret, redirect URI and PKCE verifier and answers a signed ID token).
/// </summary>
public sealed class FakeOidcAuthority : IAsyncDisposable
{
    public const string ClientId = "aignehub-admin";
    public const string ClientSecret = "fake-oidc-client-secret";
    public const string KeyId = "fake-key-1";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, PendingCode> _codes = new();

    private sealed record PendingCode(string RedirectUri, string? Nonce, string? CodeChallenge, FakeOidcUser User);

    private FakeOidcAuthority(WebApplication app) => _app = app;

    public RSA Key { get; } = RSA.Create(2048);

    /// <summary>The issuer and authority: <c>http://127.0.0.1:port</c>, no trailing slash.</summary>
    public string Authority { get; private set; } = "";

    public FakeOidcUser NextUser { get; set; } = new("sso-user@corp.test", "SSO User");

    /// <summary>Requests to <c>/token</c>, for assertions on what the client sent.</summary>
    public ConcurrentQueue<string> TokenRequests { get; } = new();

    public static async Task<FakeOidcAuthority> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var authority = new FakeOidcAuthority(app);
        authority.Map(app);
        await app.StartAsync();
        authority.Authority = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return authority;
    }

    private void Map(WebApplication app)
    {
        app.MapGet("/.well-known/openid-configuration", () => Results.Text(new JsonObject
        {
            ["issuer"] = Authority,
            ["authorization_endpoint"] = Authority + "/authorize",
            ["token_endpoint"] = Authority + "/token",
            ["jwks_uri"] = Authority + "/jwks",
            ["response_types_supported"] = new JsonArray("code"),
            ["subject_types_supported"] = new JsonArray("public"),
            ["id_token_signing_alg_values_supported"] = new JsonArray("RS256"),
            ["code_challenge_methods_supported"] = new JsonArray("S256"),
            ["scopes_supported"] = new JsonArray("openid", "profile", "email"),
        }.ToJsonString(), "application/json"));

        app.MapGet("/jwks", () =>
        {
            var p = Key.ExportParameters(includePrivateParameters: false);
            return Results.Text(new JsonObject
            {
                ["keys"] = new JsonArray(new JsonObject
                {
                    ["kty"] = "RSA",
                    ["use"] = "sig",
                    ["alg"] = "RS256",
                    ["kid"] = KeyId,
                    ["n"] = Base64UrlEncoder.Encode(p.Modulus),
                    ["e"] = Base64UrlEncoder.Encode(p.Exponent),
                }),
            }.ToJsonString(), "application/json");
        });

        app.MapGet("/authorize", (HttpRequest request) =>
        {
            var q = request.Query;
            if (q["client_id"] != ClientId || q["response_type"] != "code" || string.IsNullOrEmpty(q["redirect_uri"]))
            {
                return Results.BadRequest("unknown client, response type or redirect_uri");
            }
            var code = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            _codes[code] = new PendingCode(q["redirect_uri"]!, q["nonce"], q["code_challenge"], NextUser);
            var separator = q["redirect_uri"].ToString().Contains('?') ? '&' : '?';
            return Results.Redirect($"{q["redirect_uri"]}{separator}code={code}&state={Uri.EscapeDataString(q["state"].ToString())}");
        });

        app.MapPost("/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            TokenRequests.Enqueue(string.Join("&", form.Select(f => $"{f.Key}={f.Value}")));
            var (clientId, secret) = ClientCredentials(request, form);
            if (clientId != ClientId || secret != ClientSecret)
            {
                return Results.Json(new { error = "invalid_client" }, statusCode: 401);
            }
            if (form["grant_type"] != "authorization_code" || !_codes.TryRemove(form["code"].ToString(), out var pending)
                || pending.RedirectUri != form["redirect_uri"])
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: 400);
            }
            if (pending.CodeChallenge is { Length: > 0 } challenge
                && Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(form["code_verifier"].ToString()))) != challenge)
            {
                return Results.Json(new { error = "invalid_grant", error_description = "PKCE verifier mismatch" }, statusCode: 400);
            }
            var user = pending.User;
            return Results.Json(new
            {
                access_token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                token_type = "Bearer",
                expires_in = 300,
                id_token = CreateIdToken(user.Email, name: user.Name, emailVerified: user.EmailVerified, nonce: pending.Nonce, subject: user.Subject),
            });
        });
    }

    private static (string? ClientId, string? Secret) ClientCredentials(HttpRequest request, IFormCollection form)
    {
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header) && header.Scheme == "Basic" && header.Parameter is not null)
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter)).Split(':', 2);
            return (Uri.UnescapeDataString(pair[0]), pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : null);
        }
        return (form["client_id"], form["client_secret"]);
    }

    /// <summary>An ID token as this authority would issue it; every parameter can be bent to make a bad one.</summary>
    public string CreateIdToken(string email, string? audience = ClientId, string? issuer = null, DateTimeOffset? expires = null,
        RSA? signWith = null, string keyId = KeyId, bool? emailVerified = true, string? nonce = null, string? name = null, string? subject = null,
        bool includeEmail = true)
    {
        var expiresAt = expires ?? DateTimeOffset.UtcNow.AddMinutes(5);
        var claims = new Dictionary<string, object> { ["sub"] = subject ?? "sub-" + email };
        if (includeEmail)
        {
            claims["email"] = email;
        }
        if (emailVerified is { } verified)
        {
            claims["email_verified"] = verified;
        }
        if (name is not null)
        {
            claims["name"] = name;
        }
        if (nonce is not null)
        {
            claims["nonce"] = nonce;
        }
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Authority,
            Audience = audience,
            IssuedAt = expiresAt.AddMinutes(-10).UtcDateTime,
            NotBefore = expiresAt.AddMinutes(-10).UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new RsaSecurityKey(signWith ?? Key) { KeyId = keyId }, SecurityAlgorithms.RsaSha256),
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        Key.Dispose();
    }
}
