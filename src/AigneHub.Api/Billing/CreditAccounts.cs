using System.Collections.Concurrent;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Api.Billing;

public sealed record CreditBalance(decimal Balance, decimal Reserved)
{
    public decimal Available => Balance - Reserved;
}

/// <summary>Credit accounts outside the hot path's one statement: creation with welcome credits, grants, reads.</summary>
public sealed class CreditAccounts(BillingDatabase database, IOptionsMonitor<BillingOptions> options, TimeProvider time)
{
    private const string S = AigneHubDbContext.Schema;

    private static readonly string GrantSql = $"""
        WITH g AS (
            INSERT INTO {S}.credit_grants (id, user_id, amount, remaining, category, source, note, expires_at, created_by, created_at)
            VALUES (@id, @user, @amount, @amount, @category, 'admin', @note, @expires, @by, @now)
            RETURNING id, user_id),
        l AS (
            INSERT INTO {S}.credit_ledger (id, user_id, amount, kind, grant_id, description, created_at)
            SELECT @entry, user_id, @amount, 'grant', id, @description, @now FROM g)
        UPDATE {S}.credit_accounts a SET balance = a.balance + @amount, updated_at = @now
        FROM g WHERE a.user_id = g.user_id
        """;

    // Accounts known to exist in this process; the ensure statement is idempotent, this only saves its round trip.
    private readonly ConcurrentDictionary<Guid, byte> _known = new();

    /// <summary>Creates the account on first use, granting the welcome credits once per user.</summary>
    public async ValueTask EnsureAsync(Guid userId, CancellationToken cancellationToken)
    {
        if (_known.ContainsKey(userId))
        {
            return;
        }
        await BillingSql.EnsureAccountAsync(database.DataSource, userId, options.CurrentValue.WelcomeCredits, time.GetUtcNow(), cancellationToken);
        _known.TryAdd(userId, 0);
    }

    public async Task<CreditBalance> GetAsync(Guid userId, CancellationToken cancellationToken)
    {
        await EnsureAsync(userId, cancellationToken);
        await using var cmd = database.DataSource.CreateCommand($"SELECT balance, reserved FROM {S}.credit_accounts WHERE user_id = @user");
        cmd.Parameters.Add(new NpgsqlParameter<Guid>("user", userId));
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new CreditBalance(reader.GetDecimal(0), reader.GetDecimal(1))
            : new CreditBalance(0, 0);
    }

    /// <summary>Adds a grant: the grant row, its ledger entry and the balance move in one statement.</summary>
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
        await using var cmd = database.DataSource.CreateCommand(GrantSql);
        var p = cmd.Parameters;
        p.Add(new NpgsqlParameter<Guid>("id", grant.Id));
        p.Add(new NpgsqlParameter<Guid>("user", userId));
        p.Add(new NpgsqlParameter<decimal>("amount", amount));
        p.Add(new NpgsqlParameter<string>("category", BillingModel.Word(category)));
        p.Add(new NpgsqlParameter("note", NpgsqlTypes.NpgsqlDbType.Varchar) { Value = (object?)note ?? DBNull.Value });
        p.Add(new NpgsqlParameter("expires", NpgsqlTypes.NpgsqlDbType.TimestampTz) { Value = (object?)grant.ExpiresAt ?? DBNull.Value });
        p.Add(new NpgsqlParameter("by", NpgsqlTypes.NpgsqlDbType.Uuid) { Value = (object?)grantedBy ?? DBNull.Value });
        p.Add(new NpgsqlParameter<Guid>("entry", Guid.CreateVersion7()));
        p.Add(new NpgsqlParameter<string>("description", category == GrantCategory.Paid ? "Credits purchased" : "Promotional credits"));
        p.Add(new NpgsqlParameter<DateTimeOffset>("now", grant.CreatedAt));
        await cmd.ExecuteNonQueryAsync(cancellationToken);
        return grant;
    }
}
