using AigneHub.Data.Billing;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// Group commit of settlements (<see cref="GroupCommit{TItem}"/>): the settlements that arrive while one is being
/// written go as ONE statement (<see cref="BillingSql.SettleCallsAsync"/>), one round trip, one commit — each call
/// under its <c>status = 'processing'</c> guard, each account's row and grants touched once for the whole batch, so a
/// busy account is written once per batch instead of once per call. The statement takes its accounts in uuid order
/// (the order start batches lock them in), so batches of several replicas cannot deadlock on each other.
/// </summary>
internal sealed class CallSettlements(NpgsqlDataSource database, ILogger<CallSettlements> logger)
    : GroupCommit<SettleCallCommand>(MaxBatch, logger)
{
    /// <summary>Most settlements in one transaction.</summary>
    internal const int MaxBatch = 64;

    /// <summary>Settles the call (see <see cref="BillingSql.SettleCallAsync"/>); false when it was already settled.</summary>
    public Task<bool> SettleAsync(SettleCallCommand command, CancellationToken cancellationToken) =>
        SubmitAsync(command, cancellationToken);

    protected override bool CallerMayLeave => true;

    protected override Task<bool> RunAloneAsync(SettleCallCommand item) => BillingSql.SettleCallAsync(database, item, CancellationToken.None);

    protected override async Task<bool?[]> RunBatchAsync(IReadOnlyList<SettleCallCommand> items)
    {
        var settled = await BillingSql.SettleCallsAsync(database, items, CancellationToken.None);
        return Array.ConvertAll(settled, s => (bool?)s);
    }
}
