using System.Diagnostics;
using AigneHub.Drills.Infrastructure;

namespace AigneHub.Drills.Drills;

/// <summary>
/// Drill 1: a burst of concurrent calls (1,000 by default, half streaming) against a Postgres with the default
/// <c>max_connections</c> of 100, the Api at its default pool (40) and the Worker beside it (10). Every call must be
/// answered 200 or 503/529 with Retry-After — no 500, no exception text — with one record per call and exact money.
/// </summary>
internal static class BurstDrill
{
    public static async Task<DrillResult> RunAsync(DrillContext drill)
    {
        var clock = Stopwatch.StartNew();
        var api = await drill.StartApiAsync();
        await drill.StartWorkerAsync();
        await Hub.AddProviderAsync(api.BaseUrl, drill.Fake);
        var members = new List<Hub.Member>();
        for (var i = 0; i < 10; i++)
        {
            members.Add(await Hub.AddMemberAsync(api.BaseUrl, 1000));
        }

        using var traffic = new Traffic(TimeSpan.FromSeconds(120));
        var n = drill.Run.BurstCalls;
        var burst = Stopwatch.StartNew();
        // Every call at once; the provider holds each answer 300 ms, so the calls overlap at the database.
        await Task.WhenAll(Enumerable.Range(0, n).Select(i => traffic.CallAsync(api.BaseUrl, members[i % members.Count].Key, stream: i % 2 == 0, holdMs: 300)));
        burst.Stop();
        var outcomes = traffic.Outcomes.ToList();
        var money = await MoneyState.SettledAsync(drill.Database, TimeSpan.FromSeconds(60));

        drill.Figure($"{n} concurrent calls against max_connections={drill.Run.Postgres.MaxConnections} (Api pool 40, Worker pool 10), all answered in {burst.Elapsed.TotalSeconds:0.0} s");
        foreach (var group in outcomes.GroupBy(o => o.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer").OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            drill.Figure($"status {group.Key}: {group.Count()} (with Retry-After: {group.Count(o => o.RetryAfter)})");
        }
        var took = outcomes.Select(o => o.Took.TotalSeconds).Order().ToList();
        drill.Figure($"answer time p50 {took[took.Count / 2]:0.0} s, max {took[^1]:0.0} s");
        var tooMany = api.LogLinesContaining("53300") + api.LogLinesContaining("too many clients");
        drill.Figure($"'too many clients' in the Api's log: {tooMany}");

        drill.Check(outcomes.All(o => o.Served || o.Refused), $"{outcomes.Count(o => o.Failed)} calls were neither served nor refused with Retry-After (first: {outcomes.FirstOrDefault(o => o.Failed)?.Snippet ?? outcomes.FirstOrDefault(o => o.Failed)?.Transport})");
        drill.Check(tooMany == 0, "Postgres refused a connection (too many clients)");
        drill.CheckMoney(money, outcomes);
        return drill.Result(outcomes, money, clock.Elapsed);
    }
}
