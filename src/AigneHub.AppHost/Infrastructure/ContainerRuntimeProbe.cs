using System.Diagnostics;

namespace AigneHub.AppHost.Infrastructure;

/// <summary>
/// Does a container runtime answer? A Docker CLI without an engine is common (CI machines, dev containers), and
/// Aspire would then wait for containers forever, so ask the engine itself, briefly.
/// </summary>
internal static class ContainerRuntimeProbe
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static bool Answers()
    {
        var runtime = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME");
        string[] candidates = string.IsNullOrWhiteSpace(runtime) ? ["docker", "podman"] : [runtime];
        return candidates.Any(Answers);
    }

    private static bool Answers(string runtime)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
