using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Identity;
using AigneHub.Data;
using AigneHub.Data.Audit;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Audit;

/// <summary>
/// The audit trail of the identity and management routes, as one endpoint filter on their route group
/// (<see cref="WithAuditLog"/>) rather than a line in every handler. It records, after the handler ran:
/// <list type="bullet">
/// <item>every change (POST, PUT, PATCH, DELETE) to <c>/api/admin/…</c> — providers, base URLs, credentials, rates,
/// models, users, roles, grants, apps, subscriptions — whatever its outcome;</item>
/// <item>every access-key creation and revocation (<c>/api/v2/access-keys…</c>, connect approvals), by anyone;</item>
/// <item>every failed sign-in (401, 403, 429 from <c>/api/auth/…</c>).</item>
/// </list>
/// Actor, route name, route ids, status, client address and time come from the request; <c>after</c> is the route's
/// answer and <c>before</c> what the handler chose to note (<see cref="NoteBefore"/>), both with secrets masked
/// (<see cref="AuditMask"/>). Authorization refusals never reach endpoint filters and are not recorded here.
/// </summary>
public static partial class AuditLog
{
    private const string BeforeItem = "aignehub.audit.before";
    private const string TargetItem = "aignehub.audit.target";

    /// <summary>The handler's view of the state it is about to change (masked before storage).</summary>
    public static void NoteBefore(HttpContext context, JsonNode? before) => context.Items[BeforeItem] = before;

    /// <summary>What the request was about when the route carries no id (the email of a sign-in, a DID).</summary>
    public static void NoteTarget(HttpContext context, string? target) => context.Items[TargetItem] = target;

    public static RouteGroupBuilder WithAuditLog(this RouteGroupBuilder group)
    {
        group.AddEndpointFilter(async (context, next) =>
        {
            var result = await next(context);
            var http = context.HttpContext;
            var status = StatusOf(result) ?? http.Response.StatusCode;
            if (Recorded(http, status))
            {
                await http.RequestServices.GetRequiredService<AuditWriter>().WriteAsync(http, result, status);
            }
            return result;
        });
        return group;
    }

    private static bool Recorded(HttpContext http, int status)
    {
        var method = http.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            return false;
        }
        var path = http.Request.Path;
        if (path.StartsWithSegments("/api/auth"))
        {
            return status is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden or StatusCodes.Status429TooManyRequests;
        }
        return path.StartsWithSegments("/api/admin") || path.StartsWithSegments("/api/v2/access-keys")
            || (path.StartsWithSegments("/api/v2/access-key/session") && path.Value!.EndsWith("/approve", StringComparison.Ordinal));
    }

    private static int? StatusOf(object? result) => result switch
    {
        INestedHttpResult nested => StatusOf(nested.Result),
        IStatusCodeHttpResult withStatus => withStatus.StatusCode,
        _ => null,
    };

    internal static object? ValueOf(object? result) => result switch
    {
        INestedHttpResult nested => ValueOf(nested.Result),
        IValueHttpResult withValue => withValue.Value,
        _ => null,
    };

    internal static JsonNode? NotedBefore(HttpContext http) => http.Items.TryGetValue(BeforeItem, out var v) ? v as JsonNode : null;

    internal static string? NotedTarget(HttpContext http) => http.Items.TryGetValue(TargetItem, out var v) ? v as string : null;
}

/// <summary>Inserts audit rows in a scope of their own, so that nothing the handler left tracked is saved with them.</summary>
public sealed partial class AuditWriter(IServiceScopeFactory scopes, IOptions<JsonOptions> json, TimeProvider time, ILogger<AuditWriter> logger)
{
    public async Task WriteAsync(HttpContext http, object? result, int status)
    {
        var endpoint = http.GetEndpoint();
        var pattern = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path.Value ?? "";
        var route = $"{http.Request.Method} {pattern}";
        var caller = http.User;
        var entry = new AuditEvent
        {
            OccurredAt = time.GetUtcNow(),
            ActorUserId = caller.GetUserId(),
            ActorRole = caller.Identity?.IsAuthenticated == true ? caller.FindFirstValue(AigneHubClaims.Role) : null,
            ActorKeyId = caller.GetAccessKeyId(),
            Action = endpoint?.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName ?? route,
            Route = Truncate(route, 300)!,
            Target = Truncate(AuditLog.NotedTarget(http) ?? TargetOf(http.Request.RouteValues), 500),
            Status = status,
            ClientAddress = http.Connection.RemoteIpAddress?.ToString(),
            Before = AuditMask.Serialize(AuditLog.NotedBefore(http)),
            After = status < 300 ? AuditMask.Serialize(ToNode(AuditLog.ValueOf(result))) : null,
        };
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
            db.Add(entry);
            // Not the request's token: the change has happened, so its record is written even if the caller left.
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            Log.WriteFailed(logger, ex, entry.Action, entry.Status);
        }
    }

    private JsonNode? ToNode(object? value)
    {
        if (value is null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.SerializeToNode(value, value.GetType(), json.Value.SerializerOptions);
        }
        catch (NotSupportedException)
        {
            return null; // a type without a JSON contract in the app's resolvers: record the action without its answer
        }
    }

    private static string? TargetOf(RouteValueDictionary values)
    {
        var ids = values.Where(v => v.Value is not null).Select(v => $"{v.Key}={v.Value}").ToList();
        return ids.Count == 0 ? null : string.Join(' ', ids);
    }

    private static string? Truncate(string? text, int max) => text is { Length: > 0 } && text.Length > max ? text[..max] : text;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "Writing the audit entry for {Action} ({Status}) failed.")]
        public static partial void WriteFailed(ILogger logger, Exception exception, string action, int status);
    }
}

/// <summary>Secrets never enter the audit log: any member whose name says it holds one is replaced by <c>"***"</c>.</summary>
public static class AuditMask
{
    public const string Masked = "***";

    public static string? Serialize(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }
        var copy = node.DeepClone();
        Mask(copy);
        return copy.ToJsonString();
    }

    public static bool IsSecret(string name)
    {
        var n = name.ToLowerInvariant();
        return n.Contains("secret", StringComparison.Ordinal) || n.Contains("password", StringComparison.Ordinal)
            || n.Contains("token", StringComparison.Ordinal)
            || (n.EndsWith("key", StringComparison.Ordinal) && n != "publickey");
    }

    private static void Mask(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in obj.Select(p => p.Key).ToList())
                {
                    if (IsSecret(name) && obj[name] is JsonValue)
                    {
                        obj[name] = Masked;
                    }
                    else
                    {
                        Mask(obj[name]);
                    }
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    Mask(item);
                }
                break;
        }
    }
}
