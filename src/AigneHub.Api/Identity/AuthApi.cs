using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AigneHub.Api.Identity;

/// <summary>Dependencies of the identity routes (a scoped service: it holds the DbContext).</summary>
public sealed class IdentityServices(
    AigneHubDbContext db,
    AccessKeyIssuer issuer,
    AccessKeyRevocations revocations,
    IPasswordHasher<User> passwords,
    IConnectionMultiplexer redis,
    IOptions<AuthOptions> options,
    TimeProvider time)
{
    public AigneHubDbContext Db { get; } = db;
    public AccessKeyIssuer Issuer { get; } = issuer;
    public AccessKeyRevocations Revocations { get; } = revocations;
    public IPasswordHasher<User> Passwords { get; } = passwords;
    public IDatabase Redis { get; } = redis.GetDatabase();
    public AuthOptions Options { get; } = options.Value;
    public TimeProvider Time { get; } = time;
}

/// <summary>
/// Sign-in for people: email + password and wallet (<c>did:key</c>, Ed25519) challenge–response. Both issue a
/// session token (an <see cref="AccessKeyKind.Session"/> key, <c>ahs_…</c>, 12 h) used as a Bearer credential by
/// HTTP clients and by the Admin server alike; see docs/designs/auth.md for why.
/// </summary>
public static partial class AuthApi
{
    public static readonly TimeSpan ChallengeLifetime = TimeSpan.FromMinutes(5);
    private const string WalletNonceKey = "aignehub:wallet:nonce:";

    /// <summary>Verified against when the email is unknown, so that a wrong email costs as long as a wrong password.</summary>
    private static readonly string DummyHash = new PasswordHasher<User>().HashPassword(new User { Email = "x" }, "not a password");

