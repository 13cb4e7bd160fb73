using AigneHub.Data.Billing;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// Group commit of settlements (<see cref="GroupCommit{TItem}"/>): the settlements that arrive while one is being
/// written go as one transaction — the same guarded statement per call (<see cref="BillingSql.SettleCallsAsync"/>),
/// one round trip, one commit — so one busy account's row is taken once per batch instead of once per call, and its
/// callers no longer queue for it one commit at a time. A batch takes its accounts in one order (uuid order, the
/// order start batches lock them in), so batches of several replicas cannot deadlock on each other.
/// </summary>
internal sealed class CallSettlements(NpgsqlDataSource database, ILogger<CallSettlements> logger)
    : GroupCommit<CallSettlements.Settlement>(MaxBatch, logger)
{
    /// <summary>Most settlements in one transaction.</summary>
    internal const int MaxBatch = 64;

    internal sealed record Settlement(SettleCallCommand Command, Guid? Account);

    /// <summary>Settles the call (see <see cref="BillingSql.SettleCallAsync"/>); false when it was already settled.</summary>
    public Task<bool> SettleAsync(SettleCallCommand command, Guid? account, CancellationToken cancellationToken) =>
        SubmitAsync(new Settlement(command, account), cancellationToken);

    protected override bool CallerMayLeave => true;

    protected override Task<bool> RunAloneAsync(Settlement item) => BillingSql.SettleCallAsync(database, item.Command, CancellationToken.None);

    protected override async Task<bool?[]> RunBatchAsync(IReadOnlyList<Settlement> items)
    {
        // Calls without an account first (they lock no account row), then by account in Postgres's uuid order
        // (its text form, compared ordinally).
        var order = Enumerable.Range(0, items.Count)
            .OrderBy(i => items[i].Account is { } a ? a.ToString() : "", StringComparer.Ordinal)
            .ToArray();
        var settled = await BillingSql.SettleCallsAsync(database, order.Select(i => items[i].Command).ToArray(), CancellationToken.None);
        var outcomes = new bool?[items.Count];
        for (var k = 0; k < order.Length; k++)
        {
            outcomes[order[k]] = settled[k];
        }
        return outcomes;
    }
}
