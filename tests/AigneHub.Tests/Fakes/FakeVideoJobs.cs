using System.Collections.Concurrent;
using System.Text;

namespace AigneHub.Tests.Fakes;

/// <summary>One scripted video job: done after <see cref="PollsBeforeDone"/> polls (and not before <see cref="Hold"/>
/// is released, when set), failed with <see cref="FailMessage"/> when set, producing <see cref="Seconds"/>.</summary>
public sealed class FakeVideoJob
{
    public int PollsBeforeDone { get; init; } = 2;

    public string? FailMessage { get; init; }

    /// <summary>The seconds the job reports it produced (OpenAI); null: those asked for, else the wire's default.</summary>
    public string? Seconds { get; init; }

    /// <summary>The video's length in bytes (its id's marker, padded); null: just the marker.</summary>
    public int? ContentBytes { get; init; }

    /// <summary>The bytes of this job's finished video.</summary>
    public byte[] Content()
    {
        var marker = FakeVideoJobs.ContentFor(Id);
        if (ContentBytes is not { } length || length <= marker.Length)
        {
            return marker;
        }
        var bytes = new byte[length];
        marker.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>While not completed, every poll answers the job as still running.</summary>
    public TaskCompletionSource? Hold { get; init; }

    public string Id { get; internal set; } = "";

    public string? RequestedSeconds { get; internal set; }

    public string? Size { get; internal set; }

    public int Polls { get; internal set; }

    /// <summary>Whether this poll finds the job done (counts the poll).</summary>
    internal bool PollDone()
    {
        Polls++;
        return Polls >= PollsBeforeDone && Hold?.Task.IsCompleted != false;
    }
}

/// <summary>The video jobs of one fake provider: the next job's script, and every job by id.</summary>
public sealed class FakeVideoJobs
{
    private readonly ConcurrentQueue<FakeVideoJob> _scripted = new();
    private readonly ConcurrentDictionary<string, FakeVideoJob> _jobs = new();
    private int _count;

    public void Enqueue(FakeVideoJob job) => _scripted.Enqueue(job);

    public IReadOnlyCollection<FakeVideoJob> All => [.. _jobs.Values];

    public FakeVideoJob? Find(string id) => _jobs.GetValueOrDefault(id);

    internal FakeVideoJob Start(string prefix, string? seconds, string? size)
    {
        var job = _scripted.TryDequeue(out var next) ? next : new FakeVideoJob();
        job.Id = $"{prefix}{Interlocked.Increment(ref _count)}";
        job.RequestedSeconds = seconds;
        job.Size = size;
        _jobs[job.Id] = job;
        return job;
    }

    /// <summary>The bytes of a finished job's video.</summary>
    public static byte[] ContentFor(string id) => Encoding.UTF8.GetBytes($"fake-video:{id}");
}
