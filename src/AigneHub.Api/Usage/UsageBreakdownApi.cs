using System.Linq.Expressions;
using System.Security.Claims;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Usage;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Usage;

/// <summary>
/// Usage grouped by one dimension — <c>GET /api/admin/usage/breakdown?by=model|provider|user|key|app</c> across users,
/// <c>GET /api/v2/usage/breakdown?by=model|provider|key</c> for my own calls (My keys' spend per key) — with the same
/// filters as the call list (<see cref="UsageFilter"/>), over the raw calls. The default range is the last 30 days.
/// </summary>
public static class UsageBreakdownApi
{
    /// <summary>The dearest groups; the rest of a long tail is not what a breakdown is read for.</summary>
    public const int MaxRows = 50;

    private static readonly string[] AdminDimensions = ["model", "provider", "user", "key", "app"];
    private static readonly string[] MemberDimensions = ["model", "provider", "key"];

    public static IEndpointRouteBuilder MapUsageBreakdownApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v2").RequireAuthorization(AuthorizationPolicies.Inference).WithTags("Usage")
            .MapGet("/usage/breakdown", (ClaimsPrincipal user, [AsParameters] UsageFilter filter, AigneHubDbContext db, TimeProvider time, string? by, CancellationToken ct) =>
                BreakdownAsync(db, time, user.GetUserId() ?? Guid.Empty, filter, by, MemberDimensions, ct))
            .WithName("GetUsageBreakdown").WithSummary("My calls and credits by model, provider or access key.");
        app.MapGroup("/api/admin").RequireAuthorization(AuthorizationPolicies.Admin).WithTags("Usage")
            .MapGet("/usage/breakdown", ([AsParameters] UsageFilter filter, AigneHubDbContext db, TimeProvider time, Guid? userId, string? by, CancellationToken ct) =>
                BreakdownAsync(db, time, userId, filter, by, AdminDimensions, ct))
            .WithName("GetAdminUsageBreakdown").WithSummary("Calls and credits by model, provider, user, access key or app.");
        return app;
    }

    private sealed record Totals(long Calls, long Failed, long Tokens, decimal Credits);

    private static async Task<Results<Ok<UsageBreakdownResponse>, JsonHttpResult<ErrorEnvelope>>> BreakdownAsync(
        AigneHubDbContext db, TimeProvider time, Guid? userId, UsageFilter filter, string? by, string[] dimensions, CancellationToken cancellationToken)
    {
        var dimension = (by ?? "model").Trim().ToLowerInvariant();
        Dictionary<string, string[]> errors = [];
        if (!dimensions.Contains(dimension))
        {
            errors["by"] = [$"'by' must be one of: {string.Join(", ", dimensions)}."];
        }
        UsageApi.ValidateFilter(filter, errors);
        if (errors.Count > 0)
        {
            return ApiErrors.BadRequest(errors);
        }
        var to = filter.To ?? time.GetUtcNow();
        var calls = UsageApi.Query(db, userId, filter with { From = filter.From ?? to.AddDays(-30), To = to });

        List<UsageBreakdownRow> rows;
        switch (dimension)
        {
            case "model":
                rows = [.. (await TotalsBy(c => new { c.Provider, c.Model })).Select(x =>
                    Row(x.Key.Provider is null ? null : $"{x.Key.Provider}/{x.Key.Model}", x.Key.Provider is null ? "(not resolved)" : $"{x.Key.Provider}/{x.Key.Model}", x.Totals))];
                break;
            case "provider":
                rows = [.. (await TotalsBy(c => c.Provider)).Select(x => Row(x.Key, x.Key ?? "(not resolved)", x.Totals))];
                break;
            case "app":
                rows = [.. (await TotalsBy(c => c.AppId)).Select(x => Row(x.Key, x.Key ?? "(no app)", x.Totals))];
                break;
            case "user":
            {
                var totals = await TotalsBy(c => c.UserId);
                var ids = totals.Where(x => x.Key is not null).Select(x => x.Key!.Value).ToList();
                var emails = await db.Set<User>().AsNoTracking().Where(u => ids.Contains(u.Id)).ToDictionaryAsync(u => u.Id, u => u.Email, cancellationToken);
                rows = [.. totals.Select(x => Row(x.Key?.ToString(), x.Key is { } id ? emails.GetValueOrDefault(id, id.ToString()) : "(no user)", x.Totals))];
                break;
            }
            default:
            {
                var totals = await TotalsBy(c => c.AccessKeyId);
                var ids = totals.Where(x => x.Key is not null).Select(x => x.Key!.Value).ToList();
                var keys = await db.Set<AccessKey>().AsNoTracking().Where(k => ids.Contains(k.Id))
                    .ToDictionaryAsync(k => k.Id, k => (k.Kind, Name: k.Name ?? k.Prefix), cancellationToken);
                bool IsSession(Guid? id) => id is { } k && keys.TryGetValue(k, out var key) && key.Kind == AccessKeyKind.Session;
                rows = [.. totals.Where(x => !IsSession(x.Key)).Select(x => Row(x.Key?.ToString(),
                    x.Key is { } id ? keys.TryGetValue(id, out var k) ? k.Name : id.ToString() : "(no key: app signature)", x.Totals))];
                // Sign-in sessions come and go with every sign-in: one row for all of them reads better than one per session.
                var sessions = totals.Where(x => IsSession(x.Key)).Select(x => x.Totals).ToList();
                if (sessions.Count > 0)
                {
                    rows.Add(new UsageBreakdownRow("session", UsageApi.SessionKeyName, sessions.Sum(t => t.Calls), sessions.Sum(t => t.Failed),
                        sessions.Sum(t => t.Tokens), sessions.Sum(t => t.Credits)));
                }
                break;
            }
        }
        return TypedResults.Ok(new UsageBreakdownResponse(dimension,
            [.. rows.OrderByDescending(r => r.Credits).ThenByDescending(r => r.Calls).ThenBy(r => r.Label, StringComparer.Ordinal).Take(MaxRows)]));

        static UsageBreakdownRow Row(string? key, string label, Totals t) => new(key, label, t.Calls, t.Failed, t.Tokens, t.Credits);

        async Task<List<(TKey Key, Totals Totals)>> TotalsBy<TKey>(Expression<Func<ModelCall, TKey>> key)
        {
            var totals = await calls.GroupBy(key).Select(g => new
            {
                g.Key,
                Calls = g.LongCount(),
                Failed = g.LongCount(c => c.Status == ModelCallStatus.Failed),
                Tokens = g.Sum(c => (long)c.PromptTokens + c.CompletionTokens),
                Credits = g.Sum(c => c.Credits),
            }).ToListAsync(cancellationToken);
            return [.. totals.Select(t => (t.Key, new Totals(t.Calls, t.Failed, t.Tokens, t.Credits)))];
        }
    }
}
