using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Protocols.Anthropic;

/// <summary>
/// The Anthropic Messages API, wire-exact so that Anthropic's SDKs and Claude Code work with base URL
/// <c>&lt;hub&gt;/api/v2/anthropic</c> (<c>ANTHROPIC_BASE_URL</c>) and an AigneHub access key as <c>x-api-key</c> or
/// <c>Authorization: Bearer</c> (<c>ANTHROPIC_AUTH_TOKEN</c>): <c>POST /v1/messages</c> (JSON and SSE),
/// <c>POST /v1/messages/count_tokens</c>, <c>GET /v1/models</c>. Every error, the authentication's included and an
/// unknown route's, is in Anthropic's shape.
/// </summary>
public static class AnthropicApi
{
    public const string Prefix = "/api/v2/anthropic";

    public const string VersionHeader = "anthropic-version";

    public const string BetaHeader = "anthropic-beta";

    /// <summary>Longer than any real flag list; keeps a header from bloating the call record.</summary>
    private const int MaxHeaderLength = 2000;

    public static RouteGroupBuilder MapAnthropicApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(Prefix)
            .WithTags("Anthropic Messages")
            .WithGatewayErrors(AnthropicErrors.Shape)
            .WithMetadata(new ErrorShapeMetadata((status, message, _) => AnthropicErrors.Body(status, message)));

        group.MapPost("/v1/messages", MessagesAsync)
            .WithName("AnthropicMessages")
            .WithSummary("Create a message (Anthropic Messages wire format), streaming or not.");
        group.MapPost("/v1/messages/count_tokens", CountTokensAsync)
            .WithName("AnthropicCountTokens")
            .WithSummary("Count a message request's input tokens (Anthropic's own count on Anthropic, else the hub's estimate). Not billed.");
        group.MapGet("/v1/models", ListModelsAsync)
            .WithName("AnthropicListModels")
            .WithSummary("Model names callers can send: aliases and catalogue models.");
        group.MapFallback("{**path}", () => AnthropicErrors.Shape(new GatewayException(404, "not_found_error", "There is no such route in AigneHub's Anthropic API.")))
            .WithName("AnthropicNotFound")
            .ExcludeFromDescription();
        return group;
    }

    private static async Task<IResult> MessagesAsync(HttpContext context, GatewayServices services)
    {
        var chat = AnthropicMessagesRequest.Read(await CallerBody.ReadAsync(context), ForwardedHeaders(context));
        await services.Chat.RunAsync(context, ApiSurface.V2, chat, new AnthropicMessagesWriter(context, chat.Request.Model));
        return Results.Empty;
    }

    private static async Task<IResult> CountTokensAsync(HttpContext context, TokenCountRunner counter)
    {
        var chat = AnthropicMessagesRequest.Read(await CallerBody.ReadAsync(context), ForwardedHeaders(context), countTokens: true);
        var count = await counter.CountAsync(chat, context.RequestAborted);
        return count.ProviderAnswer is { } answer
            ? Results.Bytes(answer.ToArray(), "application/json")
            : Results.Json(new JsonObject { ["input_tokens"] = count.Estimate });
    }

    private static async Task<IResult> ListModelsAsync(IModelCatalog catalog, CancellationToken cancellationToken)
    {
        var names = await CallableNamesAsync(catalog, cancellationToken);
        var data = new JsonArray([.. names.Select(n => (JsonNode)new JsonObject
        {
            ["type"] = "model",
            ["id"] = n,
            ["display_name"] = n,
            ["created_at"] = "1970-01-01T00:00:00Z",
        })]);
        return Results.Json(new JsonObject
        {
            ["data"] = data,
            ["has_more"] = false,
            ["first_id"] = names.Count > 0 ? names[0] : null,
            ["last_id"] = names.Count > 0 ? names[^1] : null,
        });
    }

    /// <summary>What an Anthropic caller can send as <c>model</c>: exact aliases first, then each chat model of the
    /// catalogue by its own name (an unprefixed name resolves through the catalogue), the demo model, which has no
    /// catalogue entry, by its provider/model name.</summary>
    private static async Task<List<string>> CallableNamesAsync(IModelCatalog catalog, CancellationToken cancellationToken)
    {
        var aliases = await catalog.ListAliasesAsync(cancellationToken);
        var models = await catalog.ListAsync(ModelType.Chat, cancellationToken);
        return [.. aliases.Select(a => a.Name).Concat(models.Select(m => m.Provider == ProviderKinds.Demo.Name ? m.PublicName : m.Model)).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The caller's <c>anthropic-version</c> and <c>anthropic-beta</c> (several lines joined, as HTTP allows).</summary>
    private static Dictionary<string, string> ForwardedHeaders(HttpContext context)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in (string[])[VersionHeader, BetaHeader])
        {
            if (context.Request.Headers.TryGetValue(name, out var values) && values.Count > 0)
            {
                var value = string.Join(",", values.Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v!.Trim()));
                if (value.Length > MaxHeaderLength || value.Any(char.IsControl))
                {
                    throw GatewayException.BadRequest($"The {name} header must be at most {MaxHeaderLength} printable characters.", name);
                }
                if (value.Length > 0)
                {
                    headers[name] = value;
                }
            }
        }
        return headers;
    }
}
