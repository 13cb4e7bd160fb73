using System.Globalization;
using System.Text;

namespace AigneHub.Bench;

/// <summary>A finding of an extra scenario: what was measured, and, where the issue sets one, its target and whether
/// it was met.</summary>
internal sealed record Finding(string What, string Figure, string? Goal = null, bool? Met = null);

/// <summary>Writes <c>bench/results/last-run.md</c> (the machine, the commit, the fsync mode; medians over the
/// repeats beside the issue's targets; every run) and <c>last-run.csv</c> (every run and first-event row).</summary>
internal sealed class Report(BenchOptions options, Matrix matrix, MachineInfo machine, IReadOnlyDictionary<string, double> idleRssMiB,
    IReadOnlyList<Finding> findings)
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public string Markdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmark: last run");
        md.AppendLine();
        if (options.Label is { } label)
        {
            md.AppendLine(C, $"**{label}**");
            md.AppendLine();
        }
        md.AppendLine(C, $"`{options.Command}` — {machine.Started:yyyy-MM-dd HH:mm} UTC, commit `{machine.Commit}`, {machine.Cores} cores ({machine.CpuModel}),");
        md.AppendLine(C, $"Postgres fsync **{(options.Fsync ? "on" : "off")}**, {options.Duration} s per run, {options.Repeats} repeats (medians below), wrk; see `bench/README.md`.");
        md.AppendLine();
        md.AppendLine("## Targets of issue 13");
        md.AppendLine();
        md.AppendLine("| target | figure | goal | |");
        md.AppendLine("|---|---|---|---|");
        foreach (var (what, figure, goal, met) in Goals().Concat(findings.Where(f => f.Goal is not null).Select(f => (f.What, f.Figure, f.Goal!, f.Met))))
        {
            md.AppendLine(C, $"| {what} | {figure} | {goal} | {(met switch { true => "met", false => "**not met**", null => "—" })} |");
        }
        md.AppendLine();
        md.AppendLine("## Medians per target and shape");
        md.AppendLine();
        md.AppendLine("`json`/`stream`: the body's `stream`; `cN`: connections; `aN`: accounts the requests rotate over. Latency is to the whole response.");
        md.AppendLine("CPU is µs of CPU time per request (the target's own process; Postgres: the postmaster and all its children).");
        md.AppendLine();
        md.AppendLine("| shape | target | req/s | p50 | p99 | added p50 vs direct | ÷ floor | CPU µs/req | Postgres CPU µs/req | peak RSS MiB | non-2xx | records |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var shape in Shape.All)
        {
            foreach (var target in matrix.Runs.Select(r => r.Target).Distinct())
            {
                var runs = Runs(target, shape);
                if (runs.Count == 0)
                {
                    continue;
                }
                md.AppendLine(C, $"| {shape.Label} | {target} | {Median(runs, r => r.Wrk.RequestsPerSecond):0} | {Us(Median(runs, r => r.Wrk.P50Microseconds))} | {Us(Median(runs, r => r.Wrk.P99Microseconds))} | {Us(AddedP50(target, shape))} | {Ratio(target, shape):0.00} | {N(Median(runs, r => r.ServerCpuUs))} | {N(Median(runs, r => r.PostgresCpuUs))} | {N(runs.Max(r => r.PeakRssMiB))} | {runs.Sum(r => r.Wrk.Non2xx + r.Wrk.SocketErrors)} | {RecordsText(runs)} |");
            }
        }
        md.AppendLine();
        md.AppendLine("## Time to first event (streaming, 1 connection, sequential)");
        md.AppendLine();
        md.AppendLine("| target | p50 | p99 | added p50 vs direct | calls | incomplete |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var target in matrix.FirstEvents.Select(f => f.Target).Distinct())
        {
            var rows = matrix.FirstEvents.Where(f => f.Target == target).ToList();
            md.AppendLine(C, $"| {target} | {Us(MedianOf(rows.Select(r => r.P50Us)))} | {Us(MedianOf(rows.Select(r => r.P99Us)))} | {Us(FirstEventAdded(target))} | {rows.Sum(r => r.Calls)} | {rows.Sum(r => r.Incomplete)} |");
        }
        md.AppendLine();
        md.AppendLine("## Memory and other figures");
        md.AppendLine();
        foreach (var (name, rss) in idleRssMiB)
        {
            md.AppendLine(C, $"- idle RSS of {name} (after start and setup, before any load): {rss:0} MiB");
        }
        foreach (var f in findings.Where(f => f.Goal is null))
        {
            md.AppendLine(C, $"- {f.What}: {f.Figure}");
        }
        md.AppendLine();
        md.AppendLine("## Every run");
        md.AppendLine();
        md.AppendLine("| repeat | shape | target | requests | req/s | p50 | p99 | CPU µs/req | Postgres CPU µs/req | non-2xx | socket errors | records |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in matrix.Runs)
        {
            md.AppendLine(C, $"| {r.Repeat} | {r.Shape.Label} | {r.Target} | {r.Wrk.Requests} | {r.Wrk.RequestsPerSecond:0} | {Us(r.Wrk.P50Microseconds)} | {Us(r.Wrk.P99Microseconds)} | {N(r.ServerCpuUs)} | {N(r.PostgresCpuUs)} | {r.Wrk.Non2xx} | {r.Wrk.SocketErrors} | {RecordsText([r])} |");
        }
        return md.ToString();
    }

    public string Csv()
    {
        var csv = new StringBuilder();
        csv.AppendLine("kind,repeat,target,stream,connections,accounts,requests,req_per_s,p50_us,p99_us,non2xx,socket_errors,cpu_us_per_req,postgres_cpu_us_per_req,peak_rss_mib,records,records_good,records_hold");
        foreach (var r in matrix.Runs)
        {
            csv.AppendLine(C, $"wrk,{r.Repeat},{r.Target},{r.Shape.Stream},{r.Shape.Connections},{r.Shape.Accounts},{r.Wrk.Requests},{r.Wrk.RequestsPerSecond:0.##},{r.Wrk.P50Microseconds:0.#},{r.Wrk.P99Microseconds:0.#},{r.Wrk.Non2xx},{r.Wrk.SocketErrors},{r.ServerCpuUs:0.#},{r.PostgresCpuUs:0.#},{r.PeakRssMiB:0.#},{r.Records?.Count},{r.Records?.Good(r.Target == Target.Governed)},{r.RecordsHold}");
        }
        foreach (var f in matrix.FirstEvents)
        {
            csv.AppendLine(C, $"first-event,{f.Repeat},{f.Target},True,1,1,{f.Calls},,{f.P50Us:0.#},{f.P99Us:0.#},{f.Incomplete},,,,,,,");
        }
        return csv.ToString();
    }

    private IEnumerable<(string What, string Figure, string Goal, bool? Met)> Goals()
    {
        foreach (var (target, goal) in new[] { (Target.Governed, 0.5), (Target.BillingOff, 0.7) })
        {
            foreach (var shape in Shape.All.Where(s => s.Connections == 32))
            {
                var ratio = Ratio(target, shape);
                yield return ($"{target} ÷ floor, {shape.Label}", $"{ratio:0.00}×", $"≥ {goal}×", double.IsNaN(ratio) ? null : ratio >= goal);
            }
        }
        foreach (var target in new[] { Target.Governed, Target.BillingOff })
        {
            var added = AddedP50(target, new Shape(false, 1, 1));
            yield return ($"{target}: added p50 at 1 connection (json)", Us(added), "≤ 200 µs", double.IsNaN(added) ? null : added <= 200);
            var first = FirstEventAdded(target);
            yield return ($"{target}: added time to first event (stream)", Us(first), "≤ 200 µs", double.IsNaN(first) ? null : first <= 200);
        }
        var governed = matrix.Runs.Where(r => r.Target == Target.Governed && r.Shape.Connections == 32).ToList();
        if (governed.Count > 0)
        {
            var api = Shape.All.Where(s => s.Connections == 32).Max(s => Median(Runs(Target.Governed, s), r => r.ServerCpuUs));
            var pg = Shape.All.Where(s => s.Connections == 32).Max(s => Median(Runs(Target.Governed, s), r => r.PostgresCpuUs));
            yield return ("governed: Api CPU per request (worst shape at 32 connections)", $"{api:0} µs", "≤ 100 µs", api <= 100);
            yield return ("governed: Postgres CPU per request (worst shape at 32 connections)", $"{pg:0} µs", "≤ 100 µs", pg <= 100);
        }
        if (idleRssMiB.TryGetValue(Target.Governed, out var idle))
        {
            yield return ("governed: Api idle RSS", $"{idle:0} MiB", "≤ 150 MB", idle * 1.048576 <= 150);
        }
        var wrong = matrix.Runs.Where(r => r.RecordsHold == false).ToList();
        yield return ("one call record per request, charged as expected (every gateway run)", wrong.Count == 0 ? "every run" : $"{wrong.Count} runs wrong", "all", wrong.Count == 0);
    }

    private List<RunRow> Runs(string target, Shape shape) => [.. matrix.Runs.Where(r => r.Target == target && r.Shape == shape)];

    /// <summary>Target p50 − direct p50, per repeat, then the median (both measured in the same repeat).</summary>
    private double AddedP50(string target, Shape shape) => PerRepeat(target, shape, (t, d) => t.Wrk.P50Microseconds - d.Wrk.P50Microseconds, Target.Direct);

    /// <summary>Target req/s ÷ floor req/s, per repeat, then the median ("as ratios in one run").</summary>
    private double Ratio(string target, Shape shape) => PerRepeat(target, shape, (t, f) => t.Wrk.RequestsPerSecond / f.Wrk.RequestsPerSecond, Target.Floor);

    private double PerRepeat(string target, Shape shape, Func<RunRow, RunRow, double> compare, string baseline)
    {
        var baseShape = shape with { Accounts = 1 };
        return MedianOf(Runs(target, shape).Select(t => matrix.Runs.FirstOrDefault(b => b.Target == baseline && b.Shape == baseShape && b.Repeat == t.Repeat) is { } b
            ? compare(t, b) : double.NaN).Where(v => !double.IsNaN(v)));
    }

    private double FirstEventAdded(string target) => MedianOf(matrix.FirstEvents.Where(f => f.Target == target)
        .Select(f => matrix.FirstEvents.FirstOrDefault(d => d.Target == Target.Direct && d.Repeat == f.Repeat) is { } d ? f.P50Us - d.P50Us : double.NaN)
        .Where(v => !double.IsNaN(v)));

    private static double Median(IEnumerable<RunRow> runs, Func<RunRow, double> figure) => MedianOf(runs.Select(figure));

    private static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToList();
        return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string RecordsText(IReadOnlyCollection<RunRow> runs) =>
        runs.All(r => r.RecordsHold is null) ? "—" : $"{(runs.All(r => r.RecordsHold != false) ? "ok" : "**wrong**")}: {runs.Sum(r => r.Records?.Count ?? 0)} for {runs.Sum(r => r.Wrk.Requests)} answers";

    private static string N(double value) => double.IsNaN(value) ? "—" : value.ToString("0", C);

    public static string Us(double us) => double.IsNaN(us) ? "—" : Math.Abs(us) >= 10_000 ? $"{us / 1000:0.#} ms" : $"{us:0} µs";
}

/// <summary>The machine and the code a run measured.</summary>
internal sealed record MachineInfo(int Cores, string CpuModel, string Commit, DateTimeOffset Started)
{
    public static async Task<MachineInfo> ReadAsync(string repository)
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var commit = (await GitAsync(repository, "rev-parse", "--short", "HEAD")).Trim();
        var dirty = (await GitAsync(repository, "status", "--porcelain", "--untracked-files=no")).Trim().Length > 0;
        return new MachineInfo(Environment.ProcessorCount, model, commit + (dirty ? " (with uncommitted changes)" : ""), DateTimeOffset.UtcNow);
    }

    private static async Task<string> GitAsync(string repository, params string[] args)
    {
        using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", ["-C", repository, .. args])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var text = await git.StandardOutput.ReadToEndAsync();
        await git.WaitForExitAsync();
        return text;
    }
}
