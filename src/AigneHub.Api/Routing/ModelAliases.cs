using System.Text;
using System.Text.RegularExpressions;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Routing;

/// <summary>An enabled alias as the hot path sees it: its name (exact or a pattern) and its <c>provider/model</c> targets.</summary>
public sealed record AliasEntry(Guid Id, string Name, IReadOnlyList<string> Targets)
{
    public bool IsPattern => ModelAliases.IsPattern(Name);

    /// <summary>The targets for <paramref name="requested"/>: each <c>*</c> in a target replaced by the requested name.</summary>
    public IEnumerable<string> TargetsFor(string requested) => Targets.Select(t => t.Replace("*", requested, StringComparison.Ordinal));
}

/// <summary>An exact alias for the public model lists, with the first target whose provider is enabled.</summary>
public sealed record ListedAlias(string Name, string Provider, string Model);

/// <summary>
/// The enabled aliases of a <see cref="ProviderSnapshot"/>: exact names by dictionary, patterns compiled once and
/// tried most specific first (the longest pattern; ties in ordinal order). The syntax, checked by the admin API with
/// <see cref="Validate"/>: an exact name has no <c>*</c>; a pattern is a prefix followed by one trailing <c>*</c>,
/// where the prefix may hold character classes such as <c>[0-9]</c> or <c>[a-z0-9]</c>.
/// </summary>
public sealed class ModelAliases
{
    public const int MaxNameLength = 200;

    public const int MaxTargets = 10;

    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(50);

    private readonly Dictionary<string, AliasEntry> _exact;
    private readonly List<(Regex Pattern, AliasEntry Alias)> _patterns;

    public ModelAliases(IEnumerable<AliasEntry> aliases)
    {
        var all = aliases.ToList();
        _exact = all.Where(a => !a.IsPattern).ToDictionary(a => a.Name, StringComparer.Ordinal);
        _patterns = [.. all.Where(a => a.IsPattern && Validate(a.Name) is null)
            .OrderByDescending(a => a.Name.Length).ThenBy(a => a.Name, StringComparer.Ordinal)
            .Select(a => (Compile(a.Name), a))];
        Exact = [.. _exact.Values.OrderBy(a => a.Name, StringComparer.Ordinal)];
    }

    public static ModelAliases Empty { get; } = new([]);

    /// <summary>The exact aliases, by name.</summary>
    public IReadOnlyList<AliasEntry> Exact { get; }

    public AliasEntry? FindExact(string name) => _exact.GetValueOrDefault(name);

    public AliasEntry? FindPattern(string name)
    {
        foreach (var (pattern, alias) in _patterns)
        {
            try
            {
                if (pattern.IsMatch(name))
                {
                    return alias;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // Cannot happen for these anchored prefix patterns; a pattern that somehow stalls just does not match.
            }
        }
        return null;
    }

    public static bool IsPattern(string name) => name.Contains('*', StringComparison.Ordinal);

    /// <summary>Null when <paramref name="name"/> is a valid alias name, else what is wrong with it.</summary>
    public static string? Validate(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return $"must be 1 to {MaxNameLength} characters";
        }
        if (name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return "must not contain spaces or control characters";
        }
        if (!IsPattern(name))
        {
            return null;
        }
        if (name.IndexOf('*', StringComparison.Ordinal) != name.Length - 1 || name.Length == 1)
        {
            return "may hold one '*', at the end, after a prefix (e.g. claude-*)";
        }
        return ClassesError(name[..^1]);
    }

    /// <summary>Null when <paramref name="target"/> is <c>provider/model</c> with a known provider, else what is wrong.</summary>
    public static string? ValidateTarget(string target)
    {
        var slash = target.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == target.Length - 1)
        {
            return "must be provider/model (the model may be '*', the requested name)";
        }
        if (ProviderKinds.Find(target[..slash]) is null)
        {
            return $"names no known provider ('{target[..slash]}')";
        }
        if (target.Length > MaxNameLength || target.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return $"must be at most {MaxNameLength} characters without spaces";
        }
        return null;
    }

    private static string? ClassesError(string prefix)
    {
        for (var i = 0; i < prefix.Length; i++)
        {
            if (prefix[i] == ']')
            {
                return "has a ']' without its '['";
            }
            if (prefix[i] != '[')
            {
                continue;
            }
            var end = prefix.IndexOf(']', i + 1);
            if (end < 0 || end == i + 1)
            {
                return "has a '[' without a class and its ']' (e.g. o[0-9]*)";
            }
            var body = prefix[(i + 1)..end];
            for (var j = 0; j < body.Length; j++)
            {
                if (!char.IsAsciiLetterOrDigit(body[j]))
                {
                    return "character classes may hold letters, digits and ranges only (e.g. [0-9])";
                }
                if (j + 2 < body.Length && body[j + 1] == '-')
                {
                    if (!char.IsAsciiLetterOrDigit(body[j + 2]) || body[j + 2] < body[j])
                    {
                        return $"has a bad range '{body[j]}-{body[j + 2]}'";
                    }
                    j += 2;
                }
                else if (j + 1 < body.Length && body[j + 1] == '-')
                {
                    return "has a range without its end";
                }
            }
            i = end;
        }
        return null;
    }

    /// <summary>A validated pattern as an anchored regex: literals escaped, classes kept, the trailing <c>*</c> as <c>.*</c>.</summary>
    private static Regex Compile(string pattern)
    {
        var regex = new StringBuilder("^");
        var prefix = pattern[..^1];
        for (var i = 0; i < prefix.Length; i++)
        {
            if (prefix[i] == '[')
            {
                var end = prefix.IndexOf(']', i + 1);
                regex.Append(prefix, i, end - i + 1);
                i = end;
            }
            else
            {
                regex.Append(Regex.Escape(prefix[i].ToString()));
            }
        }
        regex.Append(".*$");
        return new Regex(regex.ToString(), RegexOptions.CultureInvariant | RegexOptions.Singleline, MatchTimeout);
    }
}
