using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AigneHub.AppHost.Infrastructure;

/// <summary>
/// How to run a PostgreSQL server from the OS packages: where the binaries are, how to initialise a data folder,
/// the command line. Used by the AppHost's local mode and by the test fixtures, so both run Postgres the same way.
/// </summary>
internal static class PostgresProcess
{
    public const string UserName = "postgres";

    /// <summary>Postgres refuses to run as root; as root we drop to the postgres OS user. setpriv execs, so whoever
    /// started it (DCP, a test) still holds the real server process.</summary>
    public static string Command(string postgresPath, bool asRoot) => asRoot ? "setpriv" : postgresPath;

    public static List<object> ServerArguments(string postgresPath, string dataDirectory, object port, bool fsync, bool asRoot)
    {
        List<object> args = asRoot ? [.. DropToPostgresUser, postgresPath] : [];
        args.AddRange(["-D", dataDirectory, "-p", port,
            "-c", "listen_addresses=localhost",
            // No Unix socket: no clash with a system cluster's /var/run/postgresql.
            "-c", "unix_socket_directories=",
            "-c", $"fsync={(fsync ? "on" : "off")}",
            // Every Api and Worker keeps one pool (40 and 10 connections by default); the default 100 is tight for a
            // dev box running several, and for the test run, which starts many Api hosts on one server.
            "-c", "max_connections=500"]);
        return args;
    }

    private static readonly string[] DropToPostgresUser = ["--reuid=postgres", "--regid=postgres", "--init-groups", "--"];

    /// <summary>initdb once per data folder (SCRAM auth, the given superuser password); a no-op when it exists.</summary>
    public static async Task InitializeDataDirectoryAsync(string binDirectory, string dataDirectory, string password, bool asRoot,
        ILogger? logger, CancellationToken ct)
    {
        if (File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            return;
        }

        Directory.CreateDirectory(dataDirectory);
        DataRoot.SetUnixMode(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var passwordFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dataDirectory))!, $".initdb-password-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(passwordFile, password, ct);
        try
        {
            if (asRoot)
            {
                await RunAsync("chown", ["-R", "postgres:postgres", dataDirectory], ct);
                await RunAsync("chown", ["postgres:postgres", passwordFile], ct);
            }
            string[] initdb = [Path.Combine(binDirectory, "initdb"), "-D", dataDirectory, "-U", UserName,
                $"--pwfile={passwordFile}", "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"];
            logger?.LogInformation("Initialising a new PostgreSQL data folder at {DataDirectory}", dataDirectory);
            await (asRoot
                ? RunAsync("setpriv", [.. DropToPostgresUser, .. initdb], ct)
                : RunAsync(initdb[0], initdb[1..], ct));
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>The server binaries (Debian keeps them off PATH, under /usr/lib/postgresql/N/bin).</summary>
    public static string FindBinDirectory(string? configured)
    {
        IEnumerable<string> candidates = configured is { Length: > 0 } ? [configured] : Candidates();
        foreach (var dir in candidates)
        {
            if (File.Exists(Path.Combine(dir, "postgres")) && File.Exists(Path.Combine(dir, "initdb")))
            {
                return dir;
            }
        }
        throw new DistributedApplicationException(
            "No container runtime answered and the PostgreSQL server binaries (postgres, initdb) were not found. Either start " +
            "Docker/Podman, or install the servers (Debian/Ubuntu: sudo apt-get install -y postgresql redis-server; ./run.sh does " +
            "this for you), or point --postgres-bin at the folder that holds them.");
    }

    private static IEnumerable<string> Candidates()
    {
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            foreach (var dir in Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .OrderByDescending(d => d.Version))
            {
                yield return Path.Combine(dir.Dir, "bin");
            }
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            yield return dir;
        }
    }

    private static async Task RunAsync(string command, string[] args, CancellationToken ct)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new DistributedApplicationException($"Could not start '{command}'.");
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0)
        {
            throw new DistributedApplicationException(
                $"'{command} {string.Join(' ', args)}' failed with exit code {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
