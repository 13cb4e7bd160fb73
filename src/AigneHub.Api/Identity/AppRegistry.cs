using AigneHub.Api.Infrastructure;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.EntityFrameworkCore;
using ZiggyCreatures.Caching.Fusion;

namespace AigneHub.Api.Identity;

public sealed record CachedApp(Guid Id, string Name, byte[] PublicKey, SubscriptionStatus? Status, DateTimeOffset? CurrentPeriodEnd);

/// <summary>
/// Registered apps (public key and subscription) for the v1 hot path: cached in memory for <see cref="CacheFor"/>
/// in the <see cref="ReplicatedCache"/>, and expired on every replica by <see cref="ChangedAsync"/> when an admin
/// changes the app or its subscription.
/// </summary>
public sealed class AppRegistry(ReplicatedCache cache, IServiceScopeFactory scopes)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);

    private static readonly FusionCacheEntryOptions Entry = ReplicatedCache.Lookup(CacheFor);

    public ValueTask<CachedApp?> FindAsync(Guid appId, CancellationToken cancellationToken) =>
        cache.GetOrLoadAsync<CachedApp?>(CacheKey(appId), (context, token) => LoadAsync(appId, context, token), Entry, cancellationToken);

    /// <summary>Call after changing the app or its subscription in the database.</summary>
    public ValueTask ChangedAsync(Guid appId) => cache.InvalidateAsync(CacheKey(appId));

    private static string CacheKey(Guid appId) => "app:" + appId;

    private async Task<CachedApp?> LoadAsync(Guid appId, FusionCacheFactoryExecutionContext<CachedApp?> context, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var app = await db.Set<App>().AsNoTracking().Include(a => a.Subscription).FirstOrDefaultAsync(a => a.Id == appId, cancellationToken);
        if (app is null)
        {
            // Not cached: unknown ids are remembered by Abuse.UnknownCredentialGuard (size-bounded), so a flood of
            // made-up ids cannot fill this shared cache.
            context.Options.SkipMemoryCacheWrite = true;
            return null;
        }
        return new CachedApp(app.Id, app.Name, app.PublicKey, app.Subscription?.Status, app.Subscription?.CurrentPeriodEnd);
    }
}

/// <summary>v1 is billed by subscription: served only while the app's subscription is active or trialing and its
/// period has not ended.</summary>
public sealed class CurrentSubscriptionRequirement : IAuthorizationRequirement;

internal sealed class SubscriptionFailure(IAuthorizationHandler handler, string message) : AuthorizationFailureReason(handler, message);

internal sealed class CurrentSubscriptionHandler(AppRegistry apps, TimeProvider time) : AuthorizationHandler<CurrentSubscriptionRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, CurrentSubscriptionRequirement requirement)
    {
        if (!Guid.TryParse(context.User.FindFirst(AigneHubClaims.AppId)?.Value, out var appId))
        {
            return;
        }
        var app = await apps.FindAsync(appId, CancellationToken.None);
        var message = Describe(app, appId, time.GetUtcNow());
        if (message is null)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new SubscriptionFailure(this, message));
        }
    }

    /// <summary>Null when the subscription is current, else why not.</summary>
    internal static string? Describe(CachedApp? app, Guid appId, DateTimeOffset now) => app switch
    {
        null => $"App '{appId}' is not registered.",
        { Status: null } => $"App '{appId}' has no subscription; v1 calls need an active one.",
        { Status: not (SubscriptionStatus.Active or SubscriptionStatus.Trialing) } =>
            $"App '{appId}' subscription is {SubscriptionStatuses.Name(app.Status.Value)}; v1 calls need an active or trialing subscription.",
        _ when app.CurrentPeriodEnd <= now => $"App '{appId}' subscription period ended at {app.CurrentPeriodEnd:O}; renew it to call v1.",
        _ => null,
    };
}

/// <summary>Turns a failed subscription check into 402 with the reason; everything else as usual (our handlers
/// write 401/403 JSON).</summary>
internal sealed class IdentityAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden
            && authorizeResult.AuthorizationFailure?.FailureReasons.OfType<SubscriptionFailure>().FirstOrDefault() is { } failure)
        {
            await ApiErrors.WriteAsync(context.Response, StatusCodes.Status402PaymentRequired, failure.Message, ErrorTypes.Subscription);
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}

public static class SubscriptionStatuses
{
    public static string Name(SubscriptionStatus status) => status switch
    {
        SubscriptionStatus.Active => "active",
        SubscriptionStatus.Trialing => "trialing",
        SubscriptionStatus.PastDue => "past_due",
        _ => "canceled",
    };

    public static bool TryParse(string? text, out SubscriptionStatus status)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "active": status = SubscriptionStatus.Active; return true;
            case "trialing": status = SubscriptionStatus.Trialing; return true;
            case "past_due": status = SubscriptionStatus.PastDue; return true;
            case "canceled": status = SubscriptionStatus.Canceled; return true;
            default: status = default; return false;
        }
    }
}
