using System.Collections.Concurrent;
using AigneHub.Api.Providers;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>What the hub knows of a followed job, as one immutable snapshot (replaced on each poll).</summary>
public sealed record FollowedVideoState(VideoJobStatus Status, int Progress, string? Size, decimal? Seconds)
{
    public string? Error { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>The finished video, kept until the entry expires (or is let go for room).</summary>
    public VideoContent? Content { get; init; }

    /// <summary>The video was finished but its content was let go to stay within
    /// <see cref="VideoOptions.MaxKeptVideoBytes"/>.</summary>
    public bool ContentDropped { get; init; }
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
/// each holds a provider job, its poll loop and, once done, the video in memory — at most
/// <see cref="VideoOptions.MaxKeptVideoBytes"/> of finished videos in all, the oldest let go first. In-process: a
/// retrieval must reach the replica that created the job.
/// </summary>
public sealed class VideoJobs(IOptions<VideoOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, FollowedVideo> _jobs = new(StringComparer.Ordinal);
    private readonly Lock _keeping = new();
    private int _following;
    private long _keptBytes;

    /// <summary>Bytes of finished videos held now.</summary>
    public long KeptBytes => Interlocked.Read(ref _keptBytes);

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
        Sweep();
        _jobs[video.Id] = video;
    }

    /// <summary>The job ended with <paramref name="state"/>; its content is kept, and the oldest finished videos'
    /// content let go while the kept bytes exceed the bound (the newest always stays).</summary>
    public void Finish(FollowedVideo video, FollowedVideoState state)
    {
        Sweep();
        lock (_keeping)
        {
            video.Update(state);
            _keptBytes += state.Content?.Bytes.Length ?? 0;
            if (_keptBytes <= options.Value.MaxKeptVideoBytes)
            {
                return;
            }
            foreach (var old in _jobs.Values.Where(v => v != video && v.State.Content is not null).OrderBy(v => v.State.CompletedAt).ToList())
            {
                LetGo(old);
                if (_keptBytes <= options.Value.MaxKeptVideoBytes)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Forgets the jobs that finished longer than the retention ago, and their content.</summary>
    private void Sweep()
    {
        var expired = time.GetUtcNow() - options.Value.Retention;
        foreach (var (id, old) in _jobs)
        {
            if (old.State.CompletedAt < expired && _jobs.TryRemove(id, out _))
            {
                lock (_keeping)
                {
                    LetGo(old);
                }
            }
        }
    }

    private void LetGo(FollowedVideo video)
    {
        if (video.State is { Content: { } content } state)
        {
            video.Update(state with { Content = null, ContentDropped = true });
            _keptBytes -= content.Bytes.Length;
        }
    }

    /// <summary>The job, only for the user who created it (anyone else finds nothing).</summary>
    public FollowedVideo? Find(string id, Guid? userId) =>
        _jobs.TryGetValue(id, out var video) && video.OwnerId == userId
            && !(video.State.CompletedAt < time.GetUtcNow() - options.Value.Retention) ? video : null;
}
