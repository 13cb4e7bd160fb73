using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Gateway.Protocols.OpenAi;
using AigneHub.Api.Identity;

namespace AigneHub.Api.Gateway.Protocols.Responses;

/// <summary>
/// OpenAI's Responses API at <c>&lt;hub&gt;/api/v2</c> (so the official SDKs' Responses clients and Codex CLI work with
/// that base URL): create (JSON or events), retrieve, delete, list input items, count input tokens. Errors in
/// OpenAI's shape. Stored responses are the caller's own: any other id is a 404.
/// </summary>
public static class ResponsesApi
{
    private const int MaxPageSize = 100;

    public static RouteGroupBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v2/responses")
            .WithTags("OpenAI Responses")
            .WithGatewayErrors(OpenAiErrors.Shape);

        group.MapPost("", CreateAsync)
            .WithName("CreateResponse")
            .WithSummary("Creates a response (OpenAI Responses wire), streaming or not; OpenAI is passed through, other providers translated.");
        group.MapPost("/input_tokens", InputTokensAsync)
            .WithName("CountResponseInputTokens")
            .WithSummary("Estimates the input tokens of a Responses request (the hub's estimator; not a billed call).");
        group.MapGet("/{id}", GetAsync)
            .WithName("GetResponse")
            .WithSummary("A stored response of the caller's.");
        group.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteResponse")
            .WithSummary("Deletes a stored response of the caller's.");
        group.MapGet("/{id}/input_items", InputItemsAsync)
            .WithName("ListResponseInputItems")
            .WithSummary("The input items of a stored response of the caller's (order, limit, after).");
        return group;
    }

    private static async Task<IResult> CreateAsync(HttpContext context, GatewayServices services, ResponseStore store)
    {
        var body = await CallerBody.ReadAsync(context);
        var user = context.User.GetUserId();
        var history = await HistoryAsync(body, user, store, context.RequestAborted);
        var call = ResponsesRequest.Read(body, history);
        var writer = new ResponsesWriter(context, call, store, user, services.Time.GetUtcNow().ToUnixTimeSeconds());
        await services.Chat.RunAsync(context, ApiSurface.V2, call.Chat, writer);
        return Results.Empty;
    }

    /// <summary>The hub's estimate for the model's first target (no provider counts the Responses wire here);
    /// not a model call.</summary>
    private static async Task<IResult> InputTokensAsync(HttpContext context, ResponseStore store, TokenCountRunner counter)
    {
        var body = await CallerBody.ReadAsync(context);
        var history = await HistoryAsync(body, context.User.GetUserId(), store, context.RequestAborted);
        var call = ResponsesRequest.Read(body, history);
        var count = await counter.CountAsync(call.Chat, context.RequestAborted);
        return Results.Json(new JsonObject
        {
            ["object"] = "response.input_tokens",
            ["input_tokens"] = count.Estimate,
        });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, ResponseStore store) =>
        await store.ResponseAsync(Owner(context), CheckId(id), context.RequestAborted) is { } json
            ? Results.Text(json, "application/json")
            : throw NotFound(id);

    private static async Task<IResult> DeleteAsync(string id, HttpContext context, ResponseStore store) =>
        await store.DeleteAsync(Owner(context), CheckId(id), context.RequestAborted)
            ? Results.Json(new JsonObject { ["id"] = id, ["object"] = "response", ["deleted"] = true })
            : throw NotFound(id);

    private static async Task<IResult> InputItemsAsync(string id, HttpContext context, ResponseStore store)
    {
        var query = context.Request.Query;
        var limit = query["limit"].ToString() is { Length: > 0 } l
            ? int.TryParse(l, out var n) && n is >= 1 and <= MaxPageSize ? n : throw GatewayException.BadRequest($"'limit' must be from 1 to {MaxPageSize}.", "limit")
            : 20;
        var ascending = query["order"].ToString() switch
        {
            "" or "desc" => false,
            "asc" => true,
            _ => throw GatewayException.BadRequest("'order' must be asc or desc.", "order"),
        };
        var items = await store.InputAsync(Owner(context), CheckId(id), context.RequestAborted) ?? throw NotFound(id);
        var ordered = ascending ? items.ToList() : items.Reverse().ToList();
        if (query["after"].ToString() is { Length: > 0 } after)
        {
            var at = ordered.FindIndex(i => (string?)(i as JsonObject)?["id"] == after);
            ordered = at < 0 ? [] : ordered[(at + 1)..];
        }
        var page = ordered.Take(limit).Select(i => i?.DeepClone()).ToArray();
        return Results.Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(page),
            ["first_id"] = page.Length > 0 ? page[0]?["id"]?.DeepClone() : null,
            ["last_id"] = page.Length > 0 ? page[^1]?["id"]?.DeepClone() : null,
            ["has_more"] = ordered.Count > limit,
        });
    }

    /// <summary>The conversation <c>previous_response_id</c> continues, or a 400 naming it when the caller has none such.</summary>
    private static async Task<JsonArray?> HistoryAsync(JsonFields body, Guid? user, ResponseStore store, CancellationToken cancellationToken)
    {
        if (body.String("previous_response_id", ResponsesRequest.MaxIdLength) is not { } previous)
        {
            return null;
        }
        return user is Guid owner && await store.ConversationAsync(owner, previous, cancellationToken) is { } history
            ? history
            : throw new GatewayException(400, "invalid_request_error", $"Previous response with id '{previous}' not found.",
                "previous_response_id", "previous_response_not_found");
    }

    private static Guid Owner(HttpContext context) => context.User.GetUserId() ?? throw new GatewayException(404, "invalid_request_error", "Not found.");

    private static string CheckId(string id) =>
        id.Length <= ResponsesRequest.MaxIdLength && !id.Contains('\0', StringComparison.Ordinal) ? id : throw NotFound(id[..Math.Min(id.Length, 40)]);

    private static GatewayException NotFound(string id) =>
        new(404, "invalid_request_error", $"Response with id '{id}' not found.", code: "not_found");
}
