using System.Security.Claims;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Identity;

internal static class UserResponses
{
    extension(UserResponse)
    {
        /// <summary>A user as the wire shows them (never the password hash, only whether there is one).</summary>
        public static UserResponse From(User u) =>
            new(u.Id, u.Email, u.DisplayName, u.Did, RoleNames.Of(u.Role), u.Disabled, u.PasswordHash is not null, u.CreatedAt, u.LastSeenAt);
    }
}

/// <summary>
/// <c>/api/admin/users</c>: owners and admins manage people and their keys. Owner-only: creating an owner, changing
/// anyone's role, and disabling an owner. The last enabled owner can be neither demoted nor disabled.
/// </summary>
public static class UsersApi
{
    public const int MinimumPasswordLength = 8;
    /// <summary>Advisory lock id taken while a change could remove an owner ("AHOWNERS").</summary>
    private const long OwnersLockId = 0x41484F574E455253;

    public static RouteGroupBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/users").WithTags("Users").RequireAuthorization(AuthorizationPolicies.Admin);
        group.MapGet("/", ListUsers).WithName("ListUsers").WithSummary("All users, newest first.");
        group.MapPost("/", CreateUser).WithName("CreateUser").WithSummary("Creates a user (owner role: owners only).");
        group.MapGet("/{id:guid}", GetUser).WithName("GetUser").WithSummary("One user.");
        group.MapPatch("/{id:guid}", UpdateUser).WithName("UpdateUser")
            .WithSummary("Changes role (owners only), disabled flag or display name; the last owner stays an enabled owner.");
        group.MapGet("/{id:guid}/access-keys", ListUserKeys).WithName("ListUserAccessKeys").WithSummary("A user's keys (never the secrets).");
        group.MapPost("/{id:guid}/access-keys", CreateUserKey).WithName("CreateUserAccessKey")
            .WithSummary("Creates an access key for a user (scope 'full' unless 'inference' is asked for); the key is shown once.");
        group.MapDelete("/{id:guid}/access-keys/{keyId:guid}", RevokeUserKey).WithName("RevokeUserAccessKey")
            .WithSummary("Revokes one of a user's keys, on every replica at once.");
        return group;
    }

    internal static async Task<Ok<List<UserResponse>>> ListUsers(IdentityServices s, CancellationToken ct)
    {
        var users = await s.Db.Users.AsNoTracking().OrderByDescending(u => u.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(users.Select(UserResponse.From).ToList());
    }

    internal static async Task<Results<Ok<UserResponse>, JsonHttpResult<ErrorEnvelope>>> GetUser(Guid id, IdentityServices s, CancellationToken ct)
    {
        var user = await s.Db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct);
        return user is null ? ApiErrors.NotFound($"User '{id}' not found.") : TypedResults.Ok(UserResponse.From(user));
    }

    internal static async Task<Results<Created<UserResponse>, JsonHttpResult<ErrorEnvelope>>> CreateUser(
        HttpRequest request, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.CreateUserRequest);
        if (error is not null)
        {
            return error;
        }
        var email = body!.Email?.Trim().ToLowerInvariant();
        if (!IsEmail(email))
        {
            return ApiErrors.BadRequest("'email' is required and must be an email address (at most 320 characters).");
        }
        if (!RoleNames.TryParse(body.Role, out var role))
        {
            return ApiErrors.BadRequest("'role' is required: one of owner, admin, member, guest.");
        }
        if (body.DisplayName is { Length: > 200 })
        {
            return ApiErrors.BadRequest("'displayName' must be at most 200 characters.");
        }
        if (body.Password is { } password && (password.Length < MinimumPasswordLength || password.Length > 256))
        {
            return ApiErrors.BadRequest($"'password' must be {MinimumPasswordLength} to 256 characters.");
        }
        if (role == UserRole.Owner && caller.GetRole() != UserRole.Owner)
        {
            return ApiErrors.Forbidden("Only an owner can create another owner.");
        }

        var user = new User
        {
            Email = email!,
            DisplayName = string.IsNullOrWhiteSpace(body.DisplayName) ? null : body.DisplayName.Trim(),
            Role = role,
            CreatedAt = s.Time.GetUtcNow(),
        };
        if (body.Password is not null)
        {
            user.PasswordHash = s.Passwords.HashPassword(user, body.Password);
        }
        s.Db.Users.Add(user);
        try
        {
            await s.Db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return ApiErrors.Conflict($"A user with email '{email}' already exists.");
        }
        return TypedResults.Created($"/api/admin/users/{user.Id}", UserResponse.From(user));
    }

    internal static async Task<Results<Ok<UserResponse>, JsonHttpResult<ErrorEnvelope>>> UpdateUser(
        Guid id, HttpRequest request, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.UpdateUserRequest);
        if (error is not null)
        {
            return error;
        }
        UserRole? newRole = null;
        if (body!.Role is not null)
        {
            if (!RoleNames.TryParse(body.Role, out var parsed))
            {
                return ApiErrors.BadRequest("'role' must be one of owner, admin, member, guest.");
            }
            newRole = parsed;
        }
        if (body.DisplayName is { Length: > 200 })
        {
            return ApiErrors.BadRequest("'displayName' must be at most 200 characters.");
        }

        // Serialise changes to owners: the "last owner" rule reads the owners and then writes, and two concurrent
        // demotions must not both see the other owner still in place. The retrying execution strategy owns the
        // transaction so that a transient failure replays the whole unit.
        var callerIsOwner = caller.GetRole() == UserRole.Owner;
        var outcome = await s.Db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            s.Db.ChangeTracker.Clear();
            await using var tx = await s.Db.Database.BeginTransactionAsync(ct);
            await s.Db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({OwnersLockId})", ct);
            var enabledOwners = await s.Db.Users.CountAsync(u => u.Role == UserRole.Owner && !u.Disabled, ct);
            var user = await s.Db.Users.FirstOrDefaultAsync(u => u.Id == id, ct);
            if (user is null)
            {
                return new UpdateOutcome(null, false, ApiErrors.NotFound($"User '{id}' not found."));
            }
            Audit.AuditLog.NoteBefore(request.HttpContext,
                System.Text.Json.JsonSerializer.SerializeToNode(UserResponse.From(user), IdentityJsonContext.Default.UserResponse));

            var roleChanges = newRole is { } r && r != user.Role;
            var disables = body.Disabled == true && !user.Disabled;
            if (roleChanges && !callerIsOwner)
            {
                return new UpdateOutcome(null, false, ApiErrors.Forbidden("Only an owner can change roles."));
            }
            if (user.Role == UserRole.Owner && body.Disabled is not null && body.Disabled != user.Disabled && !callerIsOwner)
            {
                return new UpdateOutcome(null, false, ApiErrors.Forbidden("Only an owner can disable or enable an owner."));
            }
            var removesAnOwner = user.Role == UserRole.Owner && !user.Disabled && (roleChanges || disables);
            if (removesAnOwner && enabledOwners <= 1)
            {
                return new UpdateOutcome(null, false, ApiErrors.Conflict(
                    "This is the last enabled owner: it cannot be demoted or disabled. Make another owner first."));
            }

            if (newRole is { } role)
            {
                user.Role = role;
            }
            if (body.Disabled is { } disabled)
            {
                user.Disabled = disabled;
            }
            if (body.DisplayName is not null)
            {
                user.DisplayName = string.IsNullOrWhiteSpace(body.DisplayName) ? null : body.DisplayName.Trim();
            }
            await s.Db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            return new UpdateOutcome(user, roleChanges || body.Disabled is not null, null);
        });
        if (outcome.Error is not null)
        {
            return outcome.Error;
        }

        if (outcome.InvalidatesKeys)
        {
            // Cached keys carry the role and the disabled flag: drop them everywhere.
            var hashes = await s.Db.AccessKeys.Where(k => k.UserId == id && k.RevokedAt == null).Select(k => k.Hash).ToListAsync(ct);
            await s.Revocations.PublishAsync(hashes);
        }
        return TypedResults.Ok(UserResponse.From(outcome.User!));
    }

    private sealed record UpdateOutcome(User? User, bool InvalidatesKeys, JsonHttpResult<ErrorEnvelope>? Error);

    internal static async Task<Results<Ok<List<AccessKeyResponse>>, JsonHttpResult<ErrorEnvelope>>> ListUserKeys(
        Guid id, IdentityServices s, CancellationToken ct)
    {
        if (!await s.Db.Users.AnyAsync(u => u.Id == id, ct))
        {
            return ApiErrors.NotFound($"User '{id}' not found.");
        }
        return TypedResults.Ok(await AccessKeysApi.ListKeysAsync(s.Db, id, ct));
    }

    internal static async Task<Results<Created<CreatedAccessKeyResponse>, JsonHttpResult<ErrorEnvelope>>> CreateUserKey(
        Guid id, HttpRequest request, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        var role = await s.Db.Users.Where(u => u.Id == id).Select(u => (UserRole?)u.Role).FirstOrDefaultAsync(ct);
        if (role is null)
        {
            return ApiErrors.NotFound($"User '{id}' not found.");
        }
        // A key for an owner is the owner's power: an admin minting one would be an escalation.
        if (role == UserRole.Owner && caller.GetRole() != UserRole.Owner)
        {
            return ApiErrors.Forbidden("Only an owner can create an access key for an owner.");
        }
        // An admin making a key for someone is usually provisioning a service account: full unless asked otherwise.
        return await AccessKeysApi.CreateKeyAsync(request, id, AccessKeyScope.Full, s, ct);
    }

    internal static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> RevokeUserKey(
        Guid id, Guid keyId, ClaimsPrincipal caller, IdentityServices s, CancellationToken ct)
    {
        var role = await s.Db.Users.Where(u => u.Id == id).Select(u => (UserRole?)u.Role).FirstOrDefaultAsync(ct);
        if (role == UserRole.Owner && caller.GetRole() != UserRole.Owner)
        {
            return ApiErrors.Forbidden("Only an owner can revoke an owner's access key.");
        }
        return await AccessKeysApi.RevokeKeyAsync(id, keyId, s, ct);
    }

    internal static bool IsEmail(string? email) =>
        email is { Length: >= 3 and <= 320 } && email.IndexOf('@') is > 0 and var at && at < email.Length - 1 && !email.Any(char.IsWhiteSpace);
}
