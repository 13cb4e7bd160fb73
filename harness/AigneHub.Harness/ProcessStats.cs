using System.Diagnostics;
using System.Globalization;

namespace AigneHub.Harness;

/// <summary>What the benchmark reads from <c>/proc</c>: CPU time (utime + stime, in clock ticks) of one process or of
/// a process and its children (the postmaster and its backends; a child that exited is in the parent's cutime +
/// cstime once reaped), resident memory now (VmRSS) and at its peak (VmHWM).</summary>
public static class ProcessStats
{
    /// <summary>Clock ticks per second (<c>getconf CLK_TCK</c>; 100 on every Linux we know).</summary>
    public static readonly int TicksPerSecond = ReadTicksPerSecond();

    public static long CpuTicks(int pid) => Stat(pid) is { } f ? f.UTime + f.STime : 0;

    public static long TreeCpuTicks(int pid)
    {
        var total = Stat(pid) is { } root ? root.UTime + root.STime + root.CUTime + root.CSTime : 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var child) && child != pid && Stat(child) is { } f && f.Parent == pid)
            {
                total += f.UTime + f.STime;
            }
        }
        return total;
    }

    public static double MicrosecondsPer(long ticks, long requests) =>
        requests == 0 ? double.NaN : ticks * 1_000_000.0 / TicksPerSecond / requests;

    public static double ResidentMiB(int pid) => StatusKiB(pid, "VmRSS:") / 1024.0;

    public static double PeakResidentMiB(int pid) => StatusKiB(pid, "VmHWM:") / 1024.0;

    private sealed record Fields(int Parent, long UTime, long STime, long CUTime, long CSTime);

    private static Fields? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: the fields after it start at field 3.
            var f = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            long L(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture);
            return new Fields((int)L(4), L(14), L(15), L(16), L(17));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // gone meanwhile
        }
    }

    private static long StatusKiB(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static int ReadTicksPerSecond()
    {
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", ["CLK_TCK"]) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = getconf.StandardOutput.ReadToEnd().Trim();
            getconf.WaitForExit();
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}
