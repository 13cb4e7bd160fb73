using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Gemini;

/// <summary>
/// Veo through the Gemini API: <c>POST {baseUrl}models/{model}:predictLongRunning</c>
/// (<c>{instances:[{prompt}], parameters:{durationSeconds, aspectRatio, resolution}}</c>) answers an operation
/// <c>{name}</c>; <c>GET {baseUrl}{name}</c> until <c>done</c>, then <c>error</c> or
/// <c>response.generateVideoResponse.generatedSamples[0].video.uri</c>, fetched with the key.
/// Limitations: the size maps to an aspect ratio (16:9 or 9:16 by orientation) and a resolution (720p, 1080p from a
/// side of 1080 or more); image-to-video, reference images, <c>negativePrompt</c> and several samples are not
/// offered; Veo reports no duration, so the seconds delivered are those asked for (else <see cref="DefaultSeconds"/>);
/// the video's uri gets the key only when it is on the provider's own host.
/// </summary>
public sealed class GeminiVideoAdapter(ProviderHttp http) : IVideoAdapter
{
    /// <summary>Veo's length when none is asked for.</summary>
    public const int DefaultSeconds = 8;

    public async Task<VideoJob> SubmitAsync(ProviderEndpoint endpoint, VideoRequest request, CancellationToken cancellationToken)
    {
        var parameters = new JsonObject();
        if (request.Seconds is int seconds) { parameters["durationSeconds"] = seconds; }
        if (MediaSize.Dimensions(request.Size) is var (width, height))
        {
            parameters["aspectRatio"] = width >= height ? "16:9" : "9:16";
            parameters["resolution"] = Math.Min(width, height) >= 1080 ? "1080p" : "720p";
        }
        var body = new JsonObject { ["instances"] = new JsonArray(new JsonObject { ["prompt"] = request.Prompt }) };
        if (parameters.Count > 0) { body["parameters"] = parameters; }
        using var message = GeminiHttp.CreateRequest(endpoint, request.Model, "predictLongRunning", body);
        var answer = await GeminiHttp.PostJsonAsync(http, endpoint, message, cancellationToken);
        var name = answer is JsonObject o && o["name"] is JsonValue n && n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>()
            : throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null, $"{endpoint.Provider} sent an operation without a name.");
        return Read(endpoint, answer.AsObject(), new VideoJob(name, VideoJobStatus.Queued) { Seconds = request.Seconds ?? DefaultSeconds, Size = request.Size });
    }

    public async Task<VideoJob> PollAsync(ProviderEndpoint endpoint, VideoJob job, CancellationToken cancellationToken)
    {
        using var message = Get(endpoint, new Uri(endpoint.BaseUrl, job.Id));
        var answer = await GeminiHttp.PostJsonAsync(http, endpoint, message, cancellationToken);
        return Read(endpoint, answer as JsonObject
            ?? throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null, $"{endpoint.Provider} sent an operation that is not an object."), job);
    }

    public async Task<VideoContent> DownloadAsync(ProviderEndpoint endpoint, VideoJob job, CancellationToken cancellationToken)
    {
        var uri = job.ContentUri ?? throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null, $"{endpoint.Provider} named no video to fetch.");
        using var message = Get(endpoint, uri);
        var (bytes, contentType) = await http.GetBytesAsync(endpoint, message, cancellationToken);
        return new VideoContent(bytes, contentType is null or "application/octet-stream" ? "video/mp4" : contentType);
    }

    private static HttpRequestMessage Get(ProviderEndpoint endpoint, Uri uri)
    {
        var message = new HttpRequestMessage(HttpMethod.Get, uri);
        // The key goes only where the provider itself is: a uri elsewhere is fetched without it.
        if (endpoint.ApiKey is { Length: > 0 } key && Uri.Compare(uri, endpoint.BaseUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
        {
            message.Headers.TryAddWithoutValidation("x-goog-api-key", key);
        }
        return message;
    }

    private static VideoJob Read(ProviderEndpoint endpoint, JsonObject operation, VideoJob last)
    {
        if (operation["done"] is not JsonValue done || done.GetValueKind() != JsonValueKind.True)
        {
            var progress = operation["metadata"]?["progressPercent"] is JsonValue p && p.GetValueKind() == JsonValueKind.Number ? (int?)Math.Clamp(p.GetValue<double>(), 0, 100) : null;
            return last with { Status = last.Status == VideoJobStatus.Queued && progress is null ? VideoJobStatus.Queued : VideoJobStatus.InProgress, Progress = progress ?? last.Progress };
        }
        if (operation["error"] is JsonObject error)
        {
            return last with { Status = VideoJobStatus.Failed, Error = (string?)error["message"] ?? "The video operation failed." };
        }
        var generated = operation["response"]?["generateVideoResponse"] as JsonObject;
        var uri = (generated?["generatedSamples"] as JsonArray)?.FirstOrDefault()?["video"]?["uri"] is JsonValue u && u.GetValueKind() == JsonValueKind.String
            && Uri.TryCreate(u.GetValue<string>(), UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http" ? parsed : null;
        if (uri is null)
        {
            // Veo filters a sample it will not show (raiMediaFilteredReasons) and answers done with none.
            var reasons = (generated?["raiMediaFilteredReasons"] as JsonArray)?.Select(r => r?.ToString()).Where(r => !string.IsNullOrEmpty(r));
            return last with
            {
                Status = VideoJobStatus.Failed,
                Error = reasons?.Any() == true ? $"{endpoint.Provider} filtered the video: {string.Join("; ", reasons)}" : $"{endpoint.Provider} produced no video.",
            };
        }
        return last with { Status = VideoJobStatus.Completed, Progress = 100, ContentUri = uri };
    }
}
