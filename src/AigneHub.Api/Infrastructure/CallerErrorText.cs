using System.Text.RegularExpressions;

namespace AigneHub.Api.Infrastructure;

/// <summary>
/// Provider error text as members may see it. Provider messages and transport errors can name internal hosts
/// (a self-hosted model at <c>10.0.3.7:11434</c>, <c>ollama.corp.internal</c>), URLs or stack text; the full text
/// stays in the logs, the traces and the admins' call log. Kept: the first line, with every URL, IP address,
/// <c>host:port</c> and internal-looking host name replaced, at most <see cref="MaxLength"/> characters.
/// </summary>
public static partial class CallerErrorText
{
    public const int MaxLength = 500;

    public static string Sanitize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "";
        }
        var line = text.AsSpan().Trim();
        var end = line.IndexOfAny('\r', '\n');
        var first = (end < 0 ? line : line[..end]).ToString();
        first = Url().Replace(first, "[url]");
        first = HostAndPort().Replace(first, "[host]");
        first = IpAddress().Replace(first, "[host]");
        first = InternalHost().Replace(first, "[host]");
        return first.Length > MaxLength ? first[..MaxLength] + "…" : first;
    }

    [GeneratedRegex(@"\b[a-z][a-z0-9+.\-]*://\S+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Url();

    /// <summary>name:port, a.b.c:port, [v6]:port, 1.2.3.4:port (a name with a letter or a dot, so "10:30" stays).</summary>
    [GeneratedRegex(@"(\[[0-9a-f:.]+\]|\b(?=[a-z0-9.\-]*[a-z.])[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)*):\d{1,5}\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostAndPort();

    /// <summary>IPv4, and IPv6 with at least two colon groups (so "10:30" stays).</summary>
    [GeneratedRegex(@"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b(?:[0-9a-f]{1,4}:){2,7}[0-9a-f]{0,4}\b|::1\b|::ffff:[0-9.]+",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex IpAddress();

    /// <summary>Dotted names under suffixes that are internal by convention (and localhost).</summary>
    [GeneratedRegex(@"\b(?:[a-z0-9\-]+\.)+(?:internal|local|localdomain|lan|corp|intranet|home|svc|cluster|private)\b|\blocalhost\b",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex InternalHost();
}
