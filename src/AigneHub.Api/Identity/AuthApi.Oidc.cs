using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
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

    internal static Ok<AuthMethodsResponse> Methods(OidcTokenValidator oidc, IOptions<AuthOptions> options) =>
        TypedResults.Ok(new AuthMethodsResponse(true, true, new OidcMethodResponse(oidc.Enabled, oidc.Enabled ? oidc.DisplayName : null),
            Registration.Name(options.Value.Registration)));

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

        var (user, refusal) = await FindOrLinkOidcUserAsync(s, identity, ct);
        if (refusal is not null)
        {
            return refusal;
        }
        if (user!.Disabled)
        {
            return ApiErrors.Forbidden("The account is disabled.");
        }
        return TypedResults.Ok(await IssueSessionAsync(s, user, "single sign-on", ct));
    }

    /// <summary>
    /// The account of an SSO identity. Found by (issuer, subject) — never by email alone, which an identity provider
    /// may let a person set to anything. An email is linked, once, only when the provider says it is verified: to
    /// the existing account with that email if it is not an owner's and has no SSO link yet, or to a new account
    /// the registration policy admits (an invitation names the email). Owner accounts are never reached through
    /// SSO by email: the bootstrap owner's address is often guessable and its power is the whole hub.
    /// </summary>
    private static async Task<(User? User, JsonHttpResult<ErrorEnvelope>? Refusal)> FindOrLinkOidcUserAsync(
        IdentityServices s, OidcIdentity identity, CancellationToken ct)
    {
        var linked = await s.Db.Users.FirstOrDefaultAsync(u => u.OidcIssuer == identity.Issuer && u.OidcSubject == identity.Subject, ct);
        if (linked is not null)
        {
            return (linked, null);
        }
        if (identity.Email is not { } email)
        {
            return (null, ApiErrors.Unauthorized("The ID token carries no 'email' claim; ask the identity provider to release the 'email' scope to AigneHub."));
        }
        if (!identity.EmailVerified)
        {
            return (null, ApiErrors.Unauthorized(
                $"The identity provider has not verified the email address {email} (its ID token has no 'email_verified': true); AigneHub links single sign-on only to verified addresses."));
        }

        var existing = await s.Db.Users.FirstOrDefaultAsync(u => u.Email == email, ct);
        if (existing is not null)
        {
            if (existing.Role == UserRole.Owner)
            {
                return (null, ApiErrors.Forbidden($"The account {email} is an owner's; single sign-on never links to an owner account. Sign in with its password or key."));
            }
            if (existing.OidcSubject is not null)
            {
                return (null, ApiErrors.Forbidden($"The account {email} is already linked to another single sign-on identity; ask an admin."));
            }
            existing.OidcIssuer = identity.Issuer;
            existing.OidcSubject = identity.Subject;
            existing.DisplayName ??= identity.Name is { Length: <= 200 } name ? name : null;
            try
            {
                await s.Db.SaveChangesAsync(ct);
                return (existing, null);
            }
            catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                // The same identity signed in twice at once and the other request linked it first.
                s.Db.ChangeTracker.Clear();
                return (await s.Db.Users.FirstAsync(u => u.OidcIssuer == identity.Issuer && u.OidcSubject == identity.Subject, ct), null);
            }
        }

        return await Registration.FindOrRegisterAsync(s, u => u.OidcIssuer == identity.Issuer && u.OidcSubject == identity.Subject,
            new Registration.NewIdentity(email, email, Did: null), role => new User
            {
                Email = email,
                DisplayName = identity.Name is { Length: <= 200 } name ? name : null,
                OidcIssuer = identity.Issuer,
                OidcSubject = identity.Subject,
                Role = role,
                CreatedAt = s.Time.GetUtcNow(),
            }, ct);
    }
}
