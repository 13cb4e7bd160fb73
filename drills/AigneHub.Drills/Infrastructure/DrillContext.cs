using System.Globalization;
using System.Text;

namespace AigneHub.Drills.Infrastructure;

/// <summary>What the whole run shares: the repository, a temporary folder (deleted at the end), the two servers, options.</summary>
internal sealed class RunContext
{
    public required string RepositoryRoot { get; init; }

    public required string TempRoot { get; init; }

    public required PostgresServer Postgres { get; init; }

    public required RedisServer Redis { get; init; }

    public required int OutageSeconds { get; init; }

    public required int BurstCalls { get; init; }
}

/// <summary>One drill's world: its own database and Redis database, the fake provider, the services it started (all
/// stopped when it ends), the checks it made and the figures it measured.</summary>
internal sealed class DrillContext(RunContext run, string name, string database, string redis, FakeUpstream fake) : IServiceSite, IAsyncDisposable
{
    private readonly List<Service> _services = [];
    private readonly List<string> _failures = [];
    private readonly List<string> _figures = [];

    public RunContext Run { get; } = run;

    public string RepositoryRoot => Run.RepositoryRoot;

    public string TempRoot => Run.TempRoot;

    public string Name { get; } = name;

    public string Database { get; } = database;

    public string Redis { get; } = redis;

    public FakeUpstream Fake { get; } = fake;

    public IReadOnlyList<string> Failures => _failures;

    public IReadOnlyList<string> Figures => _figures;

    public async Task<Service> StartApiAsync(string name = "api", IReadOnlyDictionary<string, string>? settings = null)
    {
        var api = Service.Api(this, name, settings);
        _services.Add(api);
        await api.StartAsync();
        return api;
    }

    public async Task<Service> StartWorkerAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var worker = Service.Worker(this, "worker", settings);
        _services.Add(worker);
        await worker.StartAsync();
        return worker;
    }

    /// <summary>Records a check; a false one fails the drill (the run goes on, so every finding is reported).</summary>
    public void Check(bool holds, string what)
    {
        if (!holds)
        {
            _failures.Add(what);
            Console.WriteLine($"    FAILED: {what}");
        }
    }

    public void Figure(string text)
    {
        _figures.Add(text);
        Console.WriteLine($"    {text}");
    }

    /// <summary>The checks every drill makes on money and records, from the outcomes its callers saw.</summary>
    public void CheckMoney(MoneyState money, IReadOnlyCollection<CallOutcome> outcomes)
    {
        var byRequest = money.Calls.Values.Where(c => c.RequestId is not null).ToLookup(c => c.RequestId!);
        var sent = outcomes.Select(o => o.RequestId).ToHashSet();
        Check(money.DuplicateRequestIds == 0, $"{money.DuplicateRequestIds} requests have more than one record");
        Check(money.Calls.Values.All(c => c.RequestId is not null && sent.Contains(c.RequestId)), "every record belongs to a request the drill sent");
        var missing = outcomes.Count(o => o.CallId is { } id && !money.Calls.ContainsKey(id));
        Check(missing == 0, $"{missing} calls with a call id have no record");
        var servedWrong = outcomes.Where(o => o.Served).Count(o => byRequest[o.RequestId].FirstOrDefault() is not { Status: "success" } c || c.Credits != Hub.ServedCallCharge);
        Check(servedWrong == 0, $"{servedWrong} served calls are not one success record charged {Hub.ServedCallCharge}");
        var refusedCharged = outcomes.Where(o => o.Refused).Count(o => byRequest[o.RequestId].Any(c => c.Credits != 0));
        Check(refusedCharged == 0, $"{refusedCharged} refused calls were charged");
        Check(money.Processing == 0, $"{money.Processing} calls left processing");
        Check(money.Reserved == 0, $"{money.Reserved} credits left reserved");
        Check(money.LedgerDifference == 0, $"ledger debits − charges = {money.LedgerDifference}");
        var noException = outcomes.Count(o => o.ExceptionText);
        Check(noException == 0, $"{noException} bodies carry exception text");
        var five = outcomes.Count(o => o.Status is 500);
        Check(five == 0, $"{five} answers were 500");
    }

    public DrillResult Result(IReadOnlyCollection<CallOutcome> outcomes, MoneyState? money, TimeSpan took) => new(
        Name, outcomes.Count, outcomes.Count(o => o.Served), outcomes.Count(o => o.Refused), outcomes.Count(o => o.Failed),
        money?.Records, money?.LedgerDifference, _failures.Count == 0, took, [.. _figures], [.. _failures]);

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _services)
        {
            if (!Processes.HasExited(service.Process))
            {
                await service.KillAsync();
            }
        }
    }
}

internal sealed record DrillResult(string Drill, int Sent, int Served, int Refused, int Failed, long? Records, decimal? LedgerDifference,
    bool Passed, TimeSpan Took, IReadOnlyList<string> Figures, IReadOnlyList<string> Failures)
{
    public static string Markdown(IReadOnlyList<DrillResult> results, DateTimeOffset started, string command)
    {
        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"# Drills: last run");
        md.AppendLine();
        md.AppendLine(CultureInfo.InvariantCulture, $"`{command}` — started {started:yyyy-MM-dd HH:mm} UTC, written by `drills/run.sh` (see `docs/reliability.md`).");
        md.AppendLine();
        md.AppendLine("| drill | result | sent | served | refused (Retry-After) | failed | records | ledger difference | took |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {r.Drill} | {(r.Passed ? "pass" : "**FAIL**")} | {r.Sent} | {r.Served} | {r.Refused} | {r.Failed} | {r.Records?.ToString(CultureInfo.InvariantCulture) ?? "—"} | {r.LedgerDifference?.ToString("0.##########", CultureInfo.InvariantCulture) ?? "—"} | {r.Took.TotalSeconds:0} s |");
        }
        foreach (var r in results)
        {
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"## {r.Drill}");
            md.AppendLine();
            foreach (var f in r.Figures)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- {f}");
            }
            foreach (var f in r.Failures)
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"- **failed:** {f}");
            }
        }
        return md.ToString();
    }
}
