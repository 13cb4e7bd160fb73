using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Gateway.Protocols.Aigne;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Protocols.OpenAi;

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
            .WithGatewayErrors(OpenAiErrors.Shape);

        group.MapPost("/chat/completions", (HttpContext context, GatewayServices services) => ChatCompletionsAsync(context, services, surface))
            .WithName($"{surface}ChatCompletions")
            .WithSummary("Chat completion (OpenAI wire format), streaming or not.");
        group.MapPost("/embeddings", (HttpContext context, GatewayServices services) => EmbeddingsAsync(context, services, surface))
            .WithName($"{surface}Embeddings")
            .WithSummary("Embeddings: OpenAI wire format (float or base64), or the AIGNE envelope {input:{input, modelOptions}}.");
        group.MapPost("/images/generations", (HttpContext context, GatewayServices services) => ImagesAsync(context, services, surface))
            .WithName($"{surface}ImageGenerations")
            .WithSummary("Image generation (OpenAI wire format; url or b64_json).");
        group.MapPost("/images/edits", (HttpContext context, GatewayServices services) => ImageEditsAsync(context, services, surface))
            .WithName($"{surface}ImageEdits")
            .WithSummary("Image edit (multipart: image or image[], optional mask; OpenAI wire format).")
            .DisableAntiforgery();
        group.MapPost("/audio/speech", (HttpContext context, GatewayServices services) => SpeechAsync(context, services, surface))
            .WithName($"{surface}AudioSpeech")
            .WithSummary("Text to speech (OpenAI wire format): the audio bytes streamed back as they arrive, in the provider's content type.");
        group.MapPost("/audio/transcriptions", (HttpContext context, GatewayServices services) => TranscriptionAsync(context, services, surface, AudioOperations.Transcription))
            .WithName($"{surface}AudioTranscriptions")
            .WithSummary("Speech to text (multipart upload, OpenAI wire format; response_format json, text, srt, vtt or verbose_json).")
            .DisableAntiforgery();
        group.MapPost("/audio/translations", (HttpContext context, GatewayServices services) => TranscriptionAsync(context, services, surface, AudioOperations.Translation))
            .WithName($"{surface}AudioTranslations")
            .WithSummary("Speech to English text (multipart upload, OpenAI wire format).")
            .DisableAntiforgery();
        if (surface == ApiSurface.V2)
        {
            OpenAiVideos.Map(group);
        }
        group.MapGet("/models", ListModelsAsync)
            .WithName($"{surface}ListModels")
            .WithSummary("Models callers can name: provider/model, and the exact model aliases.");

        // Any other path under the prefix is OpenAI's "Invalid URL" 404 in its error shape (an SDK pointed at a route
        // the hub lacks reads why), for anyone: it says nothing a route list does not. Every mapped route wins over it.
        app.MapFallback($"{prefix}/{{**rest}}", (HttpRequest request) => OpenAiErrors.Shape(
                new GatewayException(404, "invalid_request_error", $"Invalid URL ({request.Method} {request.Path})", code: "unknown_url")))
            .WithName($"{surface}UnknownRoute")
            .AllowAnonymous()
            .ExcludeFromDescription();
        return group;
    }

    private static async Task<IResult> ChatCompletionsAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        var body = await CallerBody.ReadAsync(context);
        var chat = OpenAiChatRequest.Read(body);
        var writer = new OpenAiChatWriter(context, services.Time.GetUtcNow().ToUnixTimeSeconds(), OpenAiChatRequest.WantsUsage(body, chat.Streaming));
        await services.Chat.RunAsync(context, surface, chat, writer);
        return Results.Empty;
    }

    private static async Task<IResult> EmbeddingsAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        var body = await CallerBody.ReadAsync(context);
        if (surface == ApiSurface.V2 && body["input"] is JsonObject)
        {
            // The AIGNE envelope shares this path; its refusals are written in its own shape.
            try
            {
                return await AigneApi.EmbeddingsAsync(context, services, body);
            }
            catch (GatewayException ex)
            {
                return AigneErrors.Shape(ex);
            }
        }
        var (request, base64) = OpenAiEmbeddings.Read(body);
        await services.Embeddings.RunAsync(context, surface, request, new OpenAiEmbeddingWriter(context, base64));
        return Results.Empty;
    }

    private static async Task<IResult> ImagesAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        var (request, parameters) = OpenAiImages.Read(await CallerBody.ReadAsync(context));
        await services.Images.RunAsync(context, surface, request, parameters, new OpenAiImageWriter(context));
        return Results.Empty;
    }

    private static async Task<IResult> ImageEditsAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        var (request, parameters) = OpenAiImages.ReadEdit(await CallerUpload.ReadAsync(context, ["mask"], ["image", "image[]"]));
        await services.Images.EditAsync(context, surface, request, parameters, new OpenAiImageWriter(context));
        return Results.Empty;
    }

    private static async Task<IResult> SpeechAsync(HttpContext context, GatewayServices services, ApiSurface surface)
    {
        var (request, parameters) = OpenAiAudio.ReadSpeech(await CallerBody.ReadAsync(context));
        await services.Audio.SpeakAsync(context, surface, request, parameters, new OpenAiSpeechWriter(context));
        return Results.Empty;
    }

    private static async Task<IResult> TranscriptionAsync(HttpContext context, GatewayServices services, ApiSurface surface, AudioOperations operation)
    {
        var call = OpenAiAudio.ReadTranscription(await CallerUpload.ReadAsync(context, ["file"]), operation);
        await services.Audio.TranscribeAsync(context, surface, call, new OpenAiTranscriptionWriter(context));
        return Results.Empty;
    }

    private static async Task<IResult> ListModelsAsync(GatewayServices services, CancellationToken cancellationToken)
    {
        var models = await services.Catalog.ListAsync(null, cancellationToken);
        var aliases = await services.Catalog.ListAliasesAsync(cancellationToken);
        return Results.Json(new JsonObject
        {
            ["object"] = "list",
            ["data"] = new JsonArray([
                .. models.Select(m => Model(m.PublicName, m.Provider)),
                .. aliases.Select(a => Model(a.Name, a.Provider)),
            ]),
        });

        static JsonNode Model(string id, string owner) => new JsonObject
        {
            ["id"] = id,
            ["object"] = "model",
            ["created"] = 0,
            ["owned_by"] = owner,
        };
    }
}
