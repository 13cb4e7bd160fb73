using System.Globalization;

namespace AigneHub.Bench;

/// <summary><c>./bench/run.sh [--repeats N] [--duration S] [--fsync on|off] [--ttft MS] [--slow-streams N]
/// [--soak MINUTES] [--soak-connections N] [--analytics ROWS] [--label TEXT]</c>. The last three are extra scenarios, off unless asked for.</summary>
internal sealed record BenchOptions(int Repeats, int Duration, bool Fsync, int TimeToFirstTokenMs, int SlowStreams, int SoakMinutes, long AnalyticsRows,
    string? Label = null, int SoakConnections = 4)
{
    public const string Usage = "Options: --repeats N (2), --duration S (10), --fsync on|off (on), --ttft MS (0), --slow-streams N (off), --soak MINUTES (off), --soak-connections N (4; 32 saturates the Api, for a profile), --analytics ROWS (off), --label TEXT (a line on top of the results, e.g. \"noisy smoke run\").";

    public static BenchOptions? Parse(string[] args, out string? error)
    {
        var o = new BenchOptions(2, 10, true, 0, 0, 0, 0);
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            long Number(long min, long max) =>
                long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                    ? n
                    : throw new FormatException($"{args[i]} takes a whole number from {min} to {max}.");
            try
            {
                o = args[i] switch
                {
                    "--repeats" => o with { Repeats = (int)Number(1, 20) },
                    "--duration" => o with { Duration = (int)Number(1, 600) },
                    "--fsync" when value is "on" or "off" => o with { Fsync = value == "on" },
                    "--ttft" => o with { TimeToFirstTokenMs = (int)Number(0, 10_000) },
                    "--slow-streams" => o with { SlowStreams = (int)Number(1, 5_000) },
                    "--soak" => o with { SoakMinutes = (int)Number(1, 24 * 60) },
                    "--soak-connections" => o with { SoakConnections = (int)Number(1, 1_024) },
                    "--analytics" => o with { AnalyticsRows = Number(1_000, 100_000_000) },
                    "--label" when value is not null => o with { Label = value },
                    _ => throw new FormatException($"Unknown argument '{args[i]}'."),
                };
                i++;
            }
            catch (FormatException ex)
            {
                error = ex.Message + " " + Usage;
                return null;
            }
        }
        return o;
    }

    public string Command => "./bench/run.sh"
        + $" --repeats {Repeats} --duration {Duration} --fsync {(Fsync ? "on" : "off")}"
        + (TimeToFirstTokenMs > 0 ? $" --ttft {TimeToFirstTokenMs}" : "")
        + (SlowStreams > 0 ? $" --slow-streams {SlowStreams}" : "")
        + (SoakMinutes > 0 ? $" --soak {SoakMinutes}" : "")
        + (SoakMinutes > 0 && SoakConnections != 4 ? $" --soak-connections {SoakConnections}" : "")
        + (AnalyticsRows > 0 ? $" --analytics {AnalyticsRows}" : "")
        + (Label is null ? "" : $" --label '{Label}'");
}
