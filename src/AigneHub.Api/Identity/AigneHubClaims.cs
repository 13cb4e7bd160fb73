using System.Security.Claims;
using AigneHub.Data.Identity;

namespace AigneHub.Api.Identity;

/// <summary>The claims every authenticated AigneHub principal carries, whatever the scheme.</summary>
public static class AigneHubClaims
{
    public const string UserId = "sub";
    public const string Role = "role";
    public const string AccessKeyId = "aignehub:key";
    /// <summary>The key's <see cref="AccessKeyScope"/> (<c>inference</c> or <c>full</c>).</summary>
    public const string Scope = "aignehub:scope";
    /// <summary>v1 component calls: the registered app's id.</summary>
    public const string AppId = "aignehub:app";
    /// <summary>v1 component calls: the end user the app acts for (<c>x-app-user-did</c>), when given.</summary>
    public const string AppUserDid = "aignehub:app-user-did";

    public static Guid? GetUserId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(UserId), out var id) ? id : null;

    public static Guid? GetAccessKeyId(this ClaimsPrincipal principal) =>
        Guid.TryParse(principal.FindFirstValue(AccessKeyId), out var id) ? id : null;

    public static UserRole? GetRole(this ClaimsPrincipal principal) =>
        Enum.TryParse<UserRole>(principal.FindFirstValue(Role), ignoreCase: true, out var role) ? role : null;
}

/// <summary>Every route names one of these (a test enumerates the endpoints to make sure).</summary>
public static class AuthorizationPolicies
{
    /// <summary>Owners and admins with a full-scope credential: everything under <c>/api/admin</c>.</summary>
    public const string Admin = "admin";
    /// <summary>Owners only, full scope (e.g. changing roles).</summary>
    public const string Owner = "owner";
    /// <summary>A member, admin or owner (not a guest) with a full-scope credential: e.g. managing their own keys.</summary>
    public const string Member = "member";
    /// <summary>
    /// A member, admin or owner with any credential, <c>inference</c>-scoped keys included: AI calls, model lists,
    /// the caller's own usage, credits and profile. Routes opt in to this; every other policy requires full scope.
    /// </summary>
    public const string Inference = "inference";
    /// <summary>A signed v1 component call whose app has a current subscription.</summary>
    public const string App = "app";
    /// <summary>Any signed-in person or key, guests included (e.g. signing out).</summary>
    public const string SignedIn = "signed-in";
}
