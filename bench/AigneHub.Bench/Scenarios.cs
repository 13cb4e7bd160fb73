namespace AigneHub.Bench;

/// <summary>The extra scenarios behind flags: many slow streams at once, and a soak at moderate load.</summary>
internal static class Scenarios
{
    private const int SlowStreamTokens = 40;

    /// <summary><paramref name="streams"/> streams at once through the governed Api, the provider sending a token every
    /// 20 ms: every stream must complete, none may stall (no wait between two reads above 500 ms, 25 tokens' time),
    /// and every call must have its one record, charged for its usage.</summary>
    public static async Task<IReadOnlyList<Finding>> SlowStreamsAsync(Gateway governed, FakeUpstream fake, int streams)
    {
        Console.WriteLine($"== {streams} slow streams");
        fake.StreamTokens = SlowStreamTokens;
        fake.TokenInterval = TimeSpan.FromMilliseconds(20);
        CallOutcome[] outcomes;
        try
        {
            using var traffic = new Traffic(TimeSpan.FromMinutes(2));
            outcomes = await Task.WhenAll(Enumerable.Range(0, streams).Select(i =>
                traffic.CallAsync(governed.Api.BaseUrl, governed.Members[i % governed.Members.Count].Key, stream: true, holdMs: 0)));
        }
        finally
        {
            fake.StreamTokens = FakeUpstream.CompletionTokens;
            fake.TokenInterval = TimeSpan.Zero;
        }
        var charge = FakeUpstream.PromptTokens * Hub.InputRate + SlowStreamTokens * Hub.OutputRate;
        var records = await Records.ReadAsync(governed.Database, outcomes.Select(o => o.RequestId).ToList(), charge);
        var complete = outcomes.Count(o => o.Served);
        var gaps = outcomes.Select(o => o.LongestGap.TotalMilliseconds).Order().ToList();
        var took = outcomes.Select(o => o.Took.TotalMilliseconds).Order().ToList();
        var stalled = gaps.Count(g => g > 500);
        Console.WriteLine($"   complete {complete}/{streams}, longest gap {gaps[^1]:0} ms, records {records.Count}, charged right {records.ChargedAsExpected}");
        return
        [
            new($"{streams} slow streams: complete", $"{complete} of {streams} (each {SlowStreamTokens} tokens, one per 20 ms; p50 {took[took.Count / 2]:0} ms, longest {took[^1]:0} ms)", "all", complete == streams),
            new($"{streams} slow streams: no stall", $"longest wait between two reads {gaps[^1]:0} ms (p99 {Matrix.Percentile(gaps, 0.99):0} ms); {stalled} over 500 ms", "none over 500 ms", stalled == 0),
            new($"{streams} slow streams: every call recorded", $"{records.Count} records, {records.ChargedAsExpected} charged {charge} (10 × input + {SlowStreamTokens} × output rate)", "one each, charged for its usage",
                records.Count == streams && records.ChargedAsExpected == streams),
        ];
    }

    /// <summary>A soak at moderate load (<paramref name="connections"/>, 4 unless asked, json, the 32 accounts in turn) for <paramref name="minutes"/>,
    /// the governed Api's RSS sampled every 10 s. Flat: the last sample within 10% of the first.</summary>
    public static async Task<IReadOnlyList<Finding>> SoakAsync(RunFolder folder, Gateway governed, int minutes, int connections)
    {
        Console.WriteLine($"== soak, {minutes} min, {connections} connections, governed Api pid {governed.Api.Process.Id}");
        var target = new Target(Target.Governed, governed.Api.BaseUrl, "/api/v2/chat/completions", governed.Api.Process, governed);
        var prefix = "soak-";
        var load = Wrk.RunAsync(folder.TempRoot, "soak", target.BaseUrl, target.Path, target.Body(false), target.Keys(Gateway.Accounts), prefix, connections, minutes * 60);
        var samples = new List<double>();
        while (!load.IsCompleted)
        {
            await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(10)));
            if (!load.IsCompleted)
            {
                samples.Add(governed.Api.ResidentMiB());
            }
        }
        var wrk = await load;
        var records = await Records.ReadAsync(governed.Database, prefix, Hub.ServedCallCharge);
        var hold = records.Hold(wrk.Requests, wrk.Non2xx, connections, billing: true);
        var (first, last, max) = samples.Count == 0 ? (double.NaN, double.NaN, double.NaN) : (samples[0], samples[^1], samples.Max());
        Console.WriteLine($"   {wrk.RequestsPerSecond:0} req/s, RSS first {first:0} last {last:0} max {max:0} MiB, records {(hold ? "ok" : "WRONG")}");
        return
        [
            new($"soak {minutes} min ({connections} connections, {wrk.RequestsPerSecond:0} req/s, {wrk.Requests} requests, records {(hold ? "ok" : "wrong")}): Api RSS",
                $"first {first:0} MiB, last {last:0} MiB, max {max:0} MiB ({samples.Count} samples, every 10 s)", "flat (last within 10% of first)",
                samples.Count < 2 ? null : last <= first * 1.10 && hold),
        ];
    }
}
