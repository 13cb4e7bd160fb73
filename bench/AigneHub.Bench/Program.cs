using AigneHub.Bench;

// The benchmark of issue 13 (bench/README.md). Run by bench/run.sh, which builds this and the Api in Release:
//   ./bench/run.sh [--repeats N] [--duration S] [--fsync on|off] [--ttft MS] [--slow-streams N] [--soak MINUTES] [--analytics ROWS]
// Everything runs on 127.0.0.1; every process started is stopped by its PID at the end; the temporary data is deleted.
if (args is ["floor", var upstream, var port])
{
    return await Floor.RunAsync(new Uri(upstream), int.Parse(port, System.Globalization.CultureInfo.InvariantCulture));
}
if (BenchOptions.Parse(args, out var error) is not { } options)
{
    Console.Error.WriteLine(error);
    return 2;
}

using var folder = RunFolder.Create("aignehub-bench-");
var machine = await MachineInfo.ReadAsync(folder.RepositoryRoot);
var findings = new List<Finding>();
var idle = new Dictionary<string, double>();
Matrix matrix;
try
{
    // :: Step 1: the stack — Postgres (fsync as asked), Redis, the fake provider, the floor, two Apis.
    var postgres = await PostgresServer.StartAsync(folder.TempRoot, maxConnections: 200, fsync: options.Fsync, maxWalMegabytes: 1024);
    var redis = await RedisServer.StartAsync(folder.TempRoot);
    await using var fake = await FakeUpstream.StartAsync();
    fake.TimeToFirstToken = TimeSpan.FromMilliseconds(options.TimeToFirstTokenMs);
    var upstreamRoot = new Uri(fake.BaseUrl, "/");
    var (floorProcess, floorUrl) = await Floor.StartAsync(folder.TempRoot, upstreamRoot);
    var governed = await Gateway.StartAsync(folder, postgres, redis, 1, Target.Governed, billing: true, fake);
    var open = await Gateway.StartAsync(folder, postgres, redis, 2, Target.BillingOff, billing: false, fake);
    await Task.Delay(TimeSpan.FromSeconds(2));
    idle[Target.Governed] = governed.Api.ResidentMiB();
    idle[Target.BillingOff] = open.Api.ResidentMiB();
    idle[Target.Floor] = ProcessStats.ResidentMiB(floorProcess.Id);
    Target[] targets =
    [
        new(Target.Direct, upstreamRoot, "/v1/chat/completions", null, null),
        new(Target.Floor, floorUrl, "/v1/chat/completions", floorProcess, null),
        new(Target.Governed, governed.Api.BaseUrl, "/api/v2/chat/completions", governed.Api.Process, governed),
        new(Target.BillingOff, open.Api.BaseUrl, "/api/v2/chat/completions", open.Api.Process, open),
    ];

    // :: Step 2: the interleaved matrix, then the money invariants over everything the governed Api served.
    matrix = new Matrix(folder, postgres, targets, options);
    await matrix.RunAsync();
    var money = await MoneyState.SettledAsync(governed.Database, TimeSpan.FromSeconds(60));
    var moneyHolds = money.DuplicateRequestIds == 0 && money.Processing == 0 && money.Reserved == 0 && money.LedgerDifference == 0;
    findings.Add(new Finding("governed: ledger debits = Σ settled charges, no request with two records, nothing processing or reserved",
        $"{money.Records} records, ledger − charges = {money.LedgerDifference:0.##########}, duplicates {money.DuplicateRequestIds}, reserved {money.Reserved:0.##########}",
        "exact", moneyHolds));

    // :: Step 3: the extra scenarios, when asked for.
    if (options.SlowStreams > 0)
    {
        findings.AddRange(await Scenarios.SlowStreamsAsync(governed, fake, options.SlowStreams));
    }
    if (options.SoakMinutes > 0)
    {
        findings.AddRange(await Scenarios.SoakAsync(folder, governed, options.SoakMinutes, options.SoakConnections));
    }
    if (options.AnalyticsRows > 0)
    {
        findings.AddRange(await Analytics.RunAsync(governed, options.AnalyticsRows));
    }
}
finally
{
    Processes.StopAll();
}

var report = new Report(options, matrix, machine, idle, findings);
var results = Path.Combine(folder.RepositoryRoot, "bench", "results");
Directory.CreateDirectory(results);
await File.WriteAllTextAsync(Path.Combine(results, "last-run.md"), report.Markdown());
await File.WriteAllTextAsync(Path.Combine(results, "last-run.csv"), report.Csv());
Console.WriteLine($"Wrote bench/results/last-run.md and last-run.csv.");
return 0;
