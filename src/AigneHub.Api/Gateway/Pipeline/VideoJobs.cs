using System.Collections.Concurrent;
using AigneHub.Api.Providers;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>What the hub knows of a followed job, as one immutable snapshot (replaced on each poll).</summary>
public sealed record FollowedVideoState(VideoJobStatus Status, int Progress, string? Size, decimal? Seconds)
{
    public string? Error { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>The finished video, kept until the entry expires.</summary>
    public VideoContent? Content { get; init; }
}

/// <summary>A video job the hub follows for the caller who created it (the OpenAI videos API): the hub's own id
/// (<c>video_</c> + the call id, never the provider's), its owner, and its latest state.</summary>
public sealed class FollowedVideo(string id, Guid? ownerId, string model, DateTimeOffset createdAt, FollowedVideoState state)
{
    private FollowedVideoState _state = state;

    public string Id { get; } = id;

    public Guid? OwnerId { get; } = ownerId;

    /// <summary>The provider's model that makes it.</summary>
    public string Model { get; } = model;

    public DateTimeOffset CreatedAt { get; } = createdAt;

    public FollowedVideoState State => Volatile.Read(ref _state);

    internal void Update(FollowedVideoState state) => Volatile.Write(ref _state, state);
}

/// <summary>
/// The jobs this Api process follows, and those it finished, for <see cref="VideoOptions.Retention"/> after they end
/// (then forgotten, their content with them). At most <see cref="VideoOptions.MaxFollowedJobs"/> are followed at once:
/// each holds a provider job, its poll loop and, once done, the video in memory. In-process: a retrieval must reach
/// the replica that created the job.
/// </summary>
public sealed class VideoJobs(IOptions<VideoOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, FollowedVideo> _jobs = new(StringComparer.Ordinal);
    private int _following;

    /// <summary>Takes one of the follow slots; false when all are taken.</summary>
    public bool TryFollow()
    {
        if (Interlocked.Increment(ref _following) <= options.Value.MaxFollowedJobs)
        {
            return true;
        }
        Interlocked.Decrement(ref _following);
        return false;
    }

    public void Unfollow() => Interlocked.Decrement(ref _following);

    public void Add(FollowedVideo video)
    {
        var expired = time.GetUtcNow() - options.Value.Retention;
        foreach (var (id, old) in _jobs)
        {
            if (old.State.CompletedAt < expired)
            {
                _jobs.TryRemove(id, out _);
            }
        }
        _jobs[video.Id] = video;
    }

    /// <summary>The job, only for the user who created it (anyone else finds nothing).</summary>
    public FollowedVideo? Find(string id, Guid? userId) =>
        _jobs.TryGetValue(id, out var video) && video.OwnerId == userId
            && !(video.State.CompletedAt < time.GetUtcNow() - options.Value.Retention) ? video : null;
}
