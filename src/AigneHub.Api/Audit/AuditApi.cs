using System.Globalization;
using System.Text.Json;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Audit;
using AigneHub.Data;
using AigneHub.Data.Audit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Audit;

/// <summary><c>GET /api/admin/audit</c>: the audit log for owners and admins, filtered and paged by id (stable under inserts).</summary>
public static class AuditApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 500;

    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/audit").WithTags("Audit").RequireAuthorization(AuthorizationPolicies.Admin);
        group.MapGet("/", List).WithName("ListAuditEvents")
            .WithSummary("Audit entries, newest first. Filters: actor (user id), action (route name), target (substring), status, since, until; paging: before (id), limit (1-500).");
        return group;
    }

    internal static async Task<Results<Ok<AuditPageResponse>, JsonHttpResult<ErrorEnvelope>>> List(
        string? actor, string? action, string? target, string? status, string? since, string? until, string? before, string? limit,
        AigneHubDbContext db, CancellationToken ct)
    {
        Dictionary<string, string[]> problems = [];
        var actorId = Parse(actor, nameof(actor), "a user id", s => Guid.TryParse(s, out var g) ? g : (Guid?)null, problems);
        var statusCode = Parse(status, nameof(status), "an HTTP status (100-599)", s => int.TryParse(s, CultureInfo.InvariantCulture, out var n) && n is >= 100 and <= 599 ? n : (int?)null, problems);
        var from = Parse(since, nameof(since), "an ISO 8601 time", ParseTime, problems);
        var to = Parse(until, nameof(until), "an ISO 8601 time", ParseTime, problems);
        var cursor = Parse(before, nameof(before), "an entry id", s => long.TryParse(s, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : (long?)null, problems);
        var take = Parse(limit, nameof(limit), $"a number from 1 to {MaxLimit}", s => int.TryParse(s, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxLimit ? n : (int?)null, problems) ?? DefaultLimit;
        if (action is { Length: > 100 } || target is { Length: > 500 })
        {
            problems["action"] = ["'action' is at most 100 and 'target' at most 500 characters."];
        }
        if (problems.Count > 0)
        {
            return ApiErrors.BadRequest(problems);
        }

        var query = db.Set<AuditEvent>().AsNoTracking();
        if (actorId is { } a)
        {
            query = query.Where(e => e.ActorUserId == a);
        }
        if (!string.IsNullOrEmpty(action))
        {
            query = query.Where(e => e.Action == action);
        }
        if (!string.IsNullOrEmpty(target))
        {
            query = query.Where(e => e.Target != null && e.Target.Contains(target));
        }
        if (statusCode is { } code)
        {
            query = query.Where(e => e.Status == code);
        }
        if (from is { } f)
        {
            query = query.Where(e => e.OccurredAt >= f);
        }
        if (to is { } t)
        {
            query = query.Where(e => e.OccurredAt < t);
        }
        if (cursor is { } c)
        {
            query = query.Where(e => e.Id < c);
        }
        var rows = await (
            from e in query.OrderByDescending(e => e.Id).Take(take + 1)
            join u in db.Users on e.ActorUserId equals u.Id into users
            from u in users.DefaultIfEmpty()
            select new { Entry = e, Email = u == null ? null : u.Email })
            .ToListAsync(ct);
        // The join may reorder: page order is by id.
        rows = [.. rows.OrderByDescending(r => r.Entry.Id)];
        var page = rows.Take(take).Select(r => new AuditEntryResponse(r.Entry.Id, r.Entry.OccurredAt, r.Entry.ActorUserId, r.Email,
            r.Entry.ActorRole, r.Entry.ActorKeyId, r.Entry.Action, r.Entry.Route, r.Entry.Target, r.Entry.Status, r.Entry.ClientAddress,
            Json(r.Entry.Before), Json(r.Entry.After))).ToList();
        return TypedResults.Ok(new AuditPageResponse(page, rows.Count > take ? page[^1].Id : null));
    }

    private static T? Parse<T>(string? text, string name, string expected, Func<string, T?> parse, Dictionary<string, string[]> problems)
        where T : struct
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var value = parse(text.Trim());
        if (value is null)
        {
            problems[name] = [$"'{name}' must be {expected}."];
        }
        return value;
    }

    private static DateTimeOffset? ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;

    private static JsonElement? Json(string? text)
    {
        if (text is null)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}

public static class AuditExtensions
{
    public static IHostApplicationBuilder AddAuditLog(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AuditWriter>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(AuditJsonContext.Default));
        return builder;
    }
}