    public static RouteGroupBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("Sign-in").WithRedisUnavailableAs503();
        group.MapPost("/login", Login).AllowAnonymous().WithName("Login")
            .WithSummary("Email + password sign-in; returns a session token. Throttled per email and client address across replicas.");
        group.MapPost("/logout", Logout).RequireAuthorization(AuthorizationPolicies.SignedIn).WithName("Logout")
            .WithSummary("Revokes the session token the request carries.");
        group.MapPost("/wallet/challenge", WalletChallenge).AllowAnonymous().WithName("WalletChallenge")
            .WithSummary("Issues a single-use, 5-minute sign-in message for a did:key to sign.");
        group.MapPost("/wallet/verify", WalletVerify).AllowAnonymous().WithName("WalletVerify")
            .WithSummary("Verifies the signed message and returns a session token; a new DID gets an account only as the registration policy allows.");
        group.MapGet("/methods", Methods).AllowAnonymous().WithName("SignInMethods")
            .WithSummary("Which sign-in methods this hub offers (password, wallet, OpenID Connect when configured).");
        group.MapPost("/oidc/exchange", OidcExchange).AllowAnonymous().WithName("OidcExchange")
            .WithSummary("Exchanges an ID token of the configured OpenID Connect provider (validated here) for a session token; 404 when OIDC is off.");
        return group;
    }

    internal static async Task<Results<Ok<SessionResponse>, JsonHttpResult<ErrorEnvelope>>> Login(
        HttpRequest request, HttpResponse response, IdentityServices s, LoginThrottle throttle, CancellationToken ct)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.LoginRequest);
        if (error is not null)
        {
            return error;
        }
        var email = body!.Email?.Trim().ToLowerInvariant();
        if (!UsersApi.IsEmail(email))
        {
            return ApiErrors.BadRequest("'email' is required and must be an email address.");
        }
        Audit.AuditLog.NoteTarget(request.HttpContext, email);
        if (string.IsNullOrEmpty(body.Password) || body.Password.Length > 256)
        {
            return ApiErrors.BadRequest("'password' is required (at most 256 characters).");
        }

        // Counted before the password is checked, per (email, client address) with growing delays; see LoginThrottle.
        var client = request.HttpContext.Connection.RemoteIpAddress;
        if (await throttle.TryReserveAsync(email!, client) is { } wait)
        {
            var seconds = LoginThrottle.RetryAfterSeconds(wait);
            response.Headers.RetryAfter = seconds;
            return ApiErrors.Result(StatusCodes.Status429TooManyRequests,
                $"Too many failed sign-ins for this email from this address; try again in {seconds} s.", ErrorTypes.RateLimit);
        }

        var user = await s.Db.Users.FirstOrDefaultAsync(u => u.Email == email, ct);
        var verified = s.Passwords.VerifyHashedPassword(user ?? new User { Email = email! }, user?.PasswordHash ?? DummyHash, body.Password);
        if (user?.PasswordHash is null || verified == PasswordVerificationResult.Failed)
        {
            return ApiErrors.Unauthorized("The email or password is wrong.");
        }
        await throttle.SucceededAsync(email!, client);
        if (user.Disabled)
        {
            return ApiErrors.Forbidden("The account is disabled.");
        }
        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = s.Passwords.HashPassword(user, body.Password);
        }
        return TypedResults.Ok(await IssueSessionAsync(s, user, "password sign-in", ct));
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> Logout(ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        var keyId = caller.GetAccessKeyId();
        var key = keyId is null ? null : await s.Db.AccessKeys.FirstOrDefaultAsync(k => k.Id == keyId, ct);
        if (key is null || key.Kind != AccessKeyKind.Session)
        {
            return ApiErrors.BadRequest("Only a session token can be signed out; revoke an access key with DELETE /api/v2/access-keys/{id}.");
        }
        key.RevokedAt ??= s.Time.GetUtcNow();
        await s.Db.SaveChangesAsync(ct);
        await s.Revocations.PublishAsync([key.Hash]);
        return TypedResults.NoContent();
    }

    internal static async Task<Results<Ok<WalletChallengeResponse>, JsonHttpResult<ErrorEnvelope>>> WalletChallenge(
        HttpRequest request, IdentityServices s)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.WalletChallengeRequest);
        if (error is not null)
        {
            return error;
        }
        if (DidKey.PublicKeyOf(body!.Did) is null)
        {
            return ApiErrors.BadRequest("'did' must be a did:key of an Ed25519 key (did:key:z6Mk…, multicodec 0xed01, base58btc).");
        }
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var now = s.Time.GetUtcNow();
        var expiresAt = now + ChallengeLifetime;
        var message = WalletMessage(MessageHost(request, s.Options), body.Did!, nonce, now, expiresAt);
        await s.Redis.StringSetAsync(WalletNonceKey + nonce, body.Did + "\n" + message, ChallengeLifetime);
        return TypedResults.Ok(new WalletChallengeResponse(nonce, message, expiresAt));
    }

    /// <summary>
    /// The site the person is signing in to: the public address when configured (the Admin, which asks the Api on
    /// their behalf over an internal address), otherwise the host the request was sent to.
    /// </summary>
    private static string MessageHost(HttpRequest request, AuthOptions options) =>
        Uri.TryCreate(options.PublicBaseUrl, UriKind.Absolute, out var publicUrl) ? publicUrl.Authority : request.Host.Value ?? "aignehub";

    /// <summary>The exact text the wallet signs (UTF-8, <c>\n</c> line ends, no trailing newline).</summary>
    public static string WalletMessage(string host, string did, string nonce, DateTimeOffset issuedAt, DateTimeOffset expiresAt) =>
        $"{host} wants you to sign in to AigneHub with your DID:\n{did}\n\nNonce: {nonce}\nIssued At: {issuedAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}\nExpiration Time: {expiresAt.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}";

    internal static async Task<Results<Ok<SessionResponse>, JsonHttpResult<ErrorEnvelope>>> WalletVerify(
        HttpRequest request, IdentityServices s, CancellationToken ct)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.WalletVerifyRequest);
        if (error is not null)
        {
            return error;
        }
        var publicKey = DidKey.PublicKeyOf(body!.Did);
        if (publicKey is null)
        {
            return ApiErrors.BadRequest("'did' must be a did:key of an Ed25519 key.");
        }
        Audit.AuditLog.NoteTarget(request.HttpContext, body.Did);
        if (body.Nonce is not { Length: 32 } nonce || !nonce.All(char.IsAsciiHexDigitLower))
        {
            return ApiErrors.BadRequest("'nonce' must be the nonce of a challenge.");
        }
        var signature = Ed25519Crypto.Decode(body.Signature, Ed25519Crypto.SignatureLength);
        if (signature is null)
        {
            return ApiErrors.BadRequest("'signature' must be a 64-byte Ed25519 signature in hex or base64url.");
        }

        // GETDEL: a nonce is good for one attempt, right or wrong.
        var stored = (string?)await s.Redis.StringGetDeleteAsync(WalletNonceKey + nonce);
        var newline = stored?.IndexOf('\n') ?? -1;
        if (stored is null || newline < 0 || stored[..newline] != body.Did)
        {
            return ApiErrors.Unauthorized("The challenge is unknown, expired, already used or for another DID; ask for a new one.");
        }
        var message = stored[(newline + 1)..];
        if (!Ed25519Crypto.Verify(publicKey, Encoding.UTF8.GetBytes(message), signature))
        {
            return ApiErrors.Unauthorized("The signature does not match the DID's key and the challenge message.");
        }

        var did = body.Did!;
        var (user, refusal) = await Registration.FindOrRegisterAsync(s, u => u.Did == did,
            new Registration.NewIdentity(did, Email: null, Did: did), role => new User
            {
                Did = did,
                Email = did.ToLowerInvariant() + "@wallet.local",
                Role = role,
                CreatedAt = s.Time.GetUtcNow(),
            }, ct);
        if (refusal is not null)
        {
            return refusal;
        }
        if (user!.Disabled)
        {
            return ApiErrors.Forbidden("The account is disabled.");
        }
        return TypedResults.Ok(await IssueSessionAsync(s, user, "wallet sign-in", ct));
    }

    internal static async Task<SessionResponse> IssueSessionAsync(IdentityServices s, User user, string name, CancellationToken ct)
    {
        var expiresAt = s.Time.GetUtcNow() + s.Options.SessionLifetime;
        // A session is the person signed in: it carries their role's whole power.
        var (_, token) = s.Issuer.Add(s.Db, user.Id, AccessKeyKind.Session, name, expiresAt, AccessKeyScope.Full);
        user.LastSeenAt = s.Time.GetUtcNow();
        await s.Db.SaveChangesAsync(ct);
        return new SessionResponse(token, expiresAt, UserResponse.From(user));
    }
}
