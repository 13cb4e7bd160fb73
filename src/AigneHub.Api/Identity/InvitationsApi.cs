using System.Security.Claims;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Identity;

/// <summary>
/// <c>/api/admin/invitations</c>: who may create an account under <c>AigneHub:Auth:Registration = invite</c>.
/// Inviting someone as an owner is for owners only, as is creating one.
/// </summary>
public static class InvitationsApi
{
    public const int DefaultExpiresInDays = 7;
    public const int MaxExpiresInDays = 30;

    public static RouteGroupBuilder MapInvitationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/invitations").WithTags("Invitations").RequireAuthorization(AuthorizationPolicies.Admin);
        group.MapGet("/", List).WithName("ListInvitations").WithSummary("The registration policy and all invitations, newest first.");
        group.MapPost("/", Create).WithName("CreateInvitation")
            .WithSummary("Invites one identity (an email for single sign-on or a did:key for wallet sign-in) with a role; single use, expiring.");
        group.MapDelete("/{id:guid}", Revoke).WithName("RevokeInvitation").WithSummary("Revokes an unused invitation.");
        return group;
    }

    internal static async Task<Ok<InvitationsResponse>> List(IdentityServices s, CancellationToken ct)
    {
        var rows = await s.Db.Invitations.AsNoTracking().OrderByDescending(i => i.CreatedAt).Take(500).ToListAsync(ct);
        var now = s.Time.GetUtcNow();
        return TypedResults.Ok(new InvitationsResponse(Registration.Name(s.Options.Registration), RoleNames.Of(s.Options.DefaultUserRole),
            rows.Select(i => From(i, now)).ToList()));
    }

    internal static async Task<Results<Created<InvitationResponse>, JsonHttpResult<ErrorEnvelope>>> Create(
        HttpRequest request, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.CreateInvitationRequest);
        if (error is not null)
        {
            return error;
        }
        var email = string.IsNullOrWhiteSpace(body!.Email) ? null : body.Email.Trim().ToLowerInvariant();
        var did = string.IsNullOrWhiteSpace(body.Did) ? null : body.Did.Trim();
        if ((email is null) == (did is null))
        {
            return ApiErrors.BadRequest("Give exactly one of 'email' (for single sign-on) and 'did' (for wallet sign-in).", email is null ? "email" : "did");
        }
        if (email is not null && !UsersApi.IsEmail(email))
        {
            return ApiErrors.BadRequest("'email' must be an email address (at most 320 characters).", "email");
        }
        if (did is not null && DidKey.PublicKeyOf(did) is null)
        {
            return ApiErrors.BadRequest("'did' must be a did:key of an Ed25519 key (did:key:z6Mk…).", "did");
        }
        if (!RoleNames.TryParse(body.Role ?? RoleNames.Member, out var role))
        {
            return ApiErrors.BadRequest("'role' must be one of owner, admin, member, guest.", "role");
        }
        var days = body.ExpiresInDays ?? DefaultExpiresInDays;
        if (days is < 1 or > MaxExpiresInDays)
        {
            return ApiErrors.BadRequest($"'expiresInDays' must be 1 to {MaxExpiresInDays}.", "expiresInDays");
        }
        if (role == UserRole.Owner && caller.GetRole() != UserRole.Owner)
        {
            return ApiErrors.Forbidden("Only an owner can invite an owner.");
        }
        if (await s.Db.Users.AnyAsync(u => (email != null && u.Email == email) || (did != null && u.Did == did), ct))
        {
            return ApiErrors.Conflict("That identity already has an account.", email is null ? "did" : "email");
        }

        var now = s.Time.GetUtcNow();
        var invitation = new Invitation
        {
            Email = email,
            Did = did,
            Role = role,
            CreatedBy = caller.GetUserId()!.Value,
            CreatedAt = now,
            ExpiresAt = now.AddDays(days),
        };
        s.Db.Invitations.Add(invitation);
        await s.Db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/admin/invitations/{invitation.Id}", From(invitation, now));
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> Revoke(Guid id, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        var invitation = await s.Db.Invitations.FirstOrDefaultAsync(i => i.Id == id, ct);
        if (invitation is null)
        {
            return ApiErrors.NotFound($"Invitation '{id}' not found.");
        }
        if (invitation.Role == UserRole.Owner && caller.GetRole() != UserRole.Owner)
        {
            return ApiErrors.Forbidden("Only an owner can revoke an owner's invitation.");
        }
        if (invitation.UsedAt is not null)
        {
            return ApiErrors.Conflict("The invitation has been used; disable the account instead.");
        }
        invitation.RevokedAt ??= s.Time.GetUtcNow();
        await s.Db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static InvitationResponse From(Invitation i, DateTimeOffset now) =>
        new(i.Id, i.Email, i.Did, RoleNames.Of(i.Role),
            i.UsedAt is not null ? "used" : i.RevokedAt is not null ? "revoked" : i.ExpiresAt <= now ? "expired" : "open",
            i.CreatedBy, i.CreatedAt, i.ExpiresAt, i.UsedAt, i.UsedBy, i.RevokedAt);
}
