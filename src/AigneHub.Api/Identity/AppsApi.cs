using System.Security.Claims;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Identity;
using AigneHub.Data;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Identity;

/// <summary>
/// <c>/api/admin/apps</c>: v1 components (name + Ed25519 public key) and their subscriptions; and
/// <c>/api/v1/whoami</c>, a diagnostic v1 route that shows what the hub verified about a signed call.
/// </summary>
public static class AppsApi
{
    public static RouteGroupBuilder MapAppsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/apps").WithTags("Apps").RequireAuthorization(AuthorizationPolicies.Admin);
        group.MapGet("/", ListApps).WithName("ListApps").WithSummary("Registered v1 components and their subscriptions.");
        group.MapPost("/", CreateApp).WithName("CreateApp").WithSummary("Registers a component by name and Ed25519 public key.");
        group.MapPut("/{appId:guid}/subscription", SetSubscription).WithName("SetAppSubscription")
            .WithSummary("Sets the app's subscription status and current period end.");

        app.MapGet("/api/v1/whoami", WhoAmI).WithTags("Apps").WithName("V1WhoAmI")
            .WithSummary("Echoes the verified app, user DID and subscription of a signed v1 call.")
            .RequireAuthorization(AuthorizationPolicies.App);
        return group;
    }

    internal static async Task<Ok<List<AppResponse>>> ListApps(AigneHubDbContext db, CancellationToken ct)
    {
        var apps = await db.Set<App>().AsNoTracking().Include(a => a.Subscription).OrderBy(a => a.CreatedAt).ToListAsync(ct);
        return TypedResults.Ok(apps.Select(a => new AppResponse(a.Id, a.Name, Convert.ToHexStringLower(a.PublicKey), a.CreatedAt,
            a.Subscription is null ? null : new SubscriptionResponse(SubscriptionStatuses.Name(a.Subscription.Status), a.Subscription.CurrentPeriodEnd))).ToList());
    }

    internal static async Task<Results<Created<CreatedAppResponse>, JsonHttpResult<ErrorEnvelope>>> CreateApp(
        HttpRequest request, AigneHubDbContext db, TimeProvider time, CancellationToken ct)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.CreateAppRequest);
        if (error is not null)
        {
            return error;
        }
        if (string.IsNullOrWhiteSpace(body!.Name) || body.Name.Length > 200)
        {
            return ApiErrors.BadRequest("'name' is required (at most 200 characters).");
        }
        var publicKey = Ed25519Crypto.Decode(body.PublicKey, Ed25519Crypto.PublicKeyLength);
        if (publicKey is null)
        {
            return ApiErrors.BadRequest("'publicKey' must be a 32-byte Ed25519 public key in hex or base64.");
        }
        var row = new App { Name = body.Name.Trim(), PublicKey = publicKey, CreatedAt = time.GetUtcNow() };
        db.Set<App>().Add(row);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return ApiErrors.Conflict("An app with this public key is already registered.");
        }
        return TypedResults.Created($"/api/admin/apps/{row.Id}", new CreatedAppResponse(row.Id, row.Name, Convert.ToHexStringLower(publicKey)));
    }

    internal static async Task<Results<Ok<SubscriptionResponse>, JsonHttpResult<ErrorEnvelope>>> SetSubscription(
        Guid appId, HttpRequest request, AigneHubDbContext db, AppRegistry registry, TimeProvider time, CancellationToken ct)
    {
        var (body, error) = await ApiErrors.ReadBodyAsync(request, IdentityJsonContext.Default.SetSubscriptionRequest);
        if (error is not null)
        {
            return error;
        }
        if (!SubscriptionStatuses.TryParse(body!.Status, out var status))
        {
            return ApiErrors.BadRequest("'status' is required: one of active, trialing, past_due, canceled.");
        }
        if (body.CurrentPeriodEnd is not { } periodEnd)
        {
            return ApiErrors.BadRequest("'currentPeriodEnd' is required (an ISO 8601 date-time).");
        }
        var app = await db.Set<App>().Include(a => a.Subscription).FirstOrDefaultAsync(a => a.Id == appId, ct);
        if (app is null)
        {
            return ApiErrors.NotFound($"App '{appId}' not found.");
        }
        app.Subscription ??= new AppSubscription { AppId = app.Id };
        app.Subscription.Status = status;
        app.Subscription.CurrentPeriodEnd = periodEnd;
        app.Subscription.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
        await registry.ChangedAsync(appId);
        return TypedResults.Ok(new SubscriptionResponse(SubscriptionStatuses.Name(status), periodEnd));
    }

    internal static async Task<Ok<WhoAmIResponse>> WhoAmI(ClaimsPrincipal caller, AppRegistry registry, CancellationToken ct)
    {
        var appId = Guid.Parse(caller.FindFirstValue(AigneHubClaims.AppId)!);
        var app = await registry.FindAsync(appId, ct);
        var subscription = app?.Status is { } s ? new SubscriptionResponse(SubscriptionStatuses.Name(s), app.CurrentPeriodEnd!.Value) : null;
        return TypedResults.Ok(new WhoAmIResponse(appId, caller.FindFirstValue(AigneHubClaims.AppUserDid), subscription));
    }
}
