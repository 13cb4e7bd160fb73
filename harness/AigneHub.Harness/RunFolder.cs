using AigneHub.AppHost.Infrastructure;

namespace AigneHub.Harness;

/// <summary>The start of a run of the drills or the benchmark: the repository it runs from, a temporary folder for
/// the servers' data and the logs (deleted by <see cref="Dispose"/>), and every process it starts stopped by its PID
/// when it ends — also on Ctrl+C; the PIDs go to the file the run script names in <c>AIGNEHUB_HARNESS_PIDFILE</c>,
/// so that script stops what is left if the runner itself dies.</summary>
public sealed class RunFolder : IDisposable
{
    private RunFolder(string repositoryRoot, string tempRoot)
    {
        RepositoryRoot = repositoryRoot;
        TempRoot = tempRoot;
    }

    public string RepositoryRoot { get; }

    public string TempRoot { get; }

    public static RunFolder Create(string prefix)
    {
        var repository = Environment.GetEnvironmentVariable("AIGNEHUB_REPOSITORY") ?? FindRepository(AppContext.BaseDirectory);
        var temp = Directory.CreateTempSubdirectory(prefix).FullName;
        // rwx--x--x: as root, Postgres runs as the postgres user, which must traverse the folder to its data.
        DataRoot.SetUnixMode(temp, (UnixFileMode)0b111_001_001);
        Processes.Initialize(Environment.GetEnvironmentVariable("AIGNEHUB_HARNESS_PIDFILE") ?? Path.Combine(temp, "pids"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Processes.StopAll();
        Console.CancelKeyPress += (_, _) => Processes.StopAll();
        return new RunFolder(repository, temp);
    }

    /// <summary>Stops every process still running, then deletes the temporary folder.</summary>
    public void Dispose()
    {
        Processes.StopAll();
        Directory.Delete(TempRoot, recursive: true);
    }

    private static string FindRepository(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "AigneHub.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("AigneHub.sln not found above " + from);
    }
}
