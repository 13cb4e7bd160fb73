using System.Diagnostics;
using AigneHub.Drills.Infrastructure;

namespace AigneHub.Drills.Drills;

/// <summary>
/// Drill 9: three Api replicas on one database and one Redis (pools of 25, so 3 × 25 + the Worker's 10 fit the
/// server's 100 as <c>designs/local-infrastructure.md</c> budgets). A per-key limit of 60 requests a minute holds for
/// a key used on all three at once (never 3 × 60); a key revoked on one replica is refused on the others within a
/// second; one replica killed mid-traffic loses nothing.
/// </summary>
internal static class ReplicasDrill
{
    private const int Limit = 60;

    public static async Task<DrillResult> RunAsync(DrillContext drill)
    {
        var clock = Stopwatch.StartNew();
        var settings = new Dictionary<string, string>
        {
            ["AigneHub__Database__MaxPoolSize"] = "25",
            ["AigneHub__RateLimits__PerKey__RequestsPerMinute"] = $"{Limit}",
        };
        var replicas = new List<Service>();
        for (var i = 1; i <= 3; i++)
        {
            replicas.Add(await drill.StartApiAsync($"api-{i}", settings));
        }
        await drill.StartWorkerAsync();
        await Hub.AddProviderAsync(replicas[0].BaseUrl, drill.Fake);
        var limited = await Hub.AddMemberAsync(replicas[0].BaseUrl, 1000);
        var revoked = await Hub.AddMemberAsync(replicas[0].BaseUrl, 1000);
        var movers = new List<Hub.Member>();
        for (var i = 0; i < 4; i++)
        {
            movers.Add(await Hub.AddMemberAsync(replicas[0].BaseUrl, 1000));
        }
        using var traffic = new Traffic(TimeSpan.FromSeconds(90));
        using var probes = new Traffic(TimeSpan.FromSeconds(30));

        // :: The rate limit: 5 × the limit at once, spread over the three replicas, on one key.
        var limitCalls = await Task.WhenAll(Enumerable.Range(0, 5 * Limit).Select(i => traffic.CallAsync(replicas[i % 3].BaseUrl, limited.Key, stream: false, holdMs: 0)));
        var servedOnKey = limitCalls.Count(o => o.Served);
        drill.Figure($"rate limit {Limit}/min per key, {limitCalls.Length} calls at once over 3 replicas: {servedOnKey} served ({string.Join(", ", Enumerable.Range(0, 3).Select(r => $"{limitCalls.Count(o => o.Served && o.Api == replicas[r].BaseUrl)} on api-{r + 1}"))}), {limitCalls.Count(o => o.Status == 429 && o.RetryAfter)} × 429 with Retry-After");
        drill.Check(servedOnKey <= Limit, $"no more than {Limit} calls served on the key (served {servedOnKey})");
        drill.Check(servedOnKey == Limit, $"the limit is reached, not undercut (served {servedOnKey})");

        // :: Revocation: the key is warm on every replica, revoked through the first, refused on the others.
        foreach (var r in replicas)
        {
            drill.Check((await probes.CallAsync(r.BaseUrl, revoked.Key, stream: false, holdMs: 0)).Served, $"{r.Name} serves the key before it is revoked");
        }
        await Hub.RevokeAsync(replicas[0].BaseUrl, revoked);
        var revokedAt = Stopwatch.StartNew();
        foreach (var r in replicas.Skip(1))
        {
            await Wait.UntilAsync(TimeSpan.FromSeconds(60), async () => (await probes.CallAsync(r.BaseUrl, revoked.Key, stream: false, holdMs: 0)).Status == 401, $"{r.Name} to refuse the revoked key");
        }
        var refusedWithin = revokedAt.Elapsed;
        drill.Figure($"a key revoked on api-1 was refused on api-2 and api-3 within {refusedWithin.TotalSeconds:0.00} s");
        drill.Check(refusedWithin < TimeSpan.FromSeconds(2), "a revoked key is refused on every replica within 2 s");

        // :: A replica killed mid-traffic: long calls (10 s) and quick ones on all three; api-3 is killed.
        using var load = new CancellationTokenSource();
        var quick = traffic.LoadAsync(i => (replicas[i % 2].BaseUrl, movers[i % 2].Key, i % 4 < 2, 100), concurrency: 4, maxCalls: 2 * Limit - 10, load.Token);
        var longCalls = Enumerable.Range(0, 30).Select(i => traffic.CallAsync(replicas[i % 3].BaseUrl, movers[2 + i % 2].Key, stream: i % 2 == 0, holdMs: 10_000)).ToList();
        await Task.Delay(2000);
        await replicas[2].KillAsync();
        await Task.WhenAll(longCalls);
        await load.CancelAsync();
        await quick;
        var outcomes = traffic.Outcomes.ToList();
        var money = await MoneyState.SettledAsync(drill.Database, TimeSpan.FromSeconds(150));
        var onKilled = longCalls.Select(t => t.Result).Where(o => o.Api == replicas[2].BaseUrl).ToList();
        var onOthers = longCalls.Select(t => t.Result).Where(o => o.Api != replicas[2].BaseUrl).ToList();
        drill.Figure($"api-3 killed with {onKilled.Count} long calls on it: the other replicas served {onOthers.Count(o => o.Served)} of {onOthers.Count} long calls; the killed one's calls ended {string.Join(", ", onKilled.GroupBy(o => o.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "torn").Select(g => $"{g.Count()} × {g.Key}"))} and their records {string.Join(", ", money.Calls.Values.Where(c => onKilled.Any(o => o.RequestId == c.RequestId)).GroupBy(c => c.Status).Select(g => $"{g.Count()} {g.Key}"))}");
        drill.Check(onOthers.All(o => o.Served), "the replicas left serve every long call they had");
        drill.Check(money.Calls.Values.Where(c => onKilled.Any(o => o.RequestId == c.RequestId)).All(c => c is { Status: "failed", Credits: 0 }), "the killed replica's calls end failed, charged nothing");
        drill.CheckMoney(money, [.. outcomes, .. probes.Outcomes]);
        return drill.Result(outcomes, money, clock.Elapsed);
    }
}
