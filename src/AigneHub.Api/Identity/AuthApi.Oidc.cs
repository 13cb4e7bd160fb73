using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using StackExchange.Redis;

namespace AigneHub.Api.Identity;

/// <summary>
/// OpenID Connect sign-in, Api half: the Admin runs the browser flow and hands the ID token here; this side validates
/// it (<see cref="OidcTokenValidator"/>) and answers the same session as a password sign-in.
/// </summary>
public static partial class AuthApi
{
    private const string UsedIdTokenKey = "aignehub:oidc:used:";
    private const int MaxIdTokenLength = 16 * 1024;

    internal static Ok<AuthMethodsResponse> Methods(OidcTokenValidator oidc) =>
        TypedResults.Ok(new AuthMethodsResponse(true, true, new OidcMethodResponse(oidc.Enabled, oidc.Enabled ? oidc.DisplayName : null)));

    internal static async Task<Results<Ok<SessionResponse>, JsonHttpResult<ErrorEnvelope>>> OidcExchange(
        HttpRequest request, OidcTokenValidator oidc, IdentityServices s, CancellationToken ct)
    {
        if (!oidc.Enabled)
        {
            return ApiErrors.NotFound("OpenID Connect sign-in is not configured on this hub (AigneHub:Auth:Oidc).");
        }
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.OidcExchangeRequest);
        if (error is not null)
        {
            return error;
        }
        if (string.IsNullOrWhiteSpace(body!.IdToken) || body.IdToken.Length > MaxIdTokenLength)
        {
            return ApiErrors.BadRequest($"'idToken' is required (a JWT of at most {MaxIdTokenLength} characters).");
        }

        var (identity, rejection) = await oidc.ValidateAsync(body.IdToken, ct);
        if (rejection is not null)
        {
            return rejection.Status == StatusCodes.Status503ServiceUnavailable
                ? ApiErrors.Unavailable(rejection.Message)
                : ApiErrors.Unauthorized(rejection.Message);
        }

        // One session per ID token: a token copied out of a log or a browser cannot be exchanged again while it is
        // still within its lifetime. The mark lives exactly as long as the token could still validate.
        var now = s.Time.GetUtcNow();
        var markFor = identity!.ExpiresAt - now + TimeSpan.FromMinutes(1);
        var mark = UsedIdTokenKey + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body.IdToken)));
        if (!await s.Redis.StringSetAsync(mark, "1", markFor > TimeSpan.Zero ? markFor : TimeSpan.FromMinutes(1), When.NotExists))
        {
            return ApiErrors.Unauthorized("This ID token has already been exchanged for a session; sign in again.");
        }

        var user = await FindOrCreateOidcUserAsync(s, identity, ct);
        if (user.Disabled)
        {
            return ApiErrors.Forbidden("The account is disabled.");
        }
        return TypedResults.Ok(await IssueSessionAsync(s, user, "single sign-on", ct));
    }

    /// <summary>
    /// People are matched by email: an enterprise directory is the source of truth for addresses, and an owner who
    /// created an account for alice@corp before SSO was turned on expects her SSO sign-in to land in it.
    /// </summary>
    private static Task<User> FindOrCreateOidcUserAsync(IdentityServices s, OidcIdentity identity, CancellationToken ct) =>
        FindOrCreateMemberAsync(s, u => u.Email == identity.Email, () => new User
        {
            Email = identity.Email,
            DisplayName = identity.Name is { Length: <= 200 } name ? name : null,
            Role = UserRole.Member,
            CreatedAt = s.Time.GetUtcNow(),
        }, ct);
}
