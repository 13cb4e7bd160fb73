namespace AigneHub.Api.Providers;

/// <summary>A video to generate. <see cref="Size"/> is <c>{width}x{height}</c> (OpenAI's spelling); null fields take the provider's defaults.</summary>
public sealed record VideoRequest
{
    public required string Model { get; init; }

    public required string Prompt { get; init; }

    /// <summary>The length asked for, in whole seconds.</summary>
    public int? Seconds { get; init; }

    public string? Size { get; init; }
}

public enum VideoJobStatus
{
    Queued,
    InProgress,
    Completed,
    Failed,
}

/// <summary>
/// A provider's video job as it last reported it: its id (OpenAI's <c>video_…</c>, Gemini's operation name), status,
/// progress (0–100, when reported), the seconds and size it produces, why it failed, and for Gemini the address of
/// the finished video.
/// </summary>
public sealed record VideoJob(string Id, VideoJobStatus Status)
{
    public int? Progress { get; init; }

    /// <summary>The length of the video the job makes (OpenAI reports it; for Gemini the length asked for).</summary>
    public double? Seconds { get; init; }

    public string? Size { get; init; }

    public string? Error { get; init; }

    /// <summary>Where the finished video is fetched (Gemini's <c>video.uri</c>); null when the provider serves it by job id.</summary>
    public Uri? ContentUri { get; init; }

    public bool Done => Status is VideoJobStatus.Completed or VideoJobStatus.Failed;
}

/// <summary>A finished video, whole in memory (bounded by <see cref="ProviderHttpOptions.MaxResponseBytes"/>).</summary>
public sealed record VideoContent(ReadOnlyMemory<byte> Bytes, string ContentType);

/// <summary>
/// A provider's video generation: a long job submitted, polled until done, then its content fetched. Errors are
/// <see cref="ProviderException"/>s; a job that ends as failed is not an exception (its <see cref="VideoJob.Error"/> says why).
/// </summary>
public interface IVideoAdapter
{
    Task<VideoJob> SubmitAsync(ProviderEndpoint endpoint, VideoRequest request, CancellationToken cancellationToken);

    /// <param name="job">The job as last seen (its id, and what the submission knew: the seconds asked for).</param>
    Task<VideoJob> PollAsync(ProviderEndpoint endpoint, VideoJob job, CancellationToken cancellationToken);

    Task<VideoContent> DownloadAsync(ProviderEndpoint endpoint, VideoJob job, CancellationToken cancellationToken);
}
