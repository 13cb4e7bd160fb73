using System.Globalization;
using System.Text.Json;

namespace AigneHub.Contracts.Audit;

// The audit log (GET /api/admin/audit): append-only entries, newest first, paged by id. Before/after are masked JSON.

public sealed record AuditEntryResponse(
    long Id,
    DateTimeOffset OccurredAt,
    Guid? ActorUserId,
    string? ActorEmail,
    string? ActorRole,
    Guid? ActorKeyId,
    string Action,
    string Route,
    string? Target,
    int Status,
    string? ClientAddress,
    JsonElement? Before,
    JsonElement? After);

/// <summary>A page, newest first; pass <see cref="NextBefore"/> as <c>before</c> for the next one (null: no more).</summary>
public sealed record AuditPageResponse(List<AuditEntryResponse> Items, long? NextBefore);

/// <summary>The audit log's filters, as the route's query string.</summary>
public sealed record AuditQuery(string? Actor = null, string? Action = null, string? Target = null, string? Status = null, long? Before = null, int Limit = 100)
{
    public string ToQueryString()
    {
        List<string> parts = [$"limit={Limit.ToString(CultureInfo.InvariantCulture)}"];
        void Add(string name, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.Add($"{name}={Uri.EscapeDataString(value.Trim())}");
            }
        }
        Add("actor", Actor);
        Add("action", Action);
        Add("target", Target);
        Add("status", Status);
        Add("before", Before?.ToString(CultureInfo.InvariantCulture));
        return "?" + string.Join('&', parts);
    }
}
