using System.Diagnostics;
using System.Globalization;
using AigneHub.Data.Billing;
using Npgsql;

namespace AigneHub.Bench;

/// <summary>
/// The analytics scenario: <c>model_calls</c> grown to the asked number of rows with COPY (Npgsql's binary import),
/// then the usage API's trend, call-log page and CSV export timed over HTTP, for a member (their own calls) and for
/// the owner (everyone's), p95 of <see cref="Repeats"/> requests each.
/// </summary>
internal static class Analytics
{
    private const int Repeats = 20;

    public static async Task<IReadOnlyList<Finding>> RunAsync(Gateway governed, long rows)
    {
        Console.WriteLine($"== analytics: {rows} model_calls rows");
        var clock = Stopwatch.StartNew();
        var before = await GenerateAsync(governed, rows);
        var generated = clock.Elapsed;
        var member = governed.Members[0];
        var findings = new List<Finding>();
        var queries = new (string What, string Key, string Path)[]
        {
            ("member: usage trend (default window)", member.Key, "/api/v2/usage/trends"),
            ("member: call log, first page of 50", member.Key, "/api/v2/model-calls?page=1&pageSize=50"),
            ("member: CSV export", member.Key, "/api/v2/model-calls/export"),
            ("owner: usage trend, daily (everyone)", Hub.OwnerKey, "/api/admin/usage/trends?granularity=day"),
            ("owner: call log, first page of 50 (everyone)", Hub.OwnerKey, "/api/admin/model-calls?page=1&pageSize=50"),
            ("owner: CSV export (everyone)", Hub.OwnerKey, "/api/admin/model-calls/export"),
        };
        using var client = new HttpClient { BaseAddress = governed.Api.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
        foreach (var (what, key, path) in queries)
        {
            var times = new List<double>();
            int? failed = null;
            for (var i = 0; i < Repeats + 2; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "Authorization", $"Bearer {key}" } } };
                var one = Stopwatch.StartNew();
                using var response = await client.SendAsync(request);
                var bytes = await response.Content.ReadAsByteArrayAsync();
                if (!response.IsSuccessStatusCode)
                {
                    failed = (int)response.StatusCode;
                }
                if (i >= 2)
                {
                    times.Add(one.Elapsed.TotalMilliseconds);
                }
            }
            times.Sort();
            var p95 = Matrix.Percentile(times, 0.95);
            Console.WriteLine($"   {what,-48} p50 {times[times.Count / 2],7:0.0} ms  p95 {p95,7:0.0} ms{(failed is null ? "" : $"  answered {failed}")}");
            findings.Add(new Finding($"analytics at {before + rows:N0} calls: {what} (`GET {path}`)",
                failed is null ? $"p95 {p95:0.0} ms, p50 {times[times.Count / 2]:0.0} ms ({Repeats} requests)" : $"answered {failed}",
                "p95 ≤ 200 ms", failed is null && p95 <= 200));
        }
        findings.Add(new Finding("analytics: rows generated", $"{rows:N0} rows by binary COPY, then VACUUM ANALYZE and the rollups, in {generated.TotalSeconds:0} s"));
        return findings;
    }

    /// <summary>Copies a settled call of the benchmark <paramref name="rows"/> times — every column as the Api wrote it,
    /// so a new column needs no change here — varying its id, request id, member (user and key) and times, spread over
    /// the last 30 days. Returns how many calls there were before.</summary>
    private static async Task<long> GenerateAsync(Gateway governed, long rows)
    {
        await using var db = new NpgsqlConnection(governed.Database);
        await db.OpenAsync();
        var columns = new List<(string Name, string Type, object? Value)>();
        long before;
        await using (var count = new NpgsqlCommand("SELECT count(*) FROM aignehub.model_calls", db))
        {
            before = (long)(await count.ExecuteScalarAsync())!;
        }
        await using (var template = new NpgsqlCommand("SELECT * FROM aignehub.model_calls WHERE status = 'success' LIMIT 1", db))
        await using (var reader = await template.ExecuteReaderAsync())
        {
            if (!await reader.ReadAsync())
            {
                throw new InvalidOperationException("no settled call to copy: the matrix served none");
            }
            for (var i = 0; i < reader.FieldCount; i++)
            {
                columns.Add((reader.GetName(i), reader.GetDataTypeName(i), reader.IsDBNull(i) ? null : reader.GetValue(i)));
            }
        }
        var now = DateTimeOffset.UtcNow;
        var span = TimeSpan.FromDays(30).Ticks;
        var copy = $"COPY aignehub.model_calls ({string.Join(", ", columns.Select(c => $"\"{c.Name}\""))}) FROM STDIN (FORMAT BINARY)";
        await using (var writer = await db.BeginBinaryImportAsync(copy))
        {
            for (long n = 0; n < rows; n++)
            {
                var member = governed.Members[(int)(n % governed.Members.Count)];
                var created = now - TimeSpan.FromTicks(span / rows * n + 1);
                await writer.StartRowAsync();
                foreach (var (name, type, value) in columns)
                {
                    object? v = name switch
                    {
                        "id" => Guid.CreateVersion7(created),
                        "request_id" => "analytics-" + n.ToString(CultureInfo.InvariantCulture),
                        "user_id" => member.UserId,
                        "access_key_id" => member.KeyId,
                        "created_at" => created,
                        "completed_at" or "last_activity_at" => value is null ? null : created.AddSeconds(1),
                        _ => value,
                    };
                    if (v is null)
                    {
                        await writer.WriteNullAsync();
                    }
                    else
                    {
                        await writer.WriteAsync(v, type);
                    }
                }
            }
            await writer.CompleteAsync();
        }
        // What a deployment has by the time anyone reads: autovacuum has visited the inserted rows (PostgreSQL ≥ 13
        // vacuums insert-only tables too), and the Worker's rollup job has rolled them up (its first run catches up on
        // all history: the same statement, hourly then daily buckets).
        await using (var vacuum = new NpgsqlCommand("VACUUM (ANALYZE) aignehub.model_calls", db))
        {
            vacuum.CommandTimeout = 0;
            await vacuum.ExecuteNonQueryAsync();
        }
        await using var source = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(governed.Database) { CommandTimeout = 0 }.ConnectionString);
        var end = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
        var start = end.AddDays(-32);
        await BillingSql.RollupAsync(source, RollupGranularity.Hour, start, end, DateTimeOffset.UtcNow, CancellationToken.None);
        await BillingSql.RollupAsync(source, RollupGranularity.Day, new DateTimeOffset(start.UtcDateTime.Date, TimeSpan.Zero), end.AddDays(1), DateTimeOffset.UtcNow, CancellationToken.None);
        return before;
    }
}
