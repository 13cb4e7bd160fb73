using System.Diagnostics;
using AigneHub.Drills.Infrastructure;

namespace AigneHub.Drills.Drills;

/// <summary>
/// Drill 3: the Api is killed (SIGKILL) with streaming and non-streaming calls in flight and quick calls arriving,
/// then started again. Every request has at most one record; the calls in flight end <c>failed</c> through the
/// Worker's cleanup (their lease lapses), nothing stays reserved, and the ledger equals the settled charges.
/// </summary>
internal static class ApiKillDrill
{
    public static async Task<DrillResult> RunAsync(DrillContext drill)
    {
        var clock = Stopwatch.StartNew();
        var api = await drill.StartApiAsync();
        await drill.StartWorkerAsync();
        await Hub.AddProviderAsync(api.BaseUrl, drill.Fake);
        var member = await Hub.AddMemberAsync(api.BaseUrl, 1000);
        using var traffic = new Traffic(TimeSpan.FromSeconds(90));

        // 40 long calls (the provider holds them 30 s), half streaming, and a steady flow of quick ones.
        using var load = new CancellationTokenSource();
        var quick = traffic.LoadAsync(i => (api.BaseUrl, member.Key, i % 2 == 0, 50), concurrency: 6, maxCalls: 5000, load.Token);
        var inFlight = Enumerable.Range(0, 40).Select(i => traffic.CallAsync(api.BaseUrl, member.Key, stream: i % 2 == 0, holdMs: 30_000)).ToList();
        await Wait.UntilAsync(TimeSpan.FromSeconds(30), () => Task.FromResult(drill.Fake.ChatRequests >= 60), "the long calls to reach the provider");
        await Task.Delay(1000);
        var before = await MoneyState.ReadAsync(drill.Database);
        drill.Figure($"at the kill: {before.Processing} calls processing, {before.Reserved:0.##########} credits reserved");

        await api.KillAsync();
        await Task.Delay(2000);
        await api.StartAsync();
        var restarted = DateTimeOffset.UtcNow;
        await Task.Delay(3000);
        await load.CancelAsync();
        await quick;
        await Task.WhenAll(inFlight);
        var outcomes = traffic.Outcomes.ToList();

        var settle = Stopwatch.StartNew();
        var money = await MoneyState.SettledAsync(drill.Database, TimeSpan.FromSeconds(150));
        drill.Figure($"all closed {settle.Elapsed.TotalSeconds:0} s after the traffic stopped (the Worker fails a call whose lease is 1 min old)");
        var longIds = inFlight.Select(t => t.Result.RequestId).ToHashSet();
        var longRecords = money.Calls.Values.Where(c => c.RequestId is not null && longIds.Contains(c.RequestId)).ToList();
        drill.Figure($"long calls: {longRecords.Count} of 40 had a record, {longRecords.Count(c => c.Status == "failed")} failed, charged {longRecords.Sum(c => c.Credits):0.##########}");
        var afterRestart = outcomes.Count(o => o.SentAt >= restarted && o.Served);
        drill.Figure($"failed: {outcomes.Count(o => o.Failed && o.Status is null && o.CallId is null)} refused connections or torn answers with no call id while the Api was down or dying, {outcomes.Count(o => o.Failed && o.Status == 200)} streams cut at the kill");
        drill.Figure($"served after the restart: {afterRestart}");

        drill.Check(before.Processing >= 40, "the long calls were in flight at the kill");
        drill.Check(longRecords.All(c => c is { Status: "failed", Credits: 0 }), "every long call in flight at the kill ends failed, charged nothing");
        drill.Check(afterRestart > 0, "the restarted Api serves");
        drill.CheckMoney(money, outcomes);
        return drill.Result(outcomes, money, clock.Elapsed);
    }
}
