using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using AigneHub.Api.Abuse;
using AigneHub.Api.Infrastructure;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace AigneHub.Api.Identity;

/// <summary>
/// <c>Authorization: Bearer &lt;key&gt;</c> (or <c>x-api-key: &lt;key&gt;</c>, which OpenAI/Anthropic clients send):
/// an access key or a sign-in session token. Keys are looked up by their SHA-256 hash through
/// <see cref="AccessKeyCache"/>. A request that carries two different credentials is refused rather than guessed at.
/// 401/403 answers are JSON in the <see cref="ErrorEnvelope"/> shape.
/// </summary>
internal sealed class AccessKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessKeyCache keys,
    AccessKeyUsageRecorder usage,
    UnknownCredentialGuard unknown,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AccessKey";
    public const string ApiKeyHeader = "x-api-key";
    /// <summary>Our keys are 52 characters; anything far longer is not one of ours.</summary>
    public const int MaxCredentialLength = 256;

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var authorization = Request.Headers.Authorization;
        var apiKey = Request.Headers[ApiKeyHeader];
        if (StringValues.IsNullOrEmpty(authorization) && StringValues.IsNullOrEmpty(apiKey))
        {
            return AuthenticateResult.NoResult();
        }
        if (authorization.Count > 1 || apiKey.Count > 1)
        {
            return AuthenticateResult.Fail("The request carries more than one credential header; send exactly one.");
        }

        string? bearer = null;
        if (!StringValues.IsNullOrEmpty(authorization))
        {
            var header = authorization.ToString().Trim();
            if (header.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
            {
                return AuthenticateResult.Fail("The access key is empty.");
            }
            if (header.Length > MaxCredentialLength + 7)
            {
                return AuthenticateResult.Fail("The Authorization header is too long to hold an AigneHub access key.");
            }
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return AuthenticateResult.Fail("The Authorization header must be 'Bearer <access key>'.");
            }
            bearer = header["Bearer ".Length..].Trim();
        }
        var fromApiKeyHeader = StringValues.IsNullOrEmpty(apiKey) ? null : apiKey.ToString().Trim();
        if (bearer is not null && fromApiKeyHeader is not null && bearer != fromApiKeyHeader)
        {
            return AuthenticateResult.Fail("The request carries two different credentials (Authorization and x-api-key); send one.");
        }

        var key = bearer ?? fromApiKeyHeader!;
        if (key.Length == 0)
        {
            return AuthenticateResult.Fail("The access key is empty.");
        }
        if (key.Length > MaxCredentialLength || !IsPrintableAscii(key))
        {
            return AuthenticateResult.Fail("The access key is malformed.");
        }

        var hash = AccessKeySecrets.Hash(key);
        var negativeKey = "ak:" + Convert.ToHexString(hash);
        if (unknown.RetryAfter(Context) is { } wait)
        {
            return AuthenticateResult.Fail(new TooManyUnknownCredentialsException(wait));
        }
        if (unknown.IsKnownUnknown(negativeKey))
        {
            return AuthenticateResult.Fail("The access key is not valid.");
        }
        var entry = await keys.FindAsync(hash, Context.RequestAborted);
        if (entry is null && await unknown.RecordUnknownAsync(Context, negativeKey) is { } refusedFor)
        {
            return AuthenticateResult.Fail(new TooManyUnknownCredentialsException(refusedFor));
        }
        // The cache is keyed by the hash already; the fixed-time comparison keeps a mismatch from ever being a
        // timing oracle should the lookup change.
        if (entry is null || !CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
        {
            return AuthenticateResult.Fail("The access key is not valid.");
        }
        if (entry.RevokedAt is not null)
        {
            return AuthenticateResult.Fail("The access key has been revoked.");
        }
        if (entry.ExpiresAt is { } expires && expires <= time.GetUtcNow())
        {
            return AuthenticateResult.Fail("The access key has expired.");
        }
        if (entry.UserDisabled)
        {
            return AuthenticateResult.Fail("The account is disabled.");
        }

        usage.Touch(entry.KeyId, entry.UserId);
        var identity = new ClaimsIdentity(
        [
            new Claim(AigneHubClaims.UserId, entry.UserId.ToString()),
            new Claim(AigneHubClaims.Role, entry.Role),
            new Claim(AigneHubClaims.AccessKeyId, entry.KeyId.ToString()),
            new Claim(AigneHubClaims.Scope, ScopeNames.Of(entry.Scope)),
        ], SchemeName, AigneHubClaims.UserId, AigneHubClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (await TooManyUnknownCredentialsException.TryWriteAsync(result.Failure, Response))
        {
            return;
        }
        var message = result.Failure?.Message ?? "Authentication required: send 'Authorization: Bearer <access key>'.";
        Response.Headers.WWWAuthenticate = "Bearer";
        await ApiErrors.WriteAsync(Response, StatusCodes.Status401Unauthorized, message, ErrorTypes.Authentication);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        ApiErrors.WriteAsync(Response, StatusCodes.Status403Forbidden,
            Context.User.FindFirstValue(AigneHubClaims.Scope) == ScopeNames.Inference && Context.User.GetRole() is not (null or UserRole.Guest)
                ? "This access key has the 'inference' scope: it may call AI routes, list models and read its holder's own usage, credits and profile, nothing else. Use a 'full' key or sign in."
                : "Your role does not allow this action.", ErrorTypes.Permission);

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }
        return true;
    }
}
