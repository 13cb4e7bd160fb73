namespace AigneHub.Admin.Setup;

/// <summary>A provider's live health in one sentence, as the Overview and the Providers page show it.</summary>
public static class ProviderHealthText
{
    public static string Describe(ProviderHealthResponse p, int windowMinutes)
    {
        List<string> parts = [p.Summary];
        if (p.RecentRateLimited > 0 || p.RecentServerErrors > 0)
        {
            parts.Add($"{p.RecentRateLimited} × 429 and {p.RecentServerErrors} × 5xx of {p.RecentCalls} calls in the last {windowMinutes} min");
        }
        if (p.LastError is { Length: > 0 } error)
        {
            parts.Add($"last error: {error}");
        }
        return string.Join("; ", parts);
    }
}
