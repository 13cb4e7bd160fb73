using System.Diagnostics;

namespace AigneHub.Api.Infrastructure;

public static class TraceIdHeader
{
    public const string Name = "x-trace-id";

    /// <summary>
    /// Every response carries its trace id, so a caller can quote it and an operator can open that exact trace in
    /// the dashboard (the call record stores the same id).
    /// </summary>
    public static IApplicationBuilder UseTraceIdHeader(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (Activity.Current is { } activity)
        {
            context.Response.Headers[Name] = activity.TraceId.ToString();
        }
        return next(context);
    });
}
