using System.Diagnostics;

namespace AigneHub.Harness;

/// <summary>
/// Every process a drill starts. Each is stopped by its PID when the run ends, also when a drill fails; the PIDs
/// are written to a file too, so that <c>drills/run.sh</c> can stop what is left if the runner itself dies.
/// A process's output goes to a log file in the run's temporary folder (read when a drill fails).
/// </summary>
public static class Processes
{
    private static readonly Lock Gate = new();
    private static readonly List<Process> Started = [];
    private static string? _pidFile;

    public static void Initialize(string pidFile) => _pidFile = pidFile;

    public static Process Start(string command, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment, string logFile,
        string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(command, args)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[key] = value;
        }
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {command}");
        lock (Gate)
        {
            Started.Add(process);
            if (_pidFile is not null)
            {
                File.AppendAllText(_pidFile, $"{process.Id}\n");
            }
        }
        var open = 2;
        void Write(string? line)
        {
            lock (log)
            {
                if (line is not null)
                {
                    log.WriteLine(line);
                }
                else if (--open == 0)
                {
                    log.Dispose();
                }
            }
        }
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Sends a signal (TERM, INT, KILL) to one process by its PID.</summary>
    public static void Signal(Process process, string signal)
    {
        if (HasExited(process))
        {
            return;
        }
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            UseShellExecute = false,
            RedirectStandardError = true,
        });
        kill?.WaitForExit(5000);
    }

    public static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>Stops every process still running: SIGINT (Postgres' fast shutdown; the others exit on it), then
    /// SIGKILL for any still there after 10 s.</summary>
    public static void StopAll()
    {
        List<Process> alive;
        lock (Gate)
        {
            alive = [.. Started.Where(p => !HasExited(p))];
        }
        foreach (var p in alive)
        {
            Signal(p, "INT");
        }
        foreach (var p in alive)
        {
            if (!p.WaitForExit(10_000))
            {
                try
                {
                    p.Kill();
                    p.WaitForExit(5_000);
                }
                catch (InvalidOperationException)
                {
                    // gone meanwhile
                }
            }
        }
    }
}
