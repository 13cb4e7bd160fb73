using System.Diagnostics;
using AigneHub.Drills.Infrastructure;

namespace AigneHub.Drills.Drills;

/// <summary>
/// Drill 6: Postgres is stopped by its PID for the outage (30 s unless <c>--outage-seconds</c>) under steady load,
/// then started again. While it is down a call gets a clear 503 with Retry-After before any provider is called; the
/// Api recovers on its own; nothing is lost or doubled; its memory stays bounded.
/// </summary>
internal static class PostgresOutageDrill
{
    public static async Task<DrillResult> RunAsync(DrillContext drill)
    {
        var clock = Stopwatch.StartNew();
        var outage = TimeSpan.FromSeconds(drill.Run.OutageSeconds);
        var api = await drill.StartApiAsync();
        await drill.StartWorkerAsync();
        await Hub.AddProviderAsync(api.BaseUrl, drill.Fake);
        var member = await Hub.AddMemberAsync(api.BaseUrl, 1000);
        using var traffic = new Traffic(TimeSpan.FromSeconds(60));
        using var load = new CancellationTokenSource();
        var running = traffic.LoadAsync(i => (api.BaseUrl, member.Key, i % 2 == 0, 200), concurrency: 8, maxCalls: 20_000, load.Token);

        await Task.Delay(5000);
        var rssBefore = api.ResidentMiB();
        await drill.Run.Postgres.StopAsync();
        var down = DateTimeOffset.UtcNow;
        // Calls already at the provider may finish; after a second none may reach it.
        await Task.Delay(1000);
        var providerCallsAtStop = drill.Fake.ChatRequests;
        var rssMax = 0.0;
        var outageClock = Stopwatch.StartNew();
        while (outageClock.Elapsed < outage - TimeSpan.FromSeconds(1))
        {
            rssMax = Math.Max(rssMax, api.ResidentMiB());
            await Task.Delay(500);
        }
        var providerCallsWhileDown = drill.Fake.ChatRequests - providerCallsAtStop;
        await drill.Run.Postgres.StartAsync();
        var up = DateTimeOffset.UtcNow;
        var recovered = Stopwatch.StartNew();
        await Wait.UntilAsync(TimeSpan.FromSeconds(60), () => Task.FromResult(traffic.Outcomes.Any(o => o.SentAt > up && o.Served)), "a call served after Postgres is back");
        recovered.Stop();
        await Task.Delay(5000);
        await load.CancelAsync();
        await running;
        var outcomes = traffic.Outcomes.ToList();
        var money = await MoneyState.SettledAsync(drill.Database, TimeSpan.FromSeconds(150));

        var whileDown = outcomes.Where(o => o.SentAt > down.AddSeconds(1) && o.SentAt < up).ToList();
        drill.Figure($"Postgres down {(up - down).TotalSeconds:0} s under 8 callers; calls sent while down: {whileDown.Count}: {string.Join(", ", whileDown.GroupBy(o => o.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer").Select(g => $"{g.Count()} × {g.Key}"))}");
        drill.Figure($"provider calls while down: {providerCallsWhileDown}");
        drill.Figure($"first call served {recovered.Elapsed.TotalSeconds:0.0} s after Postgres was back, without a restart");
        drill.Figure($"Api memory {rssBefore:0} MiB before, at most {rssMax:0} MiB while down");
        var answered = whileDown.Count == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(whileDown.Max(o => o.Took.TotalSeconds));
        drill.Figure($"slowest answer while down: {answered.TotalSeconds:0.0} s");

        drill.Check(whileDown.Count > 0 && whileDown.All(o => o.Refused), "every call while Postgres is down is a 503 with Retry-After");
        drill.Check(providerCallsWhileDown == 0, "no provider is called while Postgres is down");
        drill.Check(rssMax < Math.Max(2 * rssBefore, rssBefore + 200), "the Api's memory stays bounded while Postgres is down");
        drill.CheckMoney(money, outcomes);
        return drill.Result(outcomes, money, clock.Elapsed);
    }
}
