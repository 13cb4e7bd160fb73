using System.Linq.Expressions;
using AigneHub.Api.Infrastructure;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Identity;

/// <summary>
/// The one gate through which a sign-in of an identity the hub has not seen becomes an account, under
/// <see cref="AuthOptions.Registration"/>: closed → refused (403 <c>registration_closed</c>, nothing written);
/// invite → only with an open invitation naming that identity, consumed in the same transaction that creates the
/// account; open → an account with <see cref="AuthOptions.DefaultRole"/>.
/// </summary>
internal static class Registration
{
    /// <summary>What a new identity is, for matching an invitation and for the refusal's wording.</summary>
    public sealed record NewIdentity(string Description, string? Email, string? Did);

    public static string Name(RegistrationPolicy policy) => policy switch
    {
        RegistrationPolicy.Open => "open",
        RegistrationPolicy.Invite => "invite",
        _ => "closed",
    };

    /// <summary>
    /// The account <paramref name="match"/> finds, else a new one made by <paramref name="create"/> (given the role)
    /// if the policy admits <paramref name="identity"/>. Two sign-ins of a new person at once race on the unique
    /// indexes (and on the invitation row); the loser reads the winner's account.
    /// </summary>
    public static async Task<(User? User, JsonHttpResult<ErrorEnvelope>? Refusal)> FindOrRegisterAsync(
        IdentityServices s, Expression<Func<User, bool>> match, NewIdentity identity, Func<UserRole, User> create, CancellationToken ct)
    {
        var user = await s.Db.Users.FirstOrDefaultAsync(match, ct);
        if (user is not null)
        {
            return (user, null);
        }
        switch (s.Options.Registration)
        {
            case RegistrationPolicy.Open:
                return await CreateAsync(s, match, create(s.Options.DefaultUserRole), invitation: null, ct);
            case RegistrationPolicy.Invite:
                var now = s.Time.GetUtcNow();
                var invitation = await s.Db.Invitations.AsNoTracking()
                    .Where(i => i.UsedAt == null && i.RevokedAt == null && i.ExpiresAt > now
                        && ((identity.Email != null && i.Email == identity.Email) || (identity.Did != null && i.Did == identity.Did)))
                    .OrderBy(i => i.CreatedAt)
                    .FirstOrDefaultAsync(ct);
                if (invitation is null)
                {
                    return (null, Closed($"Registration on this hub is by invitation only, and there is no open invitation for {identity.Description}: ask an admin to invite you."));
                }
                return await CreateAsync(s, match, create(invitation.Role), invitation, ct);
            default:
                return (null, Closed("Registration is closed on this hub: ask an admin to create your account."));
        }
    }

    private static async Task<(User? User, JsonHttpResult<ErrorEnvelope>? Refusal)> CreateAsync(
        IdentityServices s, Expression<Func<User, bool>> match, User user, Invitation? invitation, CancellationToken ct)
    {
        try
        {
            var created = await s.Db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
            {
                s.Db.ChangeTracker.Clear();
                await using var tx = await s.Db.Database.BeginTransactionAsync(ct);
                if (invitation is not null)
                {
                    // Claim the invitation first: the row lock makes a second sign-in wait, then find it used.
                    var now = s.Time.GetUtcNow();
                    var claimed = await s.Db.Invitations
                        .Where(i => i.Id == invitation.Id && i.UsedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
                        .ExecuteUpdateAsync(u => u.SetProperty(i => i.UsedAt, now).SetProperty(i => i.UsedBy, user.Id), ct);
                    if (claimed == 0)
                    {
                        return false;
                    }
                }
                s.Db.Users.Add(user);
                await s.Db.SaveChangesAsync(ct);
                await tx.CommitAsync(ct);
                return true;
            });
            if (created)
            {
                return (user, null);
            }
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // fall through: someone else created the account first
        }
        s.Db.ChangeTracker.Clear();
        var winner = await s.Db.Users.FirstOrDefaultAsync(match, ct);
        return winner is not null
            ? (winner, null)
            : (null, Closed("The invitation has just been used or revoked: ask an admin for a new one."));
    }

    private static JsonHttpResult<ErrorEnvelope> Closed(string message) =>
        ApiErrors.Result(StatusCodes.Status403Forbidden, message, ErrorTypes.RegistrationClosed);
}
