using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// OpenAI's video API (Sora, <see cref="ProviderKind.Video"/>): <c>POST {baseUrl}videos</c> (JSON: model, prompt,
/// <c>seconds</c> and <c>size</c> as strings) answers the job; <c>GET videos/{id}</c> its status
/// (<c>queued</c>, <c>in_progress</c>, <c>completed</c>, <c>failed</c> with <c>error.message</c>), <c>progress</c>,
/// <c>seconds</c> and <c>size</c>; <c>GET videos/{id}/content</c> the MP4.
/// Limitations: no <c>input_reference</c> (image-to-video) and no remix; the <c>thumbnail</c>/<c>spritesheet</c>
/// variants are not fetched; Azure OpenAI's video jobs (a different path) are not served.
/// </summary>
public sealed class OpenAiVideoAdapter(ProviderHttp http) : IVideoAdapter
{
    public async Task<VideoJob> SubmitAsync(ProviderEndpoint endpoint, VideoRequest request, CancellationToken cancellationToken)
    {
        var payload = new JsonObject { ["model"] = request.Model, ["prompt"] = request.Prompt };
        if (request.Seconds is int seconds) { payload["seconds"] = seconds.ToString(CultureInfo.InvariantCulture); }
        if (request.Size is not null) { payload["size"] = request.Size; }
        using var message = OpenAiRequests.Post(endpoint, "videos", payload);
        return Job(endpoint, await http.PostJsonAsync(endpoint, message, cancellationToken));
    }

    public async Task<VideoJob> PollAsync(ProviderEndpoint endpoint, VideoJob job, CancellationToken cancellationToken)
    {
        using var message = OpenAiRequests.Get(endpoint, $"videos/{Uri.EscapeDataString(job.Id)}", "application/json");
        return Job(endpoint, await http.PostJsonAsync(endpoint, message, cancellationToken));
    }

    public async Task<VideoContent> DownloadAsync(ProviderEndpoint endpoint, VideoJob job, CancellationToken cancellationToken)
    {
        using var message = OpenAiRequests.Get(endpoint, $"videos/{Uri.EscapeDataString(job.Id)}/content", "*/*");
        var (bytes, contentType) = await http.GetBytesAsync(endpoint, message, cancellationToken);
        return new VideoContent(bytes, contentType ?? "video/mp4");
    }

    private static VideoJob Job(ProviderEndpoint endpoint, JsonNode node)
    {
        if (node is not JsonObject o || o["id"] is not JsonValue id || id.GetValueKind() != JsonValueKind.String)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null, $"{endpoint.Provider} sent a video job without an id.");
        }
        var status = (string?)o["status"] switch
        {
            "queued" => VideoJobStatus.Queued,
            "in_progress" => VideoJobStatus.InProgress,
            "completed" => VideoJobStatus.Completed,
            "failed" => VideoJobStatus.Failed,
            var other => throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                $"{endpoint.Provider} sent a video job with status '{other}'."),
        };
        return new VideoJob(id.GetValue<string>(), status)
        {
            Progress = o["progress"] is JsonValue p && p.GetValueKind() == JsonValueKind.Number ? (int)Math.Clamp(p.GetValue<double>(), 0, 100) : null,
            Seconds = OpenAiRequests.Seconds(o["seconds"]),
            Size = o["size"] is JsonValue s && s.GetValueKind() == JsonValueKind.String ? s.GetValue<string>() : null,
            Error = o["error"] is JsonObject error ? (string?)error["message"] ?? "The video job failed." : null,
        };
    }
}
