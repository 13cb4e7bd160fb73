using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Management;
using AigneHub.Api.Providers.OpenAI;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway;

/// <summary>Services the gateway routes share.</summary>
public sealed class GatewayServices(GatewayPipeline pipeline, ProviderHttp http, IModelCatalog catalog, IServiceProvider services, TimeProvider time)
{
    public GatewayPipeline Pipeline { get; } = pipeline;

    public ProviderHttp Http { get; } = http;

    public IModelCatalog Catalog { get; } = catalog;

    public IServiceProvider Services { get; } = services;

    public TimeProvider Time { get; } = time;
}

/// <summary>
/// OpenAI-compatible routes, wire-exact with OpenAI's public API so the official SDKs work with base URL
/// <c>&lt;hub&gt;/api/v2</c> (or <c>/api/v1</c> for signed components).
/// </summary>
public static class OpenAiApi
{
    public static RouteGroupBuilder MapOpenAiApi(this IEndpointRouteBuilder app, string prefix, ApiSurface surface)
    {
        var group = app.MapGroup(prefix)
            .WithTags("OpenAI-compatible")
            .WithGatewayErrors(ErrorShapes.OpenAi);

        group.MapPost("/chat/completions", (HttpContext context, GatewayServices services) => ChatCompletionsAsync(context, services, surface))
            .WithName($"{surface}ChatCompletions")
            .WithSummary("Chat completion (OpenAI wire format), streaming or not.");
        group.MapPost("/embeddings", (HttpContext context, GatewayServices services) => EmbeddingsAsync(context, services, surface))
            .WithName($"{surface}Embeddings")
            .WithSummary("Embeddings: OpenAI wire format (float or base64), or the AIGNE envelope {input:{input, modelOptions}}.");
        group.MapPost("/images/generations", (HttpContext context, GatewayServices services) => ImagesAsync(context, services, surface))
            .WithName($"{surface}ImageGenerations")
            .WithSummary("Image generation (OpenAI wire format; url or b64_json).");
        group.MapGet("/models", ListModelsAsync)
            .WithName($"{surface}ListModels")
            .WithSummary("Models callers can name, as provider/model.");
        return group;
    }

    private static async Task<IResult> ChatCompletionsAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        // :: Step 1: read and validate the request in OpenAI's terms.
        var body = await GatewayRequests.ReadJsonObjectAsync(context);
        var model = GatewayRequests.RequireModel(body["model"]);
        var streaming = GatewayRequests.Flag(body["stream"], "stream");
        var wantsUsage = streaming && GatewayRequests.Flag(body["stream_options"]?["include_usage"], "stream_options.include_usage");
        var request = OpenAiChatCodec.ReadRequest(body, model);
        var estimate = new CallEstimate
        {
            PromptTokens = ChatCalls.EstimatePromptTokens(request),
            MaxOutputTokens = request.MaxOutputTokens,
            Parameters = Parameters(body, "temperature", "top_p", "max_tokens", "max_completion_tokens", "seed", "reasoning_effort", "response_format"),
        };

        // :: Step 2: resolve, then run the pipeline (record, pre-checks, provider, settle).
        var call = services.Pipeline.CreateContext(context, surface, model, ModelType.Chat, streaming);
        var candidates = await services.Pipeline.ResolveAsync(model, ModelType.Chat, context.RequestAborted);
        var writer = new OpenAiChatWriter(context, services.Time.GetUtcNow().ToUnixTimeSeconds(), wantsUsage);
        var translated = ChatCalls.Translated(services.Services, request, streaming, writer, estimate);
        var passthrough = OpenAiPassthrough.Chat(services.Http, body, streaming, wantsUsage, context, writer.Sse, estimate);

