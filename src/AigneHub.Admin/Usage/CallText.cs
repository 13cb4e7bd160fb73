namespace AigneHub.Admin.Usage;

/// <summary>How a call record reads in the call logs (admin and mine).</summary>
public static class CallText
{
    /// <summary>The model as resolved (<c>provider/model</c>) and, when the caller wrote something else, as written.</summary>
    public static string Model(ModelCallResponse c)
    {
        var resolved = c.Provider is null ? null : $"{c.Provider}/{c.Model}";
        return resolved is null ? c.RequestedModel
            : resolved == c.RequestedModel ? resolved
            : $"{resolved} (asked for {c.RequestedModel})";
    }

    /// <summary>A duration in ms, or a dash when the call has none (it never reached the provider).</summary>
    public static string Ms(int? ms) => ms is { } v ? $"{v} ms" : "—";
}
