using System.Diagnostics;
using System.Globalization;
using AigneHub.Drills.Drills;
using AigneHub.Drills.Infrastructure;
using AigneHub.Drills.Tour;

// The reliability drills of issue 12 (docs/reliability.md). Run by drills/run.sh, which builds this and the
// services in Release:   ./drills/run.sh [drill…] [--outage-seconds N] [--burst N]
// Everything runs on 127.0.0.1; every process started is stopped by its PID at the end; the temporary data is deleted.
// ./drills/tour.sh runs the tour instead (Tour/TourRun.cs): one call of every kind, with its call record and charge.
if (args is ["tour", .. var tourArgs])
{
    return await TourRun.RunAsync(tourArgs);
}

var drills = new (string Name, Func<DrillContext, Task<DrillResult>> Run)[]
{
    ("burst", BurstDrill.RunAsync),
    ("api-kill", ApiKillDrill.RunAsync),
    ("worker-kill", WorkerKillDrill.RunAsync),
    ("redis-outage", RedisOutageDrill.RunAsync),
    ("postgres-outage", PostgresOutageDrill.RunAsync),
    ("replicas", ReplicasDrill.RunAsync),
    ("shutdown", ShutdownDrill.RunAsync),
};

var outageSeconds = 30;
var burstCalls = 1000;
var selected = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--outage-seconds" when i + 1 < args.Length:
            outageSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case "--burst" when i + 1 < args.Length:
            burstCalls = int.Parse(args[++i], CultureInfo.InvariantCulture);
            break;
        case var name when drills.Any(d => d.Name == name):
            selected.Add(name);
            break;
        default:
            Console.Error.WriteLine($"Unknown argument '{args[i]}'. Drills: {string.Join(", ", drills.Select(d => d.Name))}; options: --outage-seconds N, --burst N.");
            return 2;
    }
}
if (outageSeconds is < 1 or > 300 || burstCalls is < 1 or > 5000)
{
    Console.Error.WriteLine("--outage-seconds must be 1–300 and --burst 1–5000.");
    return 2;
}

using var folder = RunFolder.Create("aignehub-drills-");
var repository = folder.RepositoryRoot;
var temp = folder.TempRoot;

var started = DateTimeOffset.UtcNow;
var results = new List<DrillResult>();
try
{
    var postgres = await PostgresServer.StartAsync(temp, maxConnections: 100);
    var redis = await RedisServer.StartAsync(temp);
    var run = new RunContext
    {
        RepositoryRoot = repository, TempRoot = temp, Postgres = postgres, Redis = redis,
        OutageSeconds = outageSeconds, BurstCalls = burstCalls,
    };
    var number = 0;
    foreach (var (name, body) in drills.Where(d => selected.Count == 0 || selected.Contains(d.Name)))
    {
        number++;
        Console.WriteLine($"== {name}");
        var clock = Stopwatch.StartNew();
        var databaseName = $"drill_{name.Replace('-', '_')}";
        await using var fake = await FakeUpstream.StartAsync();
        var database = await postgres.CreateDatabaseAsync(databaseName);
        DrillResult result;
        var drill = new DrillContext(run, name, database, redis.ConnectionString(number % 16), fake);
        try
        {
            result = await body(drill);
        }
        catch (Exception ex)
        {
            drill.Check(false, $"the drill stopped: {ex.GetType().Name}: {ex.Message}");
            result = drill.Result([], null, clock.Elapsed);
        }
        finally
        {
            await drill.DisposeAsync();
        }
        results.Add(result with { Took = clock.Elapsed });
        Console.WriteLine($"   {(result.Passed ? "pass" : "FAIL")}: sent {result.Sent}, served {result.Served}, refused {result.Refused}, failed {result.Failed}, records {result.Records}, ledger difference {result.LedgerDifference?.ToString("0.##########", CultureInfo.InvariantCulture)} ({clock.Elapsed.TotalSeconds:0} s)");
        try
        {
            await postgres.DropDatabaseAsync(databaseName);
        }
        catch (Npgsql.NpgsqlException ex)
        {
            Console.WriteLine($"   (could not drop {databaseName}: {ex.Message})");
        }
    }
}
finally
{
    Processes.StopAll();
}

var command = "./drills/run.sh " + string.Join(' ', args);
var resultsFile = Path.Combine(repository, "drills", "results", "last-run.md");
Directory.CreateDirectory(Path.GetDirectoryName(resultsFile)!);
await File.WriteAllTextAsync(resultsFile, DrillResult.Markdown(results, started, command.TrimEnd()));
Console.WriteLine($"Wrote {Path.GetRelativePath(repository, resultsFile)}: {results.Count(r => r.Passed)} of {results.Count} drills passed.");
return results.All(r => r.Passed) ? 0 : 1;

