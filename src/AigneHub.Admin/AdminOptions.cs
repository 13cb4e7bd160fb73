namespace AigneHub.Admin;

/// <summary>Settings of the dashboard itself (<c>AigneHub:*</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "AigneHub";

    /// <summary>
    /// The Aspire dashboard's base URL (e.g. <c>http://localhost:18888</c>); when set, each call in the call log
    /// links to its trace there. Unset: no link.
    /// </summary>
    public string? DashboardUrl { get; set; }

    /// <summary>
    /// The Api's address as callers reach it, shown in My keys next to a key (<c>&lt;url&gt;/api/v2</c>). Unset, the
    /// Api's discovered address (<c>services:api:http:0</c>) is used — right for a local stack, not behind a proxy.
    /// </summary>
    public string? ApiPublicUrl { get; set; }

    public string? TraceUrl(string? traceId) =>
        string.IsNullOrWhiteSpace(DashboardUrl) || string.IsNullOrWhiteSpace(traceId)
            ? null
            : $"{DashboardUrl.TrimEnd('/')}/traces/detail/{Uri.EscapeDataString(traceId)}";
}

/// <summary>Marks the Admin assembly for tests (<c>WebApplicationFactory&lt;AdminAssembly&gt;</c>).</summary>
public sealed class AdminAssembly;
