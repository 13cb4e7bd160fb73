using System.Diagnostics;
using AigneHub.Drills.Infrastructure;

namespace AigneHub.Drills.Drills;

/// <summary>
/// Drill 5: Redis is stopped by its PID for the outage under load on two Apis of one deployment: one with per-key
/// rate limits (admission must count in Redis, so it fails closed with a 503 and Retry-After) and one without (it
/// keeps serving from its caches and Postgres). A key revoked during the outage must be refused by both after Redis
/// is back; both recover without a restart; nothing is lost or doubled; memory stays bounded.
/// </summary>
internal static class RedisOutageDrill
{
    public static async Task<DrillResult> RunAsync(DrillContext drill)
    {
        var clock = Stopwatch.StartNew();
        var outage = TimeSpan.FromSeconds(drill.Run.OutageSeconds);
        var limited = await drill.StartApiAsync("api-limited", new Dictionary<string, string> { ["AigneHub__RateLimits__PerKey__RequestsPerMinute"] = "1000000" });
        var open = await drill.StartApiAsync("api-open");
        await drill.StartWorkerAsync();
        await Hub.AddProviderAsync(limited.BaseUrl, drill.Fake);
        var member = await Hub.AddMemberAsync(limited.BaseUrl, 1000);
        var revoked = await Hub.AddMemberAsync(limited.BaseUrl, 1000);
        using var traffic = new Traffic(TimeSpan.FromSeconds(60));
        using var probes = new Traffic(TimeSpan.FromSeconds(30));
        foreach (var api in new[] { limited, open })
        {
            var warm = await probes.CallAsync(api.BaseUrl, revoked.Key, stream: false, holdMs: 0);
            drill.Check(warm.Served, $"{api.Name} serves the key to be revoked before the outage");
        }

        using var load = new CancellationTokenSource();
        var running = Task.WhenAll(
            traffic.LoadAsync(i => (i % 2 == 0 ? limited.BaseUrl : open.BaseUrl, member.Key, i % 4 < 2, 50), concurrency: 4, maxCalls: 50_000, load.Token),
            traffic.PaceAsync(i => (i % 2 == 0 ? limited.BaseUrl : open.BaseUrl, member.Key, i % 4 < 2, 50), TimeSpan.FromMilliseconds(250), maxCalls: 2_000, load.Token));
        await Task.Delay(5000);
        var rssBefore = Math.Max(limited.ResidentMiB(), open.ResidentMiB());
        await drill.Run.Redis.StopAsync();
        var down = DateTimeOffset.UtcNow;
        await Task.Delay(2000);
        await Hub.RevokeAsync(open.BaseUrl, revoked);
        var rssMax = 0.0;
        while (DateTimeOffset.UtcNow - down < outage)
        {
            rssMax = Math.Max(rssMax, Math.Max(limited.ResidentMiB(), open.ResidentMiB()));
            await Task.Delay(500);
        }
        var restarting = DateTimeOffset.UtcNow;
        await drill.Run.Redis.StartAsync();
        var up = DateTimeOffset.UtcNow;

        var recovered = Stopwatch.StartNew();
        await Wait.UntilAsync(TimeSpan.FromSeconds(60), () => Task.FromResult(traffic.Outcomes.Any(o => o.SentAt > up && o.Served && IsOn(o, limited))), "the limited Api to serve again");
        var limitedBack = recovered.Elapsed;
        var refusedAfter = new Dictionary<string, TimeSpan?>();
        foreach (var api in new[] { limited, open })
        {
            try
            {
                await Wait.UntilAsync(TimeSpan.FromSeconds(90), async () => (await probes.CallAsync(api.BaseUrl, revoked.Key, stream: false, holdMs: 0)).Status == 401, $"{api.Name} to refuse the revoked key");
                refusedAfter[api.Name] = DateTimeOffset.UtcNow - up;
            }
            catch (TimeoutException)
            {
                refusedAfter[api.Name] = null;
            }
        }
        await load.CancelAsync();
        await running;
        var outcomes = traffic.Outcomes.ToList();
        var money = await MoneyState.SettledAsync(drill.Database, TimeSpan.FromSeconds(150));

        string Summary(IEnumerable<CallOutcome> os) => string.Join(", ", os.GroupBy(o => o.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer").OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Count()} × {g.Key}"));
        // Sent while the server was down: from a second after the stop until its restart began.
        var whileDown = outcomes.Where(o => o.SentAt > down.AddSeconds(1) && o.SentAt < restarting).ToList();
        var limitedDown = whileDown.Where(o => IsOn(o, limited)).ToList();
        var openDown = whileDown.Where(o => !IsOn(o, limited)).ToList();
        drill.Figure($"Redis down {(up - down).TotalSeconds:0} s; 4 callers and a new call every 250 ms, alternating between the two Apis");
        drill.Figure($"while down, the Api with rate limits: {Summary(limitedDown)}; slowest answer {MaxSeconds(limitedDown):0.0} s");
        drill.Figure($"while down, the Api without: {Summary(openDown)}; slowest answer {MaxSeconds(openDown):0.0} s");
        drill.Figure($"the limited Api served again {limitedBack.TotalSeconds:0.0} s after Redis was back, without a restart");
        foreach (var (name, after) in refusedAfter)
        {
            drill.Figure($"key revoked during the outage: {name} refuses it {(after is { } a ? $"{a.TotalSeconds:0.0} s after Redis was back" : "not within 90 s")}");
        }
        drill.Figure($"Api memory {rssBefore:0} MiB before, at most {rssMax:0} MiB while down");

        // The Redis client holds a command up to its 5 s timeout while it reconnects: a call sent in the outage's last
        // seconds is counted once Redis is back, and served.
        var heldUntilBack = limitedDown.Count(o => o.Served && o.SentAt + o.Took >= restarting);
        drill.Figure($"of those, {heldUntilBack} were held by the Redis client until Redis was back, then served");
        drill.Check(limitedDown.Count > 0 && limitedDown.All(o => o.Refused || (o.Served && o.SentAt + o.Took >= restarting)),
            "with rate limits, every call while Redis is down is a 503 with Retry-After (or, sent in its last seconds, served once it is back)");
        drill.Check(openDown.Count > 0 && openDown.All(o => o.Served), "without rate limits, every call while Redis is down is served");
        drill.Check(refusedAfter.Values.All(a => a is not null), "the key revoked during the outage is refused by both Apis after it");
        drill.Check(rssMax < Math.Max(2 * rssBefore, rssBefore + 200), "memory stays bounded while Redis is down");
        drill.CheckMoney(money, [.. outcomes, .. probes.Outcomes]);
        return drill.Result(outcomes, money, clock.Elapsed);
    }

    private static bool IsOn(CallOutcome o, Service api) => o.Api == api.BaseUrl;

    private static double MaxSeconds(List<CallOutcome> os) => os.Count == 0 ? 0 : os.Max(o => o.Took.TotalSeconds);
}
