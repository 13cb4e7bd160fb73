using Npgsql;

namespace AigneHub.Harness;

/// <summary>The money invariants read straight from the database: one record per request, nothing left processing,
/// nothing reserved, the ledger's debits equal to the calls' charges.</summary>
public sealed record MoneyState(long Records, long Processing, decimal Reserved, decimal Debits, decimal Charges,
    long DuplicateRequestIds, IReadOnlyDictionary<Guid, (string Status, decimal Credits, string? RequestId)> Calls)
{
    public decimal LedgerDifference => Debits - Charges;

    public static async Task<MoneyState> ReadAsync(string database)
    {
        await using var db = new NpgsqlConnection(database + ";Pooling=false");
        await db.OpenAsync();
        async Task<T> ScalarAsync<T>(string sql)
        {
            await using var cmd = new NpgsqlCommand(sql, db);
            return (T)Convert.ChangeType((await cmd.ExecuteScalarAsync())!, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
        }
        var calls = new Dictionary<Guid, (string, decimal, string?)>();
        await using (var cmd = new NpgsqlCommand("SELECT id, status, credits, request_id FROM aignehub.model_calls", db))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                calls[reader.GetGuid(0)] = (reader.GetString(1), reader.GetDecimal(2), reader.IsDBNull(3) ? null : reader.GetString(3));
            }
        }
        return new MoneyState(
            calls.Count,
            await ScalarAsync<long>("SELECT count(*) FROM aignehub.model_calls WHERE status = 'processing'"),
            await ScalarAsync<decimal>("SELECT coalesce(sum(reserved), 0) FROM aignehub.credit_accounts"),
            await ScalarAsync<decimal>("SELECT coalesce(-sum(amount), 0) FROM aignehub.credit_ledger WHERE kind = 'debit'"),
            await ScalarAsync<decimal>("SELECT coalesce(sum(credits), 0) FROM aignehub.model_calls"),
            await ScalarAsync<long>("SELECT count(*) FROM (SELECT request_id FROM aignehub.model_calls WHERE request_id IS NOT NULL GROUP BY request_id HAVING count(*) > 1) d"),
            calls);
    }

    /// <summary>Waits until no call is processing (the Worker's cleanup closes a dead Api's calls once their lease lapsed).</summary>
    public static async Task<MoneyState> SettledAsync(string database, TimeSpan within)
    {
        MoneyState? state = null;
        await Wait.UntilAsync(within, async () => (state = await ReadAsync(database)).Processing == 0 && state.Reserved == 0, "every call to be settled or closed");
        return state!;
    }
}
