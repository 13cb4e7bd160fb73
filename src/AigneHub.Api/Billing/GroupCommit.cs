using System.Threading.Channels;

namespace AigneHub.Api.Billing;

/// <summary>
/// Group commit: money statements that arrive while one is being written wait and go together as the next batch —
/// ONE round trip and one commit — and every waiter is released when that commit is durable, so each caller still
/// learns its outcome only once it is on disk. A lone statement (nothing at the database, nothing queued) runs alone
/// at once on its caller's own flow, so a quiet gateway pays nothing for this. One loop per process and a gate around
/// the database, so a process has at most one statement of each kind there at a time.
/// <para>A caller that leaves before its statement is taken into a batch is dropped (nothing written). Once taken, the
/// statement runs with the batch; whether its caller may stop waiting is the kind's choice
/// (<see cref="CallerMayLeave"/>): a start's caller waits for the outcome whatever its token says (a record written
/// for a caller that left would be a <c>processing</c> call nobody settles), a settlement's caller may leave when its
/// budget runs out (the settlement is guarded by <c>status = 'processing'</c>, so its retry changes nothing). A batch that fails on a transient error fails each of its callers with that error (the batch changed nothing; each
/// caller handles it as it would its own statement's); any other error re-runs its statements one by one, so one bad
/// row fails only its own caller. The batch may also leave an outcome to the statement run alone (null).</para>
/// </summary>
internal abstract partial class GroupCommit<TItem> : IAsyncDisposable
{
    // Not SingleReader: that channel cannot count what it holds, and SubmitAsync asks whether anything is queued.
    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>();
    private readonly int _maxBatch;
    private readonly ILogger _logger;
    private readonly Task _loop;

    // Held while a statement of this kind is at the database (the loop's batch, or one run alone by its caller), so a
    // process has at most one of each kind there at a time.
    private readonly SemaphoreSlim _gate = new(1, 1);

    protected GroupCommit(int maxBatch, ILogger logger)
    {
        _maxBatch = maxBatch;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Whether a caller whose token is cancelled after its statement was taken into a batch stops waiting.</summary>
    protected abstract bool CallerMayLeave { get; }

    /// <summary>The item's statement, alone.</summary>
    protected abstract Task<bool> RunAloneAsync(TItem item);

    /// <summary>Many items' statements in one transaction: an outcome per item, in order (null: run it alone).</summary>
    protected abstract Task<bool?[]> RunBatchAsync(IReadOnlyList<TItem> items);

    /// <summary>Runs <paramref name="item"/>'s statement in the next batch; its outcome once committed.</summary>
    protected async Task<bool> SubmitAsync(TItem item, CancellationToken cancellationToken)
    {
        // Nothing at the database and nothing queued: the statement runs alone at once, on its caller's own flow, not
        // handed to the loop and back (two thread-pool hops on a quiet gateway). Whatever arrives meanwhile queues, and
        // the loop takes it as the next batch once this one is done. A caller that has already left queues as well,
        // and is dropped there.
        if (_queue.Reader.Count == 0 && !cancellationToken.IsCancellationRequested && _gate.Wait(0))
        {
            var alone = RunAloneHoldingGateAsync(item);
            return CallerMayLeave ? await alone.WaitAsync(cancellationToken) : await alone;
        }
        var entry = new Entry(item, cancellationToken);
        if (!_queue.Writer.TryWrite(entry))
        {
            // Shutting down (the host disposed us): no batch to join.
            return await RunAloneAsync(item);
        }
        return CallerMayLeave ? await entry.Done.Task.WaitAsync(cancellationToken) : await entry.Done.Task;
    }

    private async Task<bool> RunAloneHoldingGateAsync(TItem item)
    {
        try
        {
            return await RunAloneAsync(item);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RunAsync()
    {
        var batch = new List<Entry>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            await _gate.WaitAsync();
            try
            {
                await RunNextBatchAsync(batch);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private async Task RunNextBatchAsync(List<Entry> batch)
    {
        batch.Clear();
        while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var entry))
        {
            if (entry.CancellationToken.IsCancellationRequested)
            {
                entry.Done.TrySetCanceled(entry.CancellationToken);
                continue;
            }
            batch.Add(entry);
        }
        if (batch.Count == 1)
        {
            await CompleteAloneAsync(batch[0]);
        }
        else if (batch.Count > 1)
        {
            await CompleteBatchAsync(batch);
        }
    }

    private async Task CompleteBatchAsync(List<Entry> batch)
    {
        bool?[] outcomes;
        try
        {
            outcomes = await RunBatchAsync(batch.ConvertAll(e => e.Item));
        }
        catch (Exception ex) when (PendingSettlements.Retryable(ex))
        {
            foreach (var entry in batch)
            {
                entry.Done.TrySetException(ex);
            }
            return;
        }
        catch (Exception ex)
        {
            Log.BatchFailed(_logger, ex, batch.Count, typeof(TItem).Name);
            foreach (var entry in batch)
            {
                await CompleteAloneAsync(entry);
            }
            return;
        }
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] is { } outcome)
            {
                batch[i].Done.TrySetResult(outcome);
            }
            else
            {
                await CompleteAloneAsync(batch[i]);
            }
        }
    }

    private async Task CompleteAloneAsync(Entry entry)
    {
        try
        {
            entry.Done.TrySetResult(await RunAloneAsync(entry.Item));
        }
        catch (Exception ex)
        {
            entry.Done.TrySetException(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private sealed record Entry(TItem Item, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "A batch of {Count} {Kind} statements failed; its statements are run one by one.")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count, string kind);
    }
}
