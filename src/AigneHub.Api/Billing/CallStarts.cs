using System.Threading.Channels;
using AigneHub.Data.Billing;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// Group commit of call starts. Every admitted call writes its <c>processing</c> record (and, billed, its
/// reservation) before any provider is called; one statement and one commit per call makes the database — its
/// commits, and on one busy account its row lock — the ceiling of the whole gateway. Here the starts that arrive
/// while one batch is committing wait and go as the next batch: ONE statement, one commit, one lock per account
/// (<see cref="BillingSql.StartCallsAsync"/>), and every waiter is released when that commit is durable — so the
/// record is still written before its provider is called. A lone start (no one else waiting) goes by the
/// single-call statement, so a quiet gateway pays nothing for this.
/// <para>A caller that leaves before its start is taken into a batch is dropped (nothing written); once taken, it
/// waits for the commit whatever its token says, so no record is ever written for a caller that was told it failed.
/// A batch that fails on a transient error fails each of its callers with that error (the statement changed nothing;
/// they answer 503 as a single start would); any other error re-runs its starts one by one, so one bad row refuses only
/// its own call. A reserved start the batch refused is re-run alone: the batch is conservative (see
/// <c>StartBatchSql</c>), the single statement is the rule.</para>
/// </summary>
internal sealed partial class CallStarts : IAsyncDisposable
{
    /// <summary>Most starts in one statement (the rest wait for the next).</summary>
    internal const int MaxBatch = 128;

    private readonly NpgsqlDataSource _database;
    private readonly ILogger<CallStarts> _logger;
    private readonly Channel<Start> _queue = Channel.CreateUnbounded<Start>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    public CallStarts(NpgsqlDataSource database, ILogger<CallStarts> logger)
    {
        _database = database;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Writes the call's <c>processing</c> record, reserving when it carries a reservation; false when the
    /// account's available balance does not cover it (nothing written).</summary>
    public async Task<bool> StartAsync(StartCallCommand call, CancellationToken cancellationToken)
    {
        var start = new Start(call, cancellationToken);
        if (!_queue.Writer.TryWrite(start))
        {
            // Shutting down (the host disposed us): write it directly.
            return await BillingSql.StartCallAsync(_database, call, cancellationToken);
        }
        return await start.Done.Task;
    }

    private async Task RunAsync()
    {
        var batch = new List<Start>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var start))
            {
                if (start.CancellationToken.IsCancellationRequested)
                {
                    start.Done.TrySetCanceled(start.CancellationToken);
                    continue;
                }
                batch.Add(start);
            }
            switch (batch.Count)
            {
                case 0:
                    break;
                case 1:
                    await RunAloneAsync(batch[0]);
                    break;
                default:
                    await RunBatchAsync(batch);
                    break;
            }
        }
    }

    private async Task RunBatchAsync(List<Start> batch)
    {
        HashSet<Guid> written;
        try
        {
            var calls = new StartCallCommand[batch.Count];
            for (var i = 0; i < calls.Length; i++)
            {
                calls[i] = batch[i].Call;
            }
            written = await BillingSql.StartCallsAsync(_database, calls, CancellationToken.None);
        }
        catch (Exception ex) when (PendingSettlements.Retryable(ex))
        {
            foreach (var start in batch)
            {
                start.Done.TrySetException(ex);
            }
            return;
        }
        catch (Exception ex)
        {
            Log.BatchFailed(_logger, ex, batch.Count);
            foreach (var start in batch)
            {
                await RunAloneAsync(start);
            }
            return;
        }
        foreach (var start in batch)
        {
            if (written.Contains(start.Call.Id))
            {
                start.Done.TrySetResult(true);
            }
            else
            {
                // Refused for credits by the batch's running sum: the single statement decides.
                await RunAloneAsync(start);
            }
        }
    }

    private async Task RunAloneAsync(Start start)
    {
        try
        {
            start.Done.TrySetResult(await BillingSql.StartCallAsync(_database, start.Call, CancellationToken.None));
        }
        catch (Exception ex)
        {
            start.Done.TrySetException(ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private sealed record Start(StartCallCommand Call, CancellationToken CancellationToken)
    {
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "A batch of {Count} call starts failed; its starts are written one by one.")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count);
    }
}
