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
        var running = Task.WhenAll(
            traffic.LoadAsync(i => (api.BaseUrl, member.Key, i % 2 == 0, 200), concurrency: 4, maxCalls: 20_000, load.Token),
            traffic.PaceAsync(i => (api.BaseUrl, member.Key, i % 2 == 0, 200), TimeSpan.FromMilliseconds(250), maxCalls: 2_000, load.Token));

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
        var restarting = DateTimeOffset.UtcNow;
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

        // Sent while the server was down: from a second after the stop until its restart began.
        var whileDown = outcomes.Where(o => o.SentAt > down.AddSeconds(1) && o.SentAt < restarting).ToList();
        var caught = outcomes.Where(o => o.SentAt < down && o.SentAt + o.Took > down).ToList();
        drill.Figure($"calls in flight when Postgres stopped: {caught.Count}: {string.Join(", ", caught.GroupBy(o => o.Served ? "served" : o.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer").Select(g => $"{g.Count()} {g.Key}"))}, answered {(caught.Count == 0 ? 0 : caught.Max(o => (o.SentAt + o.Took - down).TotalSeconds)):0.0} s after the stop at the latest");
        drill.Figure($"Postgres down {(up - down).TotalSeconds:0} s under 4 callers and a new call every 250 ms; calls sent while down: {whileDown.Count}: {string.Join(", ", whileDown.GroupBy(o => o.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer").Select(g => $"{g.Count()} × {g.Key}"))}");
        drill.Figure($"provider calls while down: {providerCallsWhileDown}");
        drill.Figure($"first call served {recovered.Elapsed.TotalSeconds:0.0} s after Postgres was back, without a restart");
        drill.Figure($"Api memory {rssBefore:0} MiB before, at most {rssMax:0} MiB while down");
        var answered = whileDown.Count == 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(whileDown.Max(o => o.Took.TotalSeconds));
        drill.Figure($"slowest answer while down: {answered.TotalSeconds:0.0} s");

        // A call sent while Postgres was starting again may be admitted once it answers: served, after the restart.
        drill.Figure($"of the calls sent while down, {whileDown.Count(o => o.Served && o.SentAt + o.Took >= restarting)} were answered after the restart began, served");
        var unsettled = caught.Where(o => o.Served).Select(o => money.Calls.Values.FirstOrDefault(c => c.RequestId == o.RequestId)).Count(c => c.Status == "failed");
        drill.Figure($"served calls whose settlement fell in the outage and that the Worker's cleanup closed as failed, charged 0: {unsettled}");
        drill.Check(whileDown.Count > 0 && whileDown.All(o => o.Refused || (o.Served && o.SentAt + o.Took >= restarting)),
            "every call while Postgres is down is a 503 with Retry-After (or, sent while it restarts, served after)");
        drill.Check(providerCallsWhileDown == 0, "no provider is called while Postgres is down");
        drill.Check(rssMax < Math.Max(2 * rssBefore, rssBefore + 200), "the Api's memory stays bounded while Postgres is down");
        drill.CheckMoney(money, outcomes);
        return drill.Result(outcomes, money, clock.Elapsed);
    }
}
