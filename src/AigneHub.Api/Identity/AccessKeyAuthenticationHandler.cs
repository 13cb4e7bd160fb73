using System.Security.Claims;
using System.Text.Encodings.Web;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Identity;

/// <summary>
/// <c>Authorization: Bearer &lt;access key&gt;</c>. Keys are looked up by their SHA-256 hash (the hash is the
/// index, so the comparison is the database's equality on a digest, not on the secret), cached briefly in memory.
/// </summary>
internal sealed class AccessKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IMemoryCache cache,
    IServiceScopeFactory scopes,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AccessKey";
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length > 512)
        {
            return AuthenticateResult.Fail("The Authorization header must be 'Bearer <access key>'.");
        }
        var key = header["Bearer ".Length..].Trim();
        if (key.Length == 0)
        {
            return AuthenticateResult.Fail("The access key is empty.");
        }

        var hash = Convert.ToHexString(AccessKeySecrets.Hash(key));
        var entry = await cache.GetOrCreateAsync($"ak:{hash}", async e =>
        {
            e.AbsoluteExpirationRelativeToNow = CacheFor;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
            var bytes = Convert.FromHexString(hash);
            return await db.Set<AccessKey>().AsNoTracking()
                .Where(k => k.Hash == bytes)
                .Select(k => new CachedKey(k.Id, k.UserId, k.User!.Role, k.User.Disabled, k.ExpiresAt, k.RevokedAt))
                .FirstOrDefaultAsync(Context.RequestAborted);
        });

        if (entry is null)
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

        var identity = new ClaimsIdentity(
        [
            new Claim(AigneHubClaims.UserId, entry.UserId.ToString()),
            new Claim(AigneHubClaims.Role, entry.Role.ToString().ToLowerInvariant()),
            new Claim(AigneHubClaims.AccessKeyId, entry.KeyId.ToString()),
        ], SchemeName, AigneHubClaims.UserId, AigneHubClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    private sealed record CachedKey(Guid KeyId, Guid UserId, UserRole Role, bool UserDisabled, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt);
}
