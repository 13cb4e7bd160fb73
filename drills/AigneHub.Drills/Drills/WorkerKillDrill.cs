using System.Diagnostics;
using AigneHub.Drills.Infrastructure;
using Npgsql;

namespace AigneHub.Drills.Drills;

/// <summary>
/// Drill 4: the Worker is killed (SIGKILL) while it delivers meter events to a loopback sink and rolls up usage
/// every second, then started again. Every meter event reaches the sink once (a redelivery after the kill carries the
/// same Idempotency-Key, which the sink refuses as already recorded), the sink's total equals the charges, and the
/// rollups equal a recomputation from the raw calls.
/// </summary>
internal static class WorkerKillDrill
{
    public static async Task<DrillResult> RunAsync(DrillContext drill)
    {
        var clock = Stopwatch.StartNew();
        var api = await drill.StartApiAsync();
        await Hub.AddProviderAsync(api.BaseUrl, drill.Fake);
        var members = new List<Hub.Member>();
        for (var i = 0; i < 3; i++)
        {
            members.Add(await Hub.AddMemberAsync(api.BaseUrl, 1000));
        }
        using var traffic = new Traffic(TimeSpan.FromSeconds(60));
        await traffic.LoadAsync(i => (api.BaseUrl, members[i % 3].Key, i % 2 == 0, 0), concurrency: 10, maxCalls: 300, CancellationToken.None);

        // 30 ms per event at the sink: 300 events take ~9 s, so the kill lands mid-delivery.
        drill.Fake.MeterDelay = TimeSpan.FromMilliseconds(30);
        var settings = new Dictionary<string, string>
        {
            ["AigneHub__Billing__MeterSink__Url"] = drill.Fake.MeterSinkUrl.ToString(),
            ["AigneHub__Worker__MeterSinkTimeoutSeconds"] = "2",
            ["AigneHub__Worker__MeterLeaseSeconds"] = "4",
            ["AigneHub__Worker__MeterBatchSize"] = "20",
            ["AigneHub__Worker__RollupIntervalSeconds"] = "1",
        };
        var worker = await drill.StartWorkerAsync(settings);
        await Wait.UntilAsync(TimeSpan.FromSeconds(60), () => Task.FromResult(drill.Fake.MeterAccepted.Count >= 100), "100 meter events at the sink");
        await worker.KillAsync();
        var atKill = drill.Fake.MeterAccepted.Count;
        drill.Figure($"Worker killed after {atKill} deliveries ({drill.Fake.MeterPosts} posts)");
        await Task.Delay(1000);
        await worker.StartAsync();

        await using var db = new NpgsqlConnection(drill.Database + ";Pooling=false");
        await db.OpenAsync();
        var events = await ScalarAsync(db, "SELECT count(*) FROM aignehub.meter_events");
        await Wait.UntilAsync(TimeSpan.FromSeconds(90), async () => await ScalarAsync(db, "SELECT count(*) FROM aignehub.meter_events WHERE delivered_at IS NULL") == 0, "every meter event to be delivered");
        // A rollup tick after the last settlement (ticks are 1 s apart).
        await Task.Delay(3000);
        var outcomes = traffic.Outcomes.ToList();
        var money = await MoneyState.ReadAsync(drill.Database);

        var eventIds = new HashSet<string>();
        await using (var cmd = new NpgsqlCommand("SELECT model_call_id FROM aignehub.meter_events", db))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                eventIds.Add(reader.GetGuid(0).ToString());
            }
        }
        var sinkTotal = drill.Fake.MeterAccepted.Values.Sum();
        var repeats = drill.Fake.MeterPosts - drill.Fake.MeterAccepted.Count;
        drill.Figure($"{events} meter events; the sink accepted {drill.Fake.MeterAccepted.Count} ({sinkTotal} credits), refused {repeats} repeat(s) of a key it had (redelivery after the kill)");
        var mismatched = await ScalarAsync(db, RollupMismatchSql);
        var rollups = await ScalarAsync(db, "SELECT count(*) FROM aignehub.usage_rollups");
        drill.Figure($"{rollups} rollup rows; rows differing from a recomputation from the raw calls: {mismatched}");

        drill.Check(atKill < events, "the Worker was killed before it had delivered everything");
        drill.Check(drill.Fake.MeterAccepted.Keys.ToHashSet().SetEquals(eventIds), "the sink accepted exactly the meter events, each once");
        drill.Check(sinkTotal == money.Charges, $"the sink's total ({sinkTotal}) equals the charges ({money.Charges})");
        drill.Check(mismatched == 0, "the rollups equal a recomputation from the raw calls");
        drill.Check(outcomes.All(o => o.Served), "every call was served");
        drill.CheckMoney(money, outcomes);
        return drill.Result(outcomes, money, clock.Elapsed);
    }

    /// <summary>Hourly and daily buckets recomputed here from the raw calls, compared both ways with the Worker's rows.</summary>
    private const string RollupMismatchSql = """
        WITH recomputed AS (
            SELECT g.granularity, date_trunc(g.granularity, c.created_at, 'UTC') AS bucket_start, c.user_id, c.provider, c.model,
                count(*) AS calls, count(*) FILTER (WHERE c.status = 'success') AS successes,
                sum(c.prompt_tokens) AS prompt_tokens, sum(c.completion_tokens) AS completion_tokens, sum(c.credits) AS credits
            FROM aignehub.model_calls c CROSS JOIN (VALUES ('hour'), ('day')) AS g(granularity)
            WHERE c.status <> 'processing'
            GROUP BY 1, 2, 3, 4, 5),
        stored AS (
            SELECT granularity, bucket_start, user_id, provider, model, calls, successes, prompt_tokens, completion_tokens, credits
            FROM aignehub.usage_rollups)
        SELECT count(*) FROM ((SELECT * FROM recomputed EXCEPT SELECT * FROM stored) UNION ALL (SELECT * FROM stored EXCEPT SELECT * FROM recomputed)) d
        """;

    private static async Task<long> ScalarAsync(NpgsqlConnection db, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, db);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
