using System.Globalization;
using System.Text;
using AigneHub.Admin.Api;
using AigneHub.Admin.Auth;
using Microsoft.AspNetCore.Mvc;

namespace AigneHub.Admin.Audit;

/// <summary>
/// <c>GET /audit/export.csv</c>: the audit log with the page's filters as a CSV download, fetched page by page from the
/// Api with the signed-in admin's session (at most <see cref="MaxRows"/> rows, newest first).
/// </summary>
public static class AuditExport
{
    public const string Path = "/audit/export.csv";
    public const int MaxRows = 50_000;

    public static IEndpointRouteBuilder MapAuditExport(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, ExportAsync).WithName("AdminAuditExport").WithSummary("The filtered audit log as CSV.")
            .WithTags("Admin audit").RequireAuthorization(AdminPolicies.Admin);
        return app;
    }

    internal static async Task ExportAsync(HttpContext context, [FromQuery] string? actor, [FromQuery] string? action,
        [FromQuery] string? target, [FromQuery] string? status, IdentityApiClient identity, TimeProvider time, CancellationToken ct)
    {
        var query = new AuditQuery(actor, action, target, status, Limit: 500);
        AuditPageResponse page;
        try
        {
            page = await identity.ListAuditAsync(query, ct);
        }
        catch (ApiException ex)
        {
            context.Response.StatusCode = (int?)ex.Status ?? StatusCodes.Status502BadGateway;
            await context.Response.WriteAsync(ex.Message, ct);
            return;
        }
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition =
            $"attachment; filename=\"aignehub-audit-{time.GetUtcNow():yyyyMMdd-HHmmss}.csv\"";
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false));
        await writer.WriteLineAsync("id,occurred_at,actor_user_id,actor_email,actor_role,actor_key_id,action,route,target,status,client_address,before,after");
        var rows = 0;
        while (true)
        {
            foreach (var e in page.Items)
            {
                await writer.WriteLineAsync(string.Join(',',
                    e.Id.ToString(CultureInfo.InvariantCulture), e.OccurredAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                    Cell(e.ActorUserId?.ToString()), Cell(e.ActorEmail), Cell(e.ActorRole), Cell(e.ActorKeyId?.ToString()),
                    Cell(e.Action), Cell(e.Route), Cell(e.Target), e.Status.ToString(CultureInfo.InvariantCulture), Cell(e.ClientAddress),
                    Cell(e.Before?.GetRawText()), Cell(e.After?.GetRawText())));
            }
            rows += page.Items.Count;
            if (page.NextBefore is null || rows >= MaxRows)
            {
                break;
            }
            page = await identity.ListAuditAsync(query with { Before = page.NextBefore }, ct);
        }
    }

    /// <summary>
    /// RFC 4180 quoting, and a leading apostrophe on text a spreadsheet would run as a formula: targets come from
    /// whoever typed them (a failed sign-in's email), so "=HYPERLINK(…)" must arrive as text.
    /// </summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