        await services.Pipeline.RunAsync(context, call, estimate, candidates,
            (attempt, ct) => attempt.Target.Kind.Protocol == ProviderProtocol.OpenAI ? passthrough(attempt, ct) : translated(attempt, ct),
            writer.WriteStreamErrorAsync);
        return Results.Empty;
    }

    private static async Task<IResult> EmbeddingsAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        var body = await GatewayRequests.ReadJsonObjectAsync(context);
        if (surface == ApiSurface.V2 && body["input"] is JsonObject)
        {
            return await AigneApi.EmbeddingsAsync(context, services, body);
        }
        var model = GatewayRequests.RequireModel(body["model"]);
        var inputs = EmbeddingCalls.ReadInputs(body["input"], "input");
        var base64 = (string?)body["encoding_format"] switch
        {
            null or "float" => false,
            "base64" => true,
            _ => throw GatewayException.BadRequest("'encoding_format' must be float or base64.", "encoding_format"),
        };
        var request = new EmbeddingRequest { Model = model, Inputs = inputs, Dimensions = OpenAiChatCodec.Integer(body["dimensions"], "dimensions") };
        var estimate = EmbeddingCalls.Estimate(inputs);

        var call = services.Pipeline.CreateContext(context, surface, model, ModelType.Embedding, streaming: false);
        var candidates = await services.Pipeline.ResolveAsync(model, ModelType.Embedding, context.RequestAborted);
        await services.Pipeline.RunAsync(context, call, estimate, candidates, async (attempt, ct) =>
        {
            var (response, usage, estimated) = await EmbeddingCalls.EmbedAsync(services.Services, attempt, request, estimate, ct);
            var data = new JsonArray();
            for (var i = 0; i < response.Embeddings.Count; i++)
            {
                var vector = response.Embeddings[i];
                data.Add(new JsonObject
                {
                    ["object"] = "embedding",
                    ["index"] = i,
                    ["embedding"] = base64
                        ? Convert.ToBase64String(MemoryMarshal.AsBytes(vector.AsSpan()))
                        : new JsonArray(vector.Select(f => (JsonNode?)f).ToArray()),
                });
            }
            await Results.Json(new JsonObject
            {
                ["object"] = "list",
                ["data"] = data,
                ["model"] = response.Model,
                ["usage"] = new JsonObject { ["prompt_tokens"] = usage.InputTokens, ["total_tokens"] = usage.InputTokens },
            }).ExecuteAsync(context);
            return new AttemptResult { Usage = usage, UsageEstimated = estimated, CallerFirstByteAt = System.Diagnostics.Stopwatch.GetTimestamp() };
        }, _ => Task.CompletedTask);
        return Results.Empty;
    }

    private static async Task<IResult> ImagesAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        var body = await GatewayRequests.ReadJsonObjectAsync(context);
        var model = GatewayRequests.RequireModel(body["model"]);
        var prompt = OpenAiChatCodec.String(body["prompt"], "prompt");
        if (string.IsNullOrWhiteSpace(prompt))
        {
            throw GatewayException.BadRequest("'prompt' is required.", "prompt");
        }
        var n = OpenAiChatCodec.Integer(body["n"], "n") ?? 1;
        if (n > 10)
        {
            throw GatewayException.BadRequest("'n' must be between 1 and 10.", "n");
        }
        var format = OpenAiChatCodec.String(body["response_format"], "response_format") ?? "url";
        if (format is not ("url" or "b64_json"))
        {
            throw GatewayException.BadRequest("'response_format' must be url or b64_json.", "response_format");
        }
        var request = new ImageRequest
        {
            Model = model,
            Prompt = prompt,
            N = n,
            Size = OpenAiChatCodec.String(body["size"], "size"),
            Quality = OpenAiChatCodec.String(body["quality"], "quality"),
            Style = OpenAiChatCodec.String(body["style"], "style"),
            ResponseFormat = format,
        };
        var estimate = new CallEstimate
        {
            PromptTokens = TokenEstimator.FromCharacters(prompt.Length),
            Images = n,
            ImageSize = request.Size,
            ImageQuality = request.Quality,
            Parameters = Parameters(body, "n", "size", "quality", "style", "response_format"),
        };

        var call = services.Pipeline.CreateContext(context, surface, model, ModelType.Image, streaming: false);
        var candidates = await services.Pipeline.ResolveAsync(model, ModelType.Image, context.RequestAborted);
        await services.Pipeline.RunAsync(context, call, estimate, candidates, async (attempt, ct) =>
        {
            var response = await ImageCalls.GenerateAsync(services.Services, attempt, request, ct);
            attempt.Committed = true;
            var data = new JsonArray(response.Images.Select(i =>
            {
                var o = new JsonObject();
                if (i.Url is not null) { o["url"] = i.Url; }
                if (i.Base64Json is not null) { o["b64_json"] = i.Base64Json; }
                if (i.RevisedPrompt is not null) { o["revised_prompt"] = i.RevisedPrompt; }
                return (JsonNode?)o;
            }).ToArray());
            await Results.Json(new JsonObject { ["created"] = response.Created, ["data"] = data }).ExecuteAsync(context);
            return new AttemptResult
            {
                Usage = response.Usage ?? new TokenUsage { InputTokens = estimate.PromptTokens },
                UsageEstimated = response.Usage is null,
                Images = response.Images.Count,
                CallerFirstByteAt = System.Diagnostics.Stopwatch.GetTimestamp(),
            };
        }, _ => Task.CompletedTask);
        return Results.Empty;
    }

    private static async Task<IResult> ListModelsAsync(GatewayServices services, CancellationToken cancellationToken)
    {
        var models = await services.Catalog.ListAsync(null, cancellationToken);
        return Results.Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray(models.Select(m => (JsonNode?)new JsonObject
            {
                ["id"] = m.PublicName,
                ["object"] = "model",
                ["created"] = 0,
                ["owned_by"] = m.Provider,
            }).ToArray()),
        });
    }

    /// <summary>The model parameters worth keeping on the call record.</summary>
    internal static JsonObject Parameters(JsonObject body, params string[] names)
    {
        var o = new JsonObject();
        foreach (var name in names)
        {
            if (body[name] is JsonNode value)
            {
                o[name] = value.DeepClone();
            }
        }
        return o;
    }
}

