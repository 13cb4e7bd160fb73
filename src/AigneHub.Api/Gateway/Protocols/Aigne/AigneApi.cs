using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.Aigne;

/// <summary>
/// The AIGNE-native routes the official SDK calls: <c>/api/v2/chat</c>, <c>/api/v2/image</c>, <c>/api/v2/video</c>, <c>/api/v2/embeddings</c>.
/// </summary>
public static class AigneApi
{
    /// <summary>The component DID the SDK looks for in <c>__blocklet__.js</c> to find the hub's mount point.</summary>
    public const string HubComponentDid = "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ";

    public static RouteGroupBuilder MapAigneApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v2")
            .WithTags("AIGNE native")
            .WithGatewayErrors(AigneErrors.Shape);

        group.MapPost("/chat", ChatAsync)
            .WithName("AigneChat")
            .WithSummary("Chat in the AIGNE framework protocol (JSON, or SSE with options.streaming).");
        group.MapPost("/image", ImageAsync)
            .WithName("AigneImage")
            .WithSummary("Image generation in the AIGNE framework protocol.");
        group.MapPost("/video", VideoAsync)
            .WithName("AigneVideo")
            .WithSummary("Video generation in the AIGNE framework protocol: the hub follows the provider's job and answers once it is done.");
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
        var chat = AigneProtocol.ReadChat(await CallerBody.ReadAsync(context));
        var jsonMode = chat.Request.ResponseFormat?.Kind is ResponseFormatKind.JsonObject or ResponseFormatKind.JsonSchema;
        await services.Chat.RunAsync(context, ApiSurface.V2, chat, new AigneChatWriter(context, jsonMode));
        return Results.Empty;
    }

    private static async Task<IResult> ImageAsync(HttpContext context, GatewayServices services)
    {
        var request = AigneProtocol.ReadImage(await CallerBody.ReadAsync(context));
        await services.Images.RunAsync(context, ApiSurface.V2, request, parameters: null, new AigneImageWriter(context));
        return Results.Empty;
    }

    private static async Task<IResult> VideoAsync(HttpContext context, GatewayServices services)
    {
        var (request, asUrl) = AigneProtocol.ReadVideo(await CallerBody.ReadAsync(context));
        await services.Video.RunAsync(context, ApiSurface.V2, request, VideoInput.Parameters(request), new AigneVideoWriter(context, asUrl));
        return Results.Empty;
    }

    /// <summary>
    /// Native-envelope embeddings (<c>{input:{input, modelOptions:{model}}}</c>). They share the path
    /// <c>POST /api/v2/embeddings</c> with OpenAI's shape, which routes here when <c>input</c> is an object.
    /// </summary>
    internal static async Task<IResult> EmbeddingsAsync(HttpContext context, GatewayServices services, JsonFields body)
    {
        var request = AigneProtocol.ReadEmbeddings(body);
        await services.Embeddings.RunAsync(context, ApiSurface.V2, request, new AigneEmbeddingWriter(context));
        return Results.Empty;
    }
}

/// <summary>The AIGNE image envelope: <c>{images:[{type:url, url} | {type:file, data, mimeType}], model, modelWithProvider, usage}</c>.</summary>
internal sealed class AigneImageWriter(HttpContext context) : IImageAnswerWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAsync(ImageResponse response, TokenUsage usage, ModelTarget target)
    {
        var images = new JsonArray(response.Images.Select(i => (JsonNode?)(i.Url is not null
            ? new JsonObject { ["type"] = "url", ["url"] = i.Url }
            : new JsonObject { ["type"] = "file", ["data"] = i.Base64Json, ["mimeType"] = i.MediaType ?? "image/png" })).ToArray());
        return Caller.WriteJsonAsync(new JsonObject
        {
            ["images"] = images,
            ["model"] = target.Model,
            ["modelWithProvider"] = target.PublicName,
            ["usage"] = AigneAnswers.Usage(usage),
        });
    }
}

/// <summary>
/// The AIGNE video envelope: <c>{videos:[{type:file, data, mimeType} | {type:url, url}], seconds, model,
/// modelWithProvider, usage}</c>. The hub keeps no files, so a URL is a <c>data:</c> URL of the video.
/// </summary>
internal sealed class AigneVideoWriter(HttpContext context, bool asUrl) : IVideoAnswerWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAsync(VideoJob job, VideoContent content, decimal seconds, ModelTarget target)
    {
        var data = Convert.ToBase64String(content.Bytes.Span);
        var video = asUrl
            ? new JsonObject { ["type"] = "url", ["url"] = $"data:{content.ContentType};base64,{data}", ["mimeType"] = content.ContentType }
            : new JsonObject { ["type"] = "file", ["data"] = data, ["mimeType"] = content.ContentType };
        return Caller.WriteJsonAsync(new JsonObject
        {
            ["videos"] = new JsonArray(video),
            ["seconds"] = seconds,
            ["model"] = target.Model,
            ["modelWithProvider"] = target.PublicName,
            ["usage"] = AigneAnswers.Usage(new TokenUsage()),
        });
    }
}

/// <summary>The AIGNE embedding envelope: <c>{embeddings:[[…]], model, modelWithProvider, usage}</c>.</summary>
internal sealed class AigneEmbeddingWriter(HttpContext context) : IEmbeddingAnswerWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAsync(EmbeddingResponse response, TokenUsage usage, ModelTarget target) => Caller.WriteJsonAsync(new JsonObject
    {
        ["embeddings"] = new JsonArray(response.Embeddings.Select(e => (JsonNode?)new JsonArray(e.Select(f => (JsonNode?)f).ToArray())).ToArray()),
        ["model"] = target.Model,
        ["modelWithProvider"] = target.PublicName,
        ["usage"] = AigneAnswers.Usage(usage),
    });
}
