namespace AigneHub.Bench;

/// <summary>A load's shape: streaming or not, connections, and over how many accounts the requests are spread.</summary>
internal sealed record Shape(bool Stream, int Connections, int Accounts)
{
    public static readonly Shape[] All =
    [
        new(false, 1, 1), new(false, 32, 1), new(false, 32, Gateway.Accounts),
        new(true, 1, 1), new(true, 32, 1), new(true, 32, Gateway.Accounts),
    ];

    public string Label => $"{(Stream ? "stream" : "json")} c{Connections} a{Accounts}";
}

/// <summary>One measured wrk run: what wrk saw, the CPU per request of the target's process and of Postgres (the
/// postmaster and all its children), the target process's peak RSS so far, and whether the records hold.</summary>
internal sealed record RunRow(int Repeat, string Target, Shape Shape, WrkResult Wrk, double ServerCpuUs, double PostgresCpuUs,
    double PeakRssMiB, Records? Records, bool? RecordsHold);

/// <summary>Time to first event of a stream at one connection, sequential calls after a warm-up.</summary>
internal sealed record FirstEventRow(int Repeat, string Target, int Calls, double P50Us, double P99Us, int Incomplete);

/// <summary>The interleaved matrix: every repeat runs every shape against every target in turn (so a slow minute of a
/// shared machine hurts all targets alike), then the first-event measurement of each target.</summary>
internal sealed class Matrix(RunFolder folder, PostgresServer postgres, IReadOnlyList<Target> targets, BenchOptions options)
{
    private const int FirstEventCalls = 200;
    private const int WarmUpSeconds = 5;

    public List<RunRow> Runs { get; } = [];

    public List<FirstEventRow> FirstEvents { get; } = [];

    public async Task RunAsync()
    {
        // Long enough for the JIT's second tier: a cold Api serves its first calls many times slower.
        Console.WriteLine("== warm-up");
        foreach (var target in targets)
        {
            foreach (var stream in new[] { false, true })
            {
                await MeasureAsync(0, target, new Shape(stream, 32, 1), WarmUpSeconds, record: false);
            }
        }
        for (var repeat = 1; repeat <= options.Repeats; repeat++)
        {
            Console.WriteLine($"== repeat {repeat} of {options.Repeats}");
            foreach (var shape in Shape.All)
            {
                foreach (var target in targets.Where(t => t.Gateway is not null || shape.Accounts == 1))
                {
                    await MeasureAsync(repeat, target, shape, options.Duration, record: true);
                }
            }
            foreach (var target in targets)
            {
                await FirstEventAsync(repeat, target);
            }
        }
    }

    private async Task MeasureAsync(int repeat, Target target, Shape shape, int seconds, bool record)
    {
        var label = $"r{repeat}-{target.Name}-{(shape.Stream ? "s" : "j")}{shape.Connections}-a{shape.Accounts}";
        var prefix = label + "-";
        var postgresBefore = ProcessStats.TreeCpuTicks(postgres.Process.Id);
        var serverBefore = target.Server is { } s ? ProcessStats.CpuTicks(s.Id) : 0;
        var wrk = await Wrk.RunAsync(folder.TempRoot, label, target.BaseUrl, target.Path, target.Body(shape.Stream), target.Keys(shape.Accounts),
            prefix, shape.Connections, seconds);
        // What the server still does for the last requests (settling them) belongs to this run.
        await Task.Delay(300);
        var postgresTicks = ProcessStats.TreeCpuTicks(postgres.Process.Id) - postgresBefore;
        var serverTicks = target.Server is { } t ? ProcessStats.CpuTicks(t.Id) - serverBefore : 0;
        Records? records = null;
        bool? hold = null;
        if (target.Gateway is { } gateway)
        {
            var billing = target.Name == Target.Governed;
            records = await Records.ReadAsync(gateway.Database, prefix, Hub.ServedCallCharge);
            hold = records.Hold(wrk.Requests, wrk.Non2xx, shape.Connections, billing);
        }
        var row = new RunRow(repeat, target.Name, shape, wrk,
            target.Server is null ? double.NaN : ProcessStats.MicrosecondsPer(serverTicks, wrk.Requests),
            ProcessStats.MicrosecondsPer(postgresTicks, wrk.Requests),
            target.Server is { } p ? ProcessStats.PeakResidentMiB(p.Id) : double.NaN, records, hold);
        Console.WriteLine($"   {label,-34} {wrk.RequestsPerSecond,9:0} req/s  p50 {wrk.P50Microseconds,8:0} µs  p99 {wrk.P99Microseconds,8:0} µs"
            + $"  cpu {row.ServerCpuUs,6:0} µs  pg {row.PostgresCpuUs,6:0} µs  non-2xx {wrk.Non2xx}  errors {wrk.SocketErrors}"
            + (hold is null ? "" : $"  records {records!.Count} (good {records.Good(target.Name == Target.Governed)}) {(hold.Value ? "ok" : "WRONG")}"));
        if (record)
        {
            Runs.Add(row);
        }
    }

    private async Task FirstEventAsync(int repeat, Target target)
    {
        using var traffic = new Traffic(TimeSpan.FromSeconds(30));
        var key = target.Keys(1)[0];
        for (var i = 0; i < 20; i++)
        {
            await traffic.CallAsync(target.BaseUrl, key, stream: true, holdMs: 0, path: target.Path);
        }
        while (traffic.Outcomes.TryDequeue(out _))
        {
        }
        for (var i = 0; i < FirstEventCalls; i++)
        {
            await traffic.CallAsync(target.BaseUrl, key, stream: true, holdMs: 0, path: target.Path);
        }
        var outcomes = traffic.Outcomes.ToList();
        var firsts = outcomes.Where(o => o.Served && o.FirstBytes is not null).Select(o => o.FirstBytes!.Value.TotalMicroseconds).Order().ToList();
        var row = new FirstEventRow(repeat, target.Name, outcomes.Count, Percentile(firsts, 0.50), Percentile(firsts, 0.99), outcomes.Count(o => !o.Served));
        Console.WriteLine($"   first event {target.Name,-12} p50 {row.P50Us,8:0} µs  p99 {row.P99Us,8:0} µs  incomplete {row.Incomplete}");
        FirstEvents.Add(row);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}
