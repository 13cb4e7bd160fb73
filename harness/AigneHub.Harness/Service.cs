using System.Diagnostics;

namespace AigneHub.Harness;

/// <summary>Where a service runs: the repository (its Release builds), the run's temporary folder (its log), its
/// database and Redis, and a name (its cache channel and log file).</summary>
public interface IServiceSite
{
    string RepositoryRoot { get; }

    string TempRoot { get; }

    string Database { get; }

    string Redis { get; }

    string Name { get; }
}

/// <summary>
/// The Api or the Worker as a real process (<c>dotnet &lt;Release dll&gt;</c>, configured by environment, as a
/// container or the AppHost would run it), on a loopback port. It can be killed (SIGKILL), asked to stop (SIGTERM)
/// and started again with the same configuration.
/// </summary>
public sealed class Service
{
    private readonly string _dll;
    private readonly Dictionary<string, string> _environment;
    private readonly string _logFile;
    private Process? _process;

    private Service(string name, string dll, Dictionary<string, string> environment, string logFile)
    {
        Name = name;
        _dll = dll;
        _environment = environment;
        _logFile = logFile;
        BaseUrl = new Uri($"http://127.0.0.1:{Port}");
        _environment["ASPNETCORE_URLS"] = BaseUrl.ToString().TrimEnd('/');
    }

    public string Name { get; }

    public int Port { get; } = PostgresServer.FreePort();

    public Uri BaseUrl { get; }

    public Process Process => _process ?? throw new InvalidOperationException($"{Name} not started");

    public static Service Api(IServiceSite drill, string name, IReadOnlyDictionary<string, string>? settings = null) =>
        Create(drill, name, "AigneHub.Api", new Dictionary<string, string>
        {
            ["AigneHub__Bootstrap__OwnerKey"] = Hub.OwnerKey,
            ["AigneHub__Secrets__MasterKey"] = Hub.MasterKey,
            ["AigneHub__Billing__Enabled"] = "true",
            ["AigneHub__Billing__WelcomeCredits"] = "0",
            // Leases renewed every 5 s, so the Worker (StaleCallMinutes 1) closes a dead Api's calls within about a minute.
            ["AigneHub__Billing__CallLeaseSeconds"] = "5",
            // Every drill client talks from 127.0.0.1: per-address limits would count them all as one client.
            ["AigneHub__ClientLimits__SignInPerMinute"] = "1000000",
            ["AigneHub__ClientLimits__ReadsPerMinute"] = "1000000",
            ["AigneHub__ClientLimits__UnknownCredentialsPerMinute"] = "1000000",
        }, settings);

    public static Service Worker(IServiceSite drill, string name, IReadOnlyDictionary<string, string>? settings = null) =>
        Create(drill, name, "AigneHub.Worker", new Dictionary<string, string>
        {
            ["AigneHub__Billing__StaleCallMinutes"] = "1",
            ["AigneHub__Worker__CleanupIntervalSeconds"] = "5",
            ["AigneHub__Worker__MeterIntervalSeconds"] = "1",
            ["AigneHub__Worker__RollupIntervalSeconds"] = "2",
        }, settings);

    private static Service Create(IServiceSite drill, string name, string project, Dictionary<string, string> defaults,
        IReadOnlyDictionary<string, string>? settings)
    {
        var dll = Path.Combine(drill.RepositoryRoot, "src", project, "bin", "Release", "net10.0", project + ".dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"{dll} is missing: drills/run.sh builds it in Release first.");
        }
        var environment = new Dictionary<string, string>(defaults)
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_gcServer"] = "0",
            ["ConnectionStrings__aignehub"] = drill.Database,
            ["ConnectionStrings__redis"] = drill.Redis,
            ["AigneHub__Cache__ChannelPrefix"] = "aignehub-harness:" + drill.Name,
            ["Logging__LogLevel__Default"] = "Warning",
            ["Logging__Console__FormatterName"] = "simple",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }
        return new Service(name, dll, environment, Path.Combine(drill.TempRoot, $"{drill.Name}-{name}.log"));
    }

    public async Task StartAsync(TimeSpan? healthyWithin = null)
    {
        _process = Processes.Start("dotnet", [_dll], _environment, _logFile, Path.GetDirectoryName(_dll));
        using var client = new HttpClient { BaseAddress = BaseUrl, Timeout = TimeSpan.FromSeconds(5) };
        await Wait.UntilAsync(healthyWithin ?? TimeSpan.FromSeconds(90), async () =>
        {
            if (Processes.HasExited(Process))
            {
                throw new InvalidOperationException($"{Name} exited with code {Process.ExitCode}; see {_logFile}");
            }
            using var health = await client.GetAsync("/health");
            return health.IsSuccessStatusCode;
        }, $"{Name} to report healthy");
    }

    /// <summary>SIGKILL: no shutdown code runs, as when the machine or the OOM killer takes the process.</summary>
    public async Task KillAsync()
    {
        Processes.Signal(Process, "KILL");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Process.WaitForExitAsync(timeout.Token);
    }

    /// <summary>SIGTERM, as an orchestrator stops a replica; returns when the process has exited (or after <paramref name="within"/>).</summary>
    public async Task<int?> TerminateAsync(TimeSpan within)
    {
        Processes.Signal(Process, "TERM");
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await Process.WaitForExitAsync(timeout.Token);
            return Process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>Resident memory in MiB, from /proc (0 once the process is gone).</summary>
    public double ResidentMiB() => ProcessStats.ResidentMiB(Process.Id);

    /// <summary>Lines of this process's log that match <paramref name="text"/> (for findings such as "too many clients").</summary>
    public int LogLinesContaining(string text)
    {
        if (!File.Exists(_logFile))
        {
            return 0;
        }
        using var reader = new StreamReader(new FileStream(_logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var count = 0;
        while (reader.ReadLine() is { } line)
        {
            count += line.Contains(text, StringComparison.Ordinal) ? 1 : 0;
        }
        return count;
    }
}
