using AigneHub.Data.Billing;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// Group commit of call starts (<see cref="GroupCommit{TItem}"/>). Every admitted call writes its <c>processing</c>
/// record (and, billed, its reservation) before any provider is called; one statement and one commit per call made
/// the database — its commits, and on one busy account its row lock — the ceiling of the whole gateway. A batch is
/// ONE statement that takes each account's row once (<see cref="BillingSql.StartCallsAsync"/>); the record is still
/// durable before its provider is called. A reserved start the batch refused is re-run alone: the batch is
/// conservative (see <c>StartBatchSql</c>), the single statement is the rule, so admission is exactly what the same
/// starts one after another would get.
/// </summary>
internal sealed class CallStarts(NpgsqlDataSource database, ILogger<CallStarts> logger) : GroupCommit<StartCallCommand>(MaxBatch, logger)
{
    /// <summary>Most starts in one statement (the rest wait for the next).</summary>
    internal const int MaxBatch = 128;

    /// <summary>Writes the call's <c>processing</c> record, reserving when it carries a reservation; false when the
    /// account's available balance does not cover it (nothing written).</summary>
    public Task<bool> StartAsync(StartCallCommand call, CancellationToken cancellationToken) => SubmitAsync(call, cancellationToken);

    // Admitted means a processing record exists: its caller must learn it (and then settle it, as disconnected if it
    // left), never walk away from it.
    protected override bool CallerMayLeave => false;

    protected override Task<bool> RunAloneAsync(StartCallCommand item) => BillingSql.StartCallAsync(database, item, CancellationToken.None);

    protected override async Task<bool?[]> RunBatchAsync(IReadOnlyList<StartCallCommand> items)
    {
        var written = await BillingSql.StartCallsAsync(database, items, CancellationToken.None);
        var outcomes = new bool?[items.Count];
        for (var i = 0; i < outcomes.Length; i++)
        {
            // Not written: refused for credits by the batch's running sum; the single statement decides.
            outcomes[i] = written.Contains(items[i].Id) ? true : null;
        }
        return outcomes;
    }
}
