using System.Globalization;
using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Protocols.OpenAi;

/// <summary>
/// OpenAI's videos API on <c>/api/v2</c>: <c>POST /videos</c> (JSON or multipart: model, prompt, seconds, size)
/// answers the job at once and the hub follows it (<see cref="VideoRunner.CreateAsync"/>); <c>GET /videos/{id}</c>
/// answers the hub's view of it and <c>GET /videos/{id}/content</c> the finished MP4, only to the user who created
/// it. Not offered: <c>input_reference</c>, remix, list, delete, the thumbnail and spritesheet variants.
/// </summary>
internal static class OpenAiVideos
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapPost("/videos", CreateAsync)
            .WithName("V2CreateVideo")
            .WithSummary("Video generation job (OpenAI wire format): answered at once; the hub follows the job and settles the call when it ends.")
            .DisableAntiforgery();
        group.MapGet("/videos/{id}", Retrieve)
            .WithName("V2RetrieveVideo")
            .WithSummary("The hub's view of a video job the caller created.");
        group.MapGet("/videos/{id}/content", Content)
            .WithName("V2VideoContent")
            .WithSummary("The finished video (MP4) of a job the caller created.");
    }

    private static async Task<IResult> CreateAsync(HttpContext context, GatewayServices services)
    {
        var request = await ReadCreateAsync(context);
        await services.Video.CreateAsync(context, ApiSurface.V2, request, VideoInput.Parameters(request), new OpenAiVideoJobWriter(context));
        return Results.Empty;
    }

    private static IResult Retrieve(HttpContext context, VideoJobs jobs, string id) => Results.Json(VideoObject(Find(context, jobs, id)));

    private static IResult Content(HttpContext context, VideoJobs jobs, string id)
    {
        var video = Find(context, jobs, id);
        if (context.Request.Query["variant"] is { Count: > 0 } variant && variant.ToString() != "video")
        {
            throw GatewayException.BadRequest("Only the 'video' variant is offered.", "variant");
        }
        if (video.State.ContentDropped)
        {
            throw new GatewayException(410, "invalid_request_error", $"Video '{id}' is no longer kept by the hub: finished videos are let go, oldest first, to bound its memory.", code: "video_expired");
        }
        if (video.State.Content is not { } content)
        {
            throw new GatewayException(404, "invalid_request_error", $"Video '{id}' has no content: it is {Status(video.State.Status)}.", code: "video_not_ready");
        }
        return Results.Bytes(content.Bytes, content.ContentType);
    }

    private static FollowedVideo Find(HttpContext context, VideoJobs jobs, string id) =>
        jobs.Find(id, context.User.GetUserId())
        ?? throw new GatewayException(404, "invalid_request_error", $"Video with id '{id}' not found.", "id", "not_found");

    /// <summary>The create body, JSON or a multipart form (what the OpenAI SDKs send), with the same fields.</summary>
    private static async Task<VideoRequest> ReadCreateAsync(HttpContext context)
    {
        JsonFields body;
        if (context.Request.HasFormContentType)
        {
            var form = await CallerUpload.ReadAsync(context, ["input_reference"]);
            if (form.Files.Count > 0)
            {
                throw NoReference();
            }
            var fields = new JsonObject();
            foreach (var name in (string[])["model", "prompt", "seconds", "size"])
            {
                if (form.Single(name) is { } value)
                {
                    fields[name] = value;
                }
            }
            body = new JsonFields(fields, "");
        }
        else
        {
            body = await CallerBody.ReadAsync(context);
        }
        return Read(body);
    }

    /// <summary>The create's fields (a form's as JSON strings): model (else <see cref="VideoInput.DefaultModel"/>), prompt, seconds, size.</summary>
    public static VideoRequest Read(JsonFields body)
    {
        if (body["input_reference"] is not null)
        {
            throw NoReference();
        }
        var model = body["model"] is JsonNode m ? JsonFields.RequireModel(m, "model") : VideoInput.DefaultModel;
        return VideoInput.Read(body, model);
    }

    private static GatewayException NoReference() => GatewayException.BadRequest("'input_reference' is not supported: AigneHub generates video from the prompt alone.", "input_reference");

    /// <summary>OpenAI's video object for the hub's view of the job (seconds and size as strings, like OpenAI's).</summary>
    internal static JsonObject VideoObject(FollowedVideo video)
    {
        var state = video.State;
        var o = new JsonObject
        {
            ["id"] = video.Id,
            ["object"] = "video",
            ["model"] = video.Model,
            ["status"] = Status(state.Status),
            ["progress"] = state.Status == VideoJobStatus.Completed ? 100 : state.Progress,
            ["created_at"] = video.CreatedAt.ToUnixTimeSeconds(),
            ["completed_at"] = state.CompletedAt?.ToUnixTimeSeconds(),
            ["size"] = state.Size,
            ["seconds"] = state.Seconds?.ToString("0.###", CultureInfo.InvariantCulture),
        };
        if (state.Error is { } error)
        {
            o["error"] = new JsonObject { ["code"] = "video_generation_failed", ["message"] = CallerErrorText.Sanitize(error) };
        }
        return o;
    }

    private static string Status(VideoJobStatus status) => status switch
    {
        VideoJobStatus.Queued => "queued",
        VideoJobStatus.InProgress => "in_progress",
        VideoJobStatus.Completed => "completed",
        _ => "failed",
    };
}

/// <summary>The create's answer: the job as the hub follows it.</summary>
internal sealed class OpenAiVideoJobWriter(HttpContext context) : IVideoJobWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAcceptedAsync(FollowedVideo video) => Caller.WriteJsonAsync(OpenAiVideos.VideoObject(video));
}
