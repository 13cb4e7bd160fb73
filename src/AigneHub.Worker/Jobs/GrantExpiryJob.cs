using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Worker.Jobs;

/// <summary>
/// Expires credit grants past their <c>expires_at</c>: the unused remainder becomes an <c>expiry</c> ledger entry and
/// leaves the balance, once per grant. Accounts are claimed with <c>SKIP LOCKED</c> and the grant's
/// <c>expired_at</c> is re-checked under its row lock (a unique index on the expiry entry backs it), so replicas and
/// replays never expire a grant twice. A grant counts as spendable until the tick that expires it, at most one
/// <c>AigneHub:Worker:GrantExpiryIntervalSeconds</c> after its expiry time.
/// </summary>
public sealed partial class GrantExpiryJob(
    NpgsqlDataSource database,
    IOptions<BillingJobOptions> options,
    TimeProvider time,
    ILogger<GrantExpiryJob> logger) : PeriodicJob(time, logger)
{
    private const int AccountsPerBatch = 500;

    protected override TimeSpan Period => TimeSpan.FromSeconds(options.Value.GrantExpiryIntervalSeconds);

    public override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        int accounts;
        do
        {
            var (grants, lapsed, processed) = await BillingSql.ExpireGrantsAsync(database, Time.GetUtcNow(), AccountsPerBatch, cancellationToken);
            accounts = processed;
            if (grants > 0)
            {
                Log.Expired(logger, grants, accounts, lapsed);
            }
        }
        while (accounts == AccountsPerBatch);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Expired {Grants} credit grant(s) of {Accounts} account(s); {Lapsed} credits lapsed.")]
        public static partial void Expired(ILogger logger, int grants, int accounts, decimal lapsed);
    }
}
