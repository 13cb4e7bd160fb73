using Npgsql;

namespace AigneHub.Bench;

/// <summary>The call records of one run (its requests' <c>x-request-id</c>s share a prefix), read once none of them is
/// processing any more: how many, how many succeeded, how many of those were charged the expected amount.</summary>
internal sealed record Records(long Count, long Succeeded, long ChargedAsExpected, long Processing)
{
    /// <summary>Every request wrk counted has exactly one record: at least as many records as answers, at most one more
    /// per connection (wrk counts only answered requests; the ones in flight when it stopped were cut off, and the Api
    /// settles those as the caller left them), nothing left processing, and every answered request a success — with
    /// billing on, charged <c>charge</c>. Only the cut-off and the refused ones may be anything else.</summary>
    public bool Hold(long answered, long refused, int connections, bool billing) =>
        Processing == 0 && Count >= answered && Count <= answered + connections
        && Good(billing) >= answered - refused && Count - Good(billing) <= connections + refused;

    /// <summary>Records that are a success (and, with billing on, charged as expected).</summary>
    public long Good(bool billing) => billing ? ChargedAsExpected : Succeeded;

    public static Task<Records> ReadAsync(string database, string requestIdPrefix, decimal charge) =>
        ReadAsync(database, "request_id LIKE $1", requestIdPrefix + "%", charge, $"the calls of {requestIdPrefix}");

    /// <summary>The same for calls the benchmark sent itself (<see cref="Traffic"/>), by their request ids.</summary>
    public static Task<Records> ReadAsync(string database, IReadOnlyCollection<string> requestIds, decimal charge) =>
        ReadAsync(database, "request_id = ANY($1)", requestIds.ToArray(), charge, "the benchmark's own calls");

    private static async Task<Records> ReadAsync(string database, string where, object requests, decimal charge, string what)
    {
        Records? records = null;
        await Wait.UntilAsync(TimeSpan.FromSeconds(60), async () =>
        {
            await using var db = new NpgsqlConnection(database);
            await db.OpenAsync();
            await using var cmd = new NpgsqlCommand($"""
                SELECT count(*), count(*) FILTER (WHERE status = 'success'),
                       count(*) FILTER (WHERE status = 'success' AND credits = $2), count(*) FILTER (WHERE status = 'processing')
                FROM aignehub.model_calls WHERE {where}
                """, db);
            cmd.Parameters.AddWithValue(requests);
            cmd.Parameters.AddWithValue(charge);
            await using var reader = await cmd.ExecuteReaderAsync();
            await reader.ReadAsync();
            records = new Records(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
            return records.Processing == 0;
        }, what + " to be settled");
        return records!;
    }
}
