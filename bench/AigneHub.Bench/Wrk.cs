using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AigneHub.Bench;

/// <summary>What one wrk run measured: requests completed in the run, its rate, latency percentiles (time to the
/// whole response, streams included), answers that were not 2xx/3xx and socket errors.</summary>
internal sealed record WrkResult(long Requests, double RequestsPerSecond, double P50Microseconds, double P99Microseconds, long Non2xx, long SocketErrors);

/// <summary>Runs wrk (<c>--latency</c>) with a generated Lua script that POSTs one chat body with an access key
/// rotated per request over the given keys and a unique <c>x-request-id</c> per request (prefix, thread, counter), so
/// each request's call record can be found afterwards.</summary>
internal static partial class Wrk
{
    public static async Task<WrkResult> RunAsync(string tempRoot, string label, Uri baseUrl, string path, string body, IReadOnlyList<string> keys,
        string requestIdPrefix, int connections, int seconds)
    {
        var script = Path.Combine(tempRoot, $"{label}.lua");
        await File.WriteAllTextAsync(script, Lua(path, body, keys, requestIdPrefix));
        var log = Path.Combine(tempRoot, $"{label}.wrk.log");
        var threads = Math.Min(connections, Math.Max(1, Environment.ProcessorCount));
        var wrk = Processes.Start("wrk", ["-t", $"{threads}", "-c", $"{connections}", "-d", $"{seconds}s", "--latency", "--timeout", "30s", "-s", script, baseUrl.ToString()],
            null, log);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 60));
        await wrk.WaitForExitAsync(timeout.Token);
        var output = await File.ReadAllTextAsync(log);
        if (wrk.ExitCode != 0 || RequestsLine().Match(output) is not { Success: true } requests)
        {
            throw new InvalidOperationException($"wrk exited with {wrk.ExitCode}: {output}");
        }
        return new WrkResult(
            long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture),
            double.Parse(RateLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture),
            Percentile(output, "50%"), Percentile(output, "99%"),
            Non2xxLine().Match(output) is { Success: true } n ? long.Parse(n.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            SocketErrorsLine().Match(output) is { Success: true } e
                ? e.Groups.Values.Skip(1).Sum(g => long.Parse(g.Value, CultureInfo.InvariantCulture)) : 0);
    }

    private static string Lua(string path, string body, IReadOnlyList<string> keys, string prefix)
    {
        static string Quote(string s) => "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        var lua = new StringBuilder();
        lua.AppendLine(CultureInfo.InvariantCulture, $"local keys = {{ {string.Join(", ", keys.Select(Quote))} }}");
        lua.AppendLine(CultureInfo.InvariantCulture, $"local path = {Quote(path)}");
        lua.AppendLine(CultureInfo.InvariantCulture, $"local body = {Quote(body)}");
        lua.AppendLine(CultureInfo.InvariantCulture, $"local prefix = {Quote(prefix)}");
        lua.AppendLine("""
            local threads = 0
            function setup(thread)
              threads = threads + 1
              thread:set("tid", threads)
            end
            local counter = 0
            function request()
              counter = counter + 1
              local key = keys[(counter + tid) % #keys + 1]
              return wrk.format("POST", path, {
                ["Content-Type"] = "application/json",
                ["Authorization"] = "Bearer " .. key,
                ["x-request-id"] = prefix .. tid .. "-" .. counter,
              }, body)
            end
            """);
        return lua.ToString();
    }

    private static double Percentile(string output, string which)
    {
        var m = Regex.Match(output, $@"^\s*{Regex.Escape(which)}\s+([\d.]+)(us|ms|s|m)\s*$", RegexOptions.Multiline);
        if (!m.Success)
        {
            return double.NaN;
        }
        var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch
        {
            "us" => value,
            "ms" => value * 1_000,
            "s" => value * 1_000_000,
            _ => value * 60_000_000,
        };
    }

    [GeneratedRegex(@"^\s*(\d+) requests in", RegexOptions.Multiline)]
    private static partial Regex RequestsLine();

    [GeneratedRegex(@"^Requests/sec:\s+([\d.]+)", RegexOptions.Multiline)]
    private static partial Regex RateLine();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex Non2xxLine();

    [GeneratedRegex(@"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")]
    private static partial Regex SocketErrorsLine();
}
