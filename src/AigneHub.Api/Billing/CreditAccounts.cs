using System.Collections.Concurrent;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>An account's balance and reservations, and what its live grants hold: per category, and how much of it
/// expires within <see cref="CreditAccounts.ExpiringSoonDays"/> (the soonest expiry with it).</summary>
public sealed record CreditBalance(decimal Balance, decimal Reserved)
{
    public decimal Available => Balance - Reserved;

    public decimal Paid { get; init; }

    public decimal Promotional { get; init; }

    public decimal ExpiringSoon { get; init; }

    public DateTimeOffset? NextExpiry { get; init; }
}

/// <summary>Credit accounts outside the hot path's one statement: creation with welcome credits, grants, reads.</summary>
public sealed class CreditAccounts(NpgsqlDataSource database, IOptionsMonitor<BillingOptions> options, TimeProvider time)
{
    private const string S = AigneHubDbContext.Schema;

    // The account row is locked first (the lock order of every grant writer, see BillingSql). A grant pays off any
    // debt (Σ remaining − balance: a charge that found too little to consume, e.g. a call in flight when its grant
    // expired) before it is spendable, so the grants' remainders always add up to the balance once it is positive.
    private static readonly string GrantSql = $"""
        WITH acct AS (
            UPDATE {S}.credit_accounts SET balance = balance + @amount, updated_at = @now
            WHERE user_id = @user
            RETURNING user_id, balance - @amount AS balance_before),
        held AS MATERIALIZED (
            SELECT g.remaining FROM {S}.credit_grants g JOIN acct ON g.user_id = acct.user_id
            WHERE g.remaining > 0
            FOR UPDATE OF g),
        g AS (
            INSERT INTO {S}.credit_grants (id, user_id, amount, remaining, category, source, note, expires_at, created_by, created_at)
            SELECT @id, acct.user_id, @amount,
                @amount - least(@amount, greatest(0, (SELECT coalesce(sum(remaining), 0) FROM held) - acct.balance_before)),
                @category, 'admin', @note, @expires, @by, @now
            FROM acct
            RETURNING id, user_id, remaining),
        l AS (
            INSERT INTO {S}.credit_ledger (id, user_id, amount, kind, grant_id, description, created_at)
            SELECT @entry, user_id, @amount, 'grant', id, @description, @now FROM g)
        SELECT remaining FROM g
        """;

    private static readonly string BalanceSql = $"""
        SELECT a.balance, a.reserved,
            coalesce(sum(g.remaining) FILTER (WHERE g.category = 'paid'), 0),
            coalesce(sum(g.remaining) FILTER (WHERE g.category = 'promotional'), 0),
            coalesce(sum(g.remaining) FILTER (WHERE g.expires_at < @soon), 0),
            min(g.expires_at)
        FROM {S}.credit_accounts a
        LEFT JOIN {S}.credit_grants g ON g.user_id = a.user_id AND g.remaining > 0 AND g.expired_at IS NULL
        WHERE a.user_id = @user
        GROUP BY a.balance, a.reserved
        """;

    public const int ExpiringSoonDays = 7;

    // Accounts known to exist in this process; the ensure statement is idempotent, this only saves its round trip.
    private readonly ConcurrentDictionary<Guid, byte> _known = new();

    /// <summary>Creates the account on first use, granting the welcome credits once per user.</summary>
    public async ValueTask EnsureAsync(Guid userId, CancellationToken cancellationToken)
    {
        if (_known.ContainsKey(userId))
        {
            return;
        }
        await BillingSql.EnsureAccountAsync(database, userId, options.CurrentValue.WelcomeCredits, time.GetUtcNow(), cancellationToken);
        _known.TryAdd(userId, 0);
    }

    public async Task<CreditBalance> GetAsync(Guid userId, CancellationToken cancellationToken)
    {
        await EnsureAsync(userId, cancellationToken);
        await using var cmd = database.CreateCommand(BalanceSql);
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("user", userId));
        cmd.Parameters.Add(new NpgsqlParameter<DateTimeOffset>("soon", time.GetUtcNow().AddDays(ExpiringSoonDays)));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return new CreditBalance(0, 0);
        }
        return new CreditBalance(reader.GetDecimal(0), reader.GetDecimal(1))
        {
            Paid = reader.GetDecimal(2),
            Promotional = reader.GetDecimal(3),
            ExpiringSoon = reader.GetDecimal(4),
            NextExpiry = reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
        };
    }

    /// <summary>Adds a grant: the grant row, its ledger entry and the balance move in one statement. The returned
    /// grant's <see cref="CreditGrant.Remaining"/> is what is left after paying off any debt.</summary>
    public async Task<CreditGrant> GrantAsync(Guid userId, decimal amount, GrantCategory category, DateTimeOffset? expiresAt, string? note, Guid? grantedBy, CancellationToken cancellationToken)
    {
        await EnsureAsync(userId, cancellationToken);
        var grant = new CreditGrant
        {
            UserId = userId,
            Amount = amount,
            Remaining = amount,
            Category = category,
            Source = CreditGrant.AdminSource,
            Note = note,
            ExpiresAt = expiresAt?.ToUniversalTime(),
            CreatedBy = grantedBy,
            CreatedAt = time.GetUtcNow(),
        };
        await using var cmd = database.CreateCommand(GrantSql);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid>("id", grant.Id));
        p.Add(new NpgsqlParameter<Guid>("user", userId));
        p.Add(new NpgsqlParameter<decimal>("amount", amount));
        p.Add(new NpgsqlParameter<string>("category", BillingModel.Word(category)));
        p.Add(new NpgsqlParameter("note", NpgsqlTypes.NpgsqlDbType.Varchar) { Value = (object?)note ?? DBNull.Value });
        p.Add(new NpgsqlParameter("expires", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)grant.ExpiresAt ?? DBNull.Value });
        p.Add(new NpgsqlParameter("by", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)grantedBy ?? DBNull.Value });
        p.Add(new NpgsqlParameter<Guid>("entry", Guid.CreateVersion7()));
        // The ledger line carries the admin's note: it is what the person granted reads in their transactions.
        var description = (category == GrantCategory.Paid ? "Credits purchased" : "Promotional credits") + (string.IsNullOrWhiteSpace(note) ? "" : $": {note.Trim()}");
        p.Add(new NpgsqlParameter<string>("description", description.Length > 500 ? description[..500] : description));
        p.Add(new NpgsqlParameter<DateTimeOffset>("now", grant.CreatedAt));
        grant.Remaining = (decimal)(await cmd.ExecuteScalarAsync(cancellationToken))!;
        return grant;
    }
}
