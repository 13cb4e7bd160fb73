using System.Security.Claims;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Contracts.Billing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Billing;

/// <summary>
/// A user's credits (<c>/api/v2/credits</c>) and the admin's grants (<c>/api/admin/users/{id}/credits</c>).
/// Amounts are decimal strings: JSON numbers would reach most clients as binary floats. Errors use the admin routes'
/// common shape <c>{"error":{"message","type","param"}}</c> (<see cref="ApiErrors"/>).
/// </summary>
public static class CreditsApi
{
    public const int MaxPageSize = 100;

    public static IEndpointRouteBuilder MapCreditsApi(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/v2/credits").RequireAuthorization(AuthorizationPolicies.Member).WithTags("Credits");
        mine.MapGet("", GetMineAsync).WithName("GetCredits").WithSummary("My credit balance, reservations and the payment link.");
        mine.MapGet("/transactions", GetMyTransactionsAsync).WithName("GetCreditTransactions").WithSummary("My credit ledger, newest first (paged).");

        var admin = app.MapGroup("/api/admin/users/{id:guid}/credits").RequireAuthorization(AuthorizationPolicies.Admin).WithTags("Credits");
        admin.MapGet("", GetUserAsync).WithName("GetUserCredits").WithSummary("A user's credit balance and reservations.");
        admin.MapPost("/grants", GrantAsync).WithIdempotencyKeys().WithName("GrantCredits").WithSummary("Adds paid or promotional credits to a user (Idempotency-Key honoured).");
        admin.MapGet("/transactions", GetUserTransactionsAsync).WithName("GetUserCreditTransactions").WithSummary("A user's credit ledger (paged).");
        return app;
    }

    private static async Task<Results<Ok<CreditsResponse>, UnauthorizedHttpResult>> GetMineAsync(
        ClaimsPrincipal user, CreditAccounts accounts, IOptionsMonitor<BillingOptions> options, CancellationToken cancellationToken)
    {
        if (user.GetUserId() is not { } userId)
        {
            return TypedResults.Unauthorized();
        }
        return TypedResults.Ok(ToResponse(await accounts.GetAsync(userId, cancellationToken), options.CurrentValue));
    }

    private static async Task<Results<Ok<PagedResponse<LedgerEntryResponse>>, UnauthorizedHttpResult, JsonHttpResult<ErrorEnvelope>>> GetMyTransactionsAsync(
        ClaimsPrincipal user, AigneHubDbContext db, CancellationToken cancellationToken, int page = 1, int pageSize = 20)
    {
        if (user.GetUserId() is not { } userId)
        {
            return TypedResults.Unauthorized();
        }
        return await TransactionsAsync(db, userId, page, pageSize, cancellationToken) switch
        {
            Ok<PagedResponse<LedgerEntryResponse>> ok => ok,
            JsonHttpResult<ErrorEnvelope> error => error,
            _ => throw new InvalidOperationException(),
        };
    }

    private static async Task<Results<Ok<CreditsResponse>, JsonHttpResult<ErrorEnvelope>>> GetUserAsync(
        Guid id, AigneHubDbContext db, CreditAccounts accounts, IOptionsMonitor<BillingOptions> options, CancellationToken cancellationToken)
    {
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return UserNotFound(id);
        }
        return TypedResults.Ok(ToResponse(await accounts.GetAsync(id, cancellationToken), options.CurrentValue));
    }

    private static async Task<Results<Ok<PagedResponse<LedgerEntryResponse>>, JsonHttpResult<ErrorEnvelope>>> GetUserTransactionsAsync(
        Guid id, AigneHubDbContext db, CancellationToken cancellationToken, int page = 1, int pageSize = 20)
    {
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return UserNotFound(id);
        }
        return await TransactionsAsync(db, id, page, pageSize, cancellationToken) switch
        {
            Ok<PagedResponse<LedgerEntryResponse>> ok => ok,
            JsonHttpResult<ErrorEnvelope> error => error,
            _ => throw new InvalidOperationException(),
        };
    }

    private static async Task<Results<Created<GrantResponse>, JsonHttpResult<ErrorEnvelope>>> GrantAsync(
        Guid id, HttpRequest request, ClaimsPrincipal admin, AigneHubDbContext db, CreditAccounts accounts, TimeProvider time, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadAsync(request);
        if (body is null)
        {
            return error!;
        }
        var amount = body.Decimal("amount", required: true, min: 0, max: 1_000_000_000_000m, maxScale: CreditFormula.Decimals);
        if (amount == 0)
        {
            body.Error("amount", "'amount' must be greater than 0.");
        }
        var categoryText = body.String("category", required: true, maxLength: 16);
        GrantCategory category = default;
        if (categoryText is not null && !Enum.TryParse(categoryText, ignoreCase: true, out category) || !Enum.IsDefined(category))
        {
            body.Error("category", "'category' must be 'paid' or 'promotional'.");
        }
        var expiresAt = body.Timestamp("expiresAt");
        if (expiresAt is { } e && e <= time.GetUtcNow())
        {
            body.Error("expiresAt", "'expiresAt' must be in the future.");
        }
        var note = body.String("note", required: false, maxLength: 500);
        if (body.Errors.Count > 0)
        {
            return ApiErrors.BadRequest(body.Errors);
        }
        if (!await db.Users.AnyAsync(u => u.Id == id, cancellationToken))
        {
            return UserNotFound(id);
        }
        var grant = await accounts.GrantAsync(id, amount!.Value, category, expiresAt, note, admin.GetUserId(), cancellationToken);
        return TypedResults.Created($"/api/admin/users/{id}/credits", new GrantResponse(grant.Id, grant.UserId, grant.Amount,
            grant.Remaining, BillingModel.Word(grant.Category), grant.Source, grant.Note, grant.ExpiresAt, grant.CreatedAt));
    }

    private static async Task<IResult> TransactionsAsync(AigneHubDbContext db, Guid userId, int page, int pageSize, CancellationToken cancellationToken)
    {
        if (page < 1)
        {
            return ApiErrors.BadRequest("'page' must be 1 or more.", "page");
        }
        if (pageSize is < 1 or > MaxPageSize)
        {
            return ApiErrors.BadRequest($"'pageSize' must be between 1 and {MaxPageSize}.", "pageSize");
        }
        var query = db.Set<CreditLedgerEntry>().AsNoTracking().Where(e => e.UserId == userId);
        var total = await query.LongCountAsync(cancellationToken);
        var rows = await query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        var items = rows.Select(e => new LedgerEntryResponse(e.Id, e.Amount, BillingModel.Word(e.Kind), e.ModelCallId, e.GrantId, e.Description, e.CreatedAt)).ToList();
        return TypedResults.Ok(new PagedResponse<LedgerEntryResponse>(items, page, pageSize, total));
    }

    private static JsonHttpResult<ErrorEnvelope> UserNotFound(Guid id) => ApiErrors.NotFound($"User '{id}' not found.");

    private static CreditsResponse ToResponse(CreditBalance balance, BillingOptions options) => new(
        balance.Balance,
        balance.Reserved,
        balance.Available,
        "credits",
        options.PaymentLink,
        new GrantTotals(balance.Paid, balance.Promotional),
        new ExpiringCredits(balance.ExpiringSoon, CreditAccounts.ExpiringSoonDays, balance.NextExpiry));
}
