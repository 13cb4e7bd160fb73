using System.Security.Claims;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Identity;

/// <summary>Self-service for members: <c>/api/v2/access-keys</c> (my keys) and <c>/api/v2/me</c>.</summary>
public static class AccessKeysApi
{
    public static RouteGroupBuilder MapAccessKeysApi(this IEndpointRouteBuilder app)
    {
        // Any key may read its holder's profile; managing keys takes a full-scope credential, so a leaked tool key
        // cannot mint itself a successor.
        app.MapGet("/api/v2/me", Me).WithTags("Access keys").RequireAuthorization(AuthorizationPolicies.Inference)
            .WithName("GetMe").WithSummary("The signed-in user's profile.");
        var group = app.MapGroup("/api/v2").WithTags("Access keys").RequireAuthorization(AuthorizationPolicies.Member);
        group.MapGet("/access-keys", ListMine).WithName("ListMyAccessKeys").WithSummary("My access keys (never the secrets).");
        group.MapPost("/access-keys", CreateMine).WithName("CreateMyAccessKey").WithSummary("Creates an access key for me (scope 'inference' unless 'full' is asked for); shown once.");
        group.MapDelete("/access-keys/{id:guid}", RevokeMine).WithName("RevokeMyAccessKey")
            .WithSummary("Revokes one of my keys, on every replica at once.");
        return group;
    }

    internal static async Task<Results<Ok<UserResponse>, JsonHttpResult<ErrorEnvelope>>> Me(ClaimsPrincipal caller, AigneHubDbContext db, CancellationToken ct)
    {
        var id = caller.GetUserId();
        var user = id is null ? null : await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct);
        return user is null ? ApiErrors.NotFound("The signed-in user no longer exists.") : TypedResults.Ok(UserResponse.From(user));
    }

    internal static async Task<Ok<List<AccessKeyResponse>>> ListMine(ClaimsPrincipal caller, AigneHubDbContext db, CancellationToken ct) =>
        TypedResults.Ok(await ListKeysAsync(db, caller.GetUserId()!.Value, ct));

    internal static Task<Results<Created<CreatedAccessKeyResponse>, JsonHttpResult<ErrorEnvelope>>> CreateMine(
        HttpRequest request, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct) =>
        CreateKeyAsync(request, caller.GetUserId()!.Value, AccessKeyScope.Inference, s, ct);

    internal static Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> RevokeMine(
        Guid id, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct) =>
        RevokeKeyAsync(caller.GetUserId()!.Value, id, s, ct);

    internal static async Task<List<AccessKeyResponse>> ListKeysAsync(AigneHubDbContext db, Guid userId, CancellationToken ct)
    {
        var rows = await db.AccessKeys.AsNoTracking().Where(k => k.UserId == userId).OrderByDescending(k => k.CreatedAt).ToListAsync(ct);
        return rows.Select(k => new AccessKeyResponse(k.Id, k.Prefix, k.Name, k.Kind == AccessKeyKind.Session ? "session" : "api",
            k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt, ScopeNames.Of(k.Scope))).ToList();
    }

    internal static async Task<Results<Created<CreatedAccessKeyResponse>, JsonHttpResult<ErrorEnvelope>>> CreateKeyAsync(
        HttpRequest request, Guid userId, AccessKeyScope defaultScope, IdentityServices s, CancellationToken ct)
    {
        // An empty body is fine here: a key with no name and no expiry.
        var body = new CreateAccessKeyRequest(null, null);
        if (request.ContentLength > 0 || (request.ContentLength is null && request.Headers.ContentType.Count > 0))
        {
            var (parsed, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.CreateAccessKeyRequest);
            if (error is not null)
            {
                return error;
            }
            body = parsed!;
        }
        if (body.Name is { Length: > 200 })
        {
            return ApiErrors.BadRequest("'name' must be at most 200 characters.");
        }
        if (body.ExpiresAt is { } expires && expires <= s.Time.GetUtcNow())
        {
            return ApiErrors.BadRequest("'expiresAt' must be in the future.");
        }
        var scope = defaultScope;
        if (body.Scope is not null && !ScopeNames.TryParse(body.Scope, out scope))
        {
            return ApiErrors.BadRequest("'scope' must be 'inference' or 'full'.", "scope");
        }
        var (row, secret) = s.Issuer.Add(s.Db, userId, AccessKeyKind.Api, string.IsNullOrWhiteSpace(body.Name) ? null : body.Name.Trim(), body.ExpiresAt, scope);
        await s.Db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v2/access-keys/{row.Id}",
            new CreatedAccessKeyResponse(row.Id, secret, row.Prefix, row.Name, row.ExpiresAt, ScopeNames.Of(row.Scope)));
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> RevokeKeyAsync(Guid userId, Guid keyId, IdentityServices s, CancellationToken ct)
    {
        var key = await s.Db.AccessKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.UserId == userId, ct);
        if (key is null)
        {
            return ApiErrors.NotFound($"Access key '{keyId}' not found.");
        }
        if (key.RevokedAt is null)
        {
            key.RevokedAt = s.Time.GetUtcNow();
            await s.Db.SaveChangesAsync(ct);
        }
        await s.Revocations.PublishAsync([key.Hash]);
        return TypedResults.NoContent();
    }
}