/// <summary>OpenAI's chat answer: a <c>chat.completion</c>, or <c>chat.completion.chunk</c> events ending in <c>[DONE]</c>.</summary>
internal sealed class OpenAiChatWriter(HttpContext context, long created, bool wantsUsage) : IChatAnswerWriter
{
    private readonly string _id = $"chatcmpl-{Guid.NewGuid():N}";
    private bool _first = true;
    private bool _finishSent;

    public SseResponse Sse { get; } = new(context);

    public Task WriteResponseAsync(ChatResponse response, ModelTarget target) =>
        Results.Json(OpenAiChatCodec.WriteResponse(response, ModelName(response.Model, target), created)).ExecuteAsync(context);

    public Task WriteUpdateAsync(ChatStreamUpdate update, ModelTarget target)
    {
        _finishSent |= update.FinishReason is not null;
        var chunk = OpenAiChatCodec.WriteChunk(update, _id, ModelName(update.Model, target), created, _first);
        _first = false;
        return Sse.WriteDataAsync(chunk);
    }

    public async Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target)
    {
        if (!_finishSent)
        {
            await WriteUpdateAsync(new ChatStreamUpdate { FinishReason = finishReason ?? FinishReason.Stop }, target);
        }
        if (wantsUsage)
        {
            await Sse.WriteDataAsync(OpenAiChatCodec.WriteUsageChunk(usage, _id, target.Model, created));
        }
        await Sse.WriteDataAsync("[DONE]");
    }

    public Task WriteStreamErrorAsync(string message) =>
        Sse.WriteDataAsync(new JsonObject { ["error"] = new JsonObject { ["message"] = message, ["type"] = "api_error", ["param"] = null, ["code"] = "provider_error" } });

    private static string ModelName(string? reported, ModelTarget target) => string.IsNullOrEmpty(reported) ? target.Model : reported;
}
