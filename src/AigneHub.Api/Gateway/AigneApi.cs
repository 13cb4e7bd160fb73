using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Data;

namespace AigneHub.Api.Gateway;

/// <summary>
/// The AIGNE-native routes the official SDK calls: <c>/api/v2/chat</c>, <c>/api/v2/image</c>, <c>/api/v2/embeddings</c>.
/// </summary>
public static class AigneApi
{
    /// <summary>The component DID the SDK looks for in <c>__blocklet__.js</c> to find the hub's mount point.</summary>
    public const string HubComponentDid = "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ";

    public static RouteGroupBuilder MapAigneApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v2")
            .WithTags("AIGNE native")
            .WithGatewayErrors(ErrorShapes.Aigne);

        group.MapPost("/chat", ChatAsync)
            .WithName("AigneChat")
            .WithSummary("Chat in the AIGNE framework protocol (JSON, or SSE with options.streaming).");
        group.MapPost("/image", ImageAsync)
            .WithName("AigneImage")
            .WithSummary("Image generation in the AIGNE framework protocol.");
        return group;
    }

    /// <summary>
    /// The discovery document the SDK reads first (<c>GET /__blocklet__.js?type=json</c>): the hub is mounted at
    /// the root, so the SDK calls <c>&lt;origin&gt;/api/v2/...</c>.
    /// </summary>
    public static RouteHandlerBuilder MapHubDiscovery(this IEndpointRouteBuilder app) =>
        app.MapGet("/__blocklet__.js", (HttpContext context) =>
            {
                var origin = $"{context.Request.Scheme}://{context.Request.Host}";
                var document = new JsonObject
                {
                    ["appId"] = "aignehub",
                    ["appPid"] = "aignehub",
                    ["appName"] = "AigneHub",
                    ["appUrl"] = origin,
                    ["prefix"] = "/",
                    ["componentMountPoints"] = new JsonArray(new JsonObject
                    {
                        ["did"] = HubComponentDid,
                        ["name"] = "ai-kit",
                        ["title"] = "AigneHub",
                        ["mountPoint"] = "/",
                        ["status"] = "running",
                    }),
                };
                if (context.Request.Query["type"] == "json")
                {
                    return Results.Json(document);
                }
                return Results.Text($"window.blocklet = {document.ToJsonString()};", "application/javascript");
            })
            .WithName("HubDiscovery")
            .WithSummary("Blocklet discovery document used by the AIGNE SDK to find the hub.")
            .WithTags("AIGNE native");

    private static async Task<IResult> ChatAsync(HttpContext context, GatewayServices services)
    {
        var body = await GatewayRequests.ReadJsonObjectAsync(context);
        var (model, request, streaming) = AigneProtocol.ReadChat(body);
        var estimate = new CallEstimate
        {
            PromptTokens = ChatCalls.EstimatePromptTokens(request),
            MaxOutputTokens = request.MaxOutputTokens,
            Parameters = body["input"]?["modelOptions"] is JsonObject options ? (JsonObject)options.DeepClone() : null,
        };
        var call = services.Pipeline.CreateContext(context, ApiSurface.V2, model, ModelType.Chat, streaming);
        var candidates = await services.Pipeline.ResolveAsync(model, ModelType.Chat, context.RequestAborted);
        var jsonMode = request.ResponseFormat?.Kind is ResponseFormatKind.JsonObject or ResponseFormatKind.JsonSchema;
        var writer = new AigneChatWriter(context, jsonMode);
        await services.Pipeline.RunAsync(context, call, estimate, candidates,
            ChatCalls.Translated(services.Services, request, streaming, writer, estimate), writer.WriteStreamErrorAsync);
        return Results.Empty;
    }

    private static async Task<IResult> ImageAsync(HttpContext context, GatewayServices services)
    {
        var body = await GatewayRequests.ReadJsonObjectAsync(context);
        var input = body["input"] as JsonObject ?? throw GatewayException.BadRequest("'input' must be an object.", "input");
        var model = input["modelOptions"]?["model"] is JsonNode m ? GatewayRequests.RequireModel(m, "input.modelOptions.model") : "openai/dall-e-2";
        var prompt = (string?)input["prompt"];
        if (string.IsNullOrWhiteSpace(prompt))
        {
            throw GatewayException.BadRequest("'input.prompt' is required.", "input.prompt");
        }
        var n = Providers.OpenAI.OpenAiChatCodec.Integer(input["n"], "input.n") ?? 1;
        var format = (string?)input["responseFormat"] ?? "b64_json";
        var request = new ImageRequest
        {
            Model = model,
            Prompt = prompt,
            N = n,
            Size = (string?)input["size"],
            Quality = (string?)input["quality"],
            Style = (string?)input["style"],
            ResponseFormat = format is "url" ? "url" : "b64_json",
        };
        var estimate = new CallEstimate { PromptTokens = TokenEstimator.FromCharacters(prompt.Length), Images = n, ImageSize = request.Size, ImageQuality = request.Quality };
        var call = services.Pipeline.CreateContext(context, ApiSurface.V2, model, ModelType.Image, streaming: false);
        var candidates = await services.Pipeline.ResolveAsync(model, ModelType.Image, context.RequestAborted);
        await services.Pipeline.RunAsync(context, call, estimate, candidates, async (attempt, ct) =>
        {
            var response = await ImageCalls.GenerateAsync(services.Services, attempt, request, ct);
            attempt.Committed = true;
            var images = new JsonArray(response.Images.Select(i => (JsonNode?)(i.Url is not null
                ? new JsonObject { ["type"] = "url", ["url"] = i.Url }
                : new JsonObject { ["type"] = "file", ["data"] = i.Base64Json, ["mimeType"] = "image/png" })).ToArray());
            var usage = response.Usage ?? new TokenUsage { InputTokens = estimate.PromptTokens };
            await Results.Json(new JsonObject
            {
                ["images"] = images,
                ["model"] = attempt.Target.Model,
                ["modelWithProvider"] = attempt.Target.PublicName,
                ["usage"] = AigneProtocol.WriteUsage(usage),
            }).ExecuteAsync(context);
            return new AttemptResult { Usage = usage, UsageEstimated = response.Usage is null, Images = response.Images.Count, CallerFirstByteAt = System.Diagnostics.Stopwatch.GetTimestamp() };
        }, _ => Task.CompletedTask);
        return Results.Empty;
    }

    /// <summary>
    /// Native-envelope embeddings (<c>{input:{input, modelOptions:{model}}}</c>). They share the path
    /// <c>POST /api/v2/embeddings</c> with OpenAI's shape, which routes here when <c>input</c> is an object.
    /// </summary>
    internal static async Task<IResult> EmbeddingsAsync(HttpContext context, GatewayServices services, JsonObject body)
    {
        var input = body["input"] as JsonObject ?? throw GatewayException.BadRequest("'input' must be an object.", "input");
        var model = GatewayRequests.RequireModel(input["modelOptions"]?["model"], "input.modelOptions.model");
        var texts = EmbeddingCalls.ReadInputs(input["input"], "input.input");
        var request = new EmbeddingRequest { Model = model, Inputs = texts };
        var estimate = EmbeddingCalls.Estimate(texts);
        var call = services.Pipeline.CreateContext(context, ApiSurface.V2, model, ModelType.Embedding, streaming: false);
        var candidates = await services.Pipeline.ResolveAsync(model, ModelType.Embedding, context.RequestAborted);
        await services.Pipeline.RunAsync(context, call, estimate, candidates, async (attempt, ct) =>
        {
            var (response, usage, estimated) = await EmbeddingCalls.EmbedAsync(services.Services, attempt, request, estimate, ct);
            await Results.Json(new JsonObject
            {
                ["embeddings"] = new JsonArray(response.Embeddings.Select(e => (JsonNode?)new JsonArray(e.Select(f => (JsonNode?)f).ToArray())).ToArray()),
                ["model"] = attempt.Target.Model,
                ["modelWithProvider"] = attempt.Target.PublicName,
                ["usage"] = AigneProtocol.WriteUsage(usage),
            }).ExecuteAsync(context);
            return new AttemptResult { Usage = usage, UsageEstimated = estimated, CallerFirstByteAt = System.Diagnostics.Stopwatch.GetTimestamp() };
        }, _ => Task.CompletedTask);
        return Results.Empty;
    }
}
