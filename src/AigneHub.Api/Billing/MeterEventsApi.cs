using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Billing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// The meter events the Worker gave up on (<c>/api/admin/meter-events</c>): listed newest first, and retried one by
/// one once the external billing system is fixed. The ledger was debited when the call settled; only the report to
/// the external system is outstanding.
/// </summary>
public static class MeterEventsApi
{
    private const int MaxListed = 500;

    public static IEndpointRouteBuilder MapMeterEventsApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin/meter-events").RequireAuthorization(AuthorizationPolicies.Admin).WithTags("Credits");
        admin.MapGet("/dead", ListDeadAsync).WithName("ListDeadMeterEvents").WithSummary("Meter events the Worker stopped retrying (newest first).");
        admin.MapPost("/{id:guid}/retry", RetryAsync).WithName("RetryMeterEvent").WithSummary("Sends a dead-lettered meter event again.");
        return app;
    }

    private static async Task<Ok<List<DeadMeterEventResponse>>> ListDeadAsync(AigneHubDbContext db, CancellationToken cancellationToken)
    {
        var rows = await db.Set<MeterEvent>().AsNoTracking()
            .Where(e => e.DeadAt != null && e.DeliveredAt == null)
            .OrderByDescending(e => e.DeadAt).Take(MaxListed).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(e => new DeadMeterEventResponse(e.ModelCallId, e.UserId, e.Credits, e.CreatedAt, e.Attempts, e.LastError, e.DeadAt!.Value)).ToList());
    }

    private static async Task<Results<NoContent, JsonHttpResult<ErrorEnvelope>>> RetryAsync(
        Guid id, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken) =>
        await BillingSql.RetryDeadMeterEventAsync(database, id, time.GetUtcNow(), cancellationToken)
            ? TypedResults.NoContent()
            : ApiErrors.NotFound($"No dead-lettered meter event '{id}'.");
}
