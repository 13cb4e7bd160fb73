using System.Diagnostics;
using AigneHub.Drills.Infrastructure;

namespace AigneHub.Drills.Drills;

/// <summary>
/// Drill 10: SIGTERM during traffic. The Api stops accepting, lets the calls in flight finish up to its drain bound
/// (<c>AigneHub:Gateway:ShutdownDrainSeconds</c>, 5 s here), ends the streams still running with the protocol's
/// error event, settles every call itself (no Worker runs in this drill, so nothing is left to a cleanup) and exits 0.
/// </summary>
internal static class ShutdownDrill
{
    private const int DrainSeconds = 5;

    public static async Task<DrillResult> RunAsync(DrillContext drill)
    {
        var clock = Stopwatch.StartNew();
        var api = await drill.StartApiAsync(settings: new Dictionary<string, string> { ["AigneHub__Gateway__ShutdownDrainSeconds"] = $"{DrainSeconds}" });
        await Hub.AddProviderAsync(api.BaseUrl, drill.Fake);
        var member = await Hub.AddMemberAsync(api.BaseUrl, 1000);
        using var traffic = new Traffic(TimeSpan.FromSeconds(120));

        // Within the bound: 10 streams and 10 JSON calls of 2 s. Past it: 10 streams and 5 JSON calls of 60 s.
        var shortCalls = Enumerable.Range(0, 20).Select(i => traffic.CallAsync(api.BaseUrl, member.Key, stream: i % 2 == 0, holdMs: 2_000)).ToList();
        var longStreams = Enumerable.Range(0, 10).Select(_ => traffic.CallAsync(api.BaseUrl, member.Key, stream: true, holdMs: 60_000)).ToList();
        var longJson = Enumerable.Range(0, 5).Select(_ => traffic.CallAsync(api.BaseUrl, member.Key, stream: false, holdMs: 60_000)).ToList();
        await Wait.UntilAsync(TimeSpan.FromSeconds(30), () => Task.FromResult(drill.Fake.ChatRequests >= 35), "every call to reach the provider");

        var stopping = Stopwatch.StartNew();
        var exit = api.TerminateAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        var late = await traffic.CallAsync(api.BaseUrl, member.Key, stream: false, holdMs: 0);
        var exitCode = await exit;
        stopping.Stop();
        await Task.WhenAll([.. shortCalls, .. longStreams, .. longJson]);
        var outcomes = traffic.Outcomes.ToList();
        var money = await MoneyState.ReadAsync(drill.Database);

        drill.Figure($"exit code {exitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (still running after 60 s)"} after {stopping.Elapsed.TotalSeconds:0.0} s (drain bound {DrainSeconds} s)");
        drill.Figure($"a call sent 0.3 s after SIGTERM: {(late.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? late.Transport)}");
        drill.Figure($"2 s calls served: {shortCalls.Count(t => t.Result.Served)} of 20");
        drill.Figure($"60 s streams: {longStreams.Count(t => t.Result is { Status: 200, StreamError: true, Completed: false })} of 10 ended with an error event, {longStreams.Count(t => t.Result.Transport is not null)} torn");
        drill.Figure($"60 s JSON calls: {string.Join(", ", longJson.GroupBy(t => t.Result.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "torn").Select(g => $"{g.Count()} × {g.Key}"))}");
        drill.Figure($"records {money.Records}, processing {money.Processing}, reserved {money.Reserved:0.##########} — read at once, no Worker");

        drill.Check(exitCode == 0, "the Api exits 0");
        drill.Check(stopping.Elapsed < TimeSpan.FromSeconds(DrainSeconds + 15), "the Api exits within the drain bound and its settlement");
        drill.Check(!late.Served, "a call arriving after SIGTERM is not taken");
        drill.Check(shortCalls.All(t => t.Result.Served), "calls that end within the bound are served");
        drill.Check(longStreams.All(t => t.Result is { Status: 200, StreamError: true, Completed: false }), "streams past the bound end with the protocol's error event");
        drill.Check(longJson.All(t => t.Result.Refused), "JSON calls past the bound get 503 with Retry-After");
        var longRecords = money.Calls.Values.Where(c => longJson.Any(t => t.Result.RequestId == c.RequestId)).ToList();
        drill.Check(longRecords.All(c => c.Credits == 0), "a JSON call ended by the shutdown is charged nothing");
        drill.CheckMoney(money, outcomes);
        return drill.Result(outcomes, money, clock.Elapsed);
    }
}
