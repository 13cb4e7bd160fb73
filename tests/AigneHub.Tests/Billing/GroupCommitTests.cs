using AigneHub.Api.Billing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AigneHub.Tests.Billing;

/// <summary>
/// Group commit (<see cref="GroupCommit{TItem}"/>): the starts (<see cref="CallStarts"/>) and settlements
/// (<see cref="CallSettlements"/>) that queue while one is being written go as one batch and one commit, and come
/// out exactly as the same statements one after another would.
/// </summary>
public sealed class GroupCommitTests
{
    [Fact]
    public async Task Starts_queued_behind_a_busy_account_go_as_one_batch_and_admit_what_sequential_starts_would()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.GrantAsync(user, "10");
        var starts = host.Api.Services.GetRequiredService<CallStarts>();
        var account = await host.AccountAsync(user);
        var available = account.Balance - account.Reserved;

        // The first start is alone; it waits on the account row, locked here, while the rest queue behind it.
        decimal[] reserves = [1m, 15m, 5m, 4m, 2m, 0.5m];
        var calls = reserves.Select(r => Call(user, r)).ToList();
        bool[] expected;
        await using (var blocker = await LockAccountAsync(host, user))
        {
            var first = starts.StartAsync(calls[0], CancellationToken.None);
            await WaitForLockWaiterAsync(host);
            var rest = calls.Skip(1).Select(c => starts.StartAsync(c, CancellationToken.None)).ToList();
            await blocker.DisposeAsync();
            var outcomes = await Task.WhenAll(rest.Prepend(first));

            // One after another: each is admitted when it fits what the earlier admitted ones left.
            expected = Sequential(reserves, available);
            Assert.Equal(expected, outcomes);
        }

        var after = await host.AccountAsync(user);
        var recorded = await host.CallsAsync(user);
        var expectedReserved = reserves.Where((_, i) => expected[i]).Sum();
        Assert.Equal(expected.Count(a => a), recorded.Count);
        Assert.Equal(expectedReserved, after.Reserved);
        Assert.Equal(account.Balance, after.Balance);
        Assert.Equal(expectedReserved, recorded.Sum(c => c.ReservedCredits));
        Assert.All(recorded, c => Assert.Equal(ModelCallStatus.Processing, c.Status));
        Assert.Equal(recorded.Count, recorded.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public async Task Fifty_starts_that_queue_meanwhile_take_a_handful_of_commits_not_fifty()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.GrantAsync(user, "10");
        var starts = host.Api.Services.GetRequiredService<CallStarts>();

        Task<bool> first;
        List<Task<bool>> rest;
        long xidsBefore;
        await using (var blocker = await LockAccountAsync(host, user))
        {
            first = starts.StartAsync(Call(user, 1m), CancellationToken.None);
            await WaitForLockWaiterAsync(host);
            xidsBefore = await TransactionIdAsync(host);
            // Unbilled starts (no reservation) of other callers queue behind the blocked one.
            rest = Enumerable.Range(0, 50).Select(_ => starts.StartAsync(Call(null, null), CancellationToken.None)).ToList();
        }
        Assert.True(await first);
        Assert.All(await Task.WhenAll(rest), Assert.True);
        // Every writing transaction takes the next transaction id (these reads take one each too).
        var commits = await TransactionIdAsync(host) - xidsBefore - 1;

        // The blocked start's own transaction, the batch's, and room for the host's own background writes; fifty
        // single starts would be fifty transactions.
        Assert.True(commits <= 10, $"{commits} commits for 51 starts");
        Assert.Equal(50, await host.ScalarAsync<long>($"SELECT count(*) FROM {AigneHubDbContext.Schema}.model_calls WHERE user_id IS NULL AND status = 'processing'"));
    }

    [Fact]
    public async Task A_start_whose_caller_leaves_while_its_batch_commits_still_learns_it_was_admitted()
    {
        // Found by the benchmark: callers cut off mid-batch left processing records that nobody settled.
        await using var host = await BillingHost.StartAsync();
        var first = await host.CreateUserAsync();
        var second = await host.CreateUserAsync();
        await host.GrantAsync(first, "10");
        await host.GrantAsync(second, "10");
        var starts = host.Api.Services.GetRequiredService<CallStarts>();
        using var leaving = new CancellationTokenSource();

        await using var secondLock = await LockAccountAsync(host, second);
        Task<bool> left, stayed;
        await using (var firstLock = await LockAccountAsync(host, first))
        {
            var alone = starts.StartAsync(Call(first, 1m), CancellationToken.None);
            await WaitForLockWaitersAsync(host, 1);
            // These two queue behind it and then go as one batch, which waits on the second account's row.
            left = starts.StartAsync(Call(second, 1m), leaving.Token);
            stayed = starts.StartAsync(Call(second, 1m), CancellationToken.None);
            await firstLock.DisposeAsync();
            Assert.True(await alone);
        }
        await WaitForLockWaitersAsync(host, 1);
        leaving.Cancel();
        await Task.Delay(100);
        Assert.False(left.IsCompleted, "the start's caller stopped waiting while its record was being written");
        await secondLock.DisposeAsync();

        Assert.True(await left);
        Assert.True(await stayed);
        Assert.Equal(2m, (await host.AccountAsync(second)).Reserved);
    }

    [Fact]
    public async Task Settlements_queued_behind_a_busy_account_go_as_one_transaction_and_charge_each_call_once()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        // Two grants, so the batch's settlements walk grants one after another inside one transaction.
        await host.GrantAsync(user, "3", "promotional");
        await host.GrantAsync(user, "7");
        var starts = host.Api.Services.GetRequiredService<CallStarts>();
        var settlements = host.Api.Services.GetRequiredService<CallSettlements>();
        var calls = Enumerable.Range(0, 20).Select(_ => Call(user, 0.4m)).ToList();
        foreach (var call in calls)
        {
            Assert.True(await starts.StartAsync(call, CancellationToken.None));
        }
        // Charges 0.01, 0.02, …, 0.20; the first call's settlement is also sent twice (the guard keeps it single).
        var charges = Enumerable.Range(1, calls.Count).Select(i => i * 0.01m).ToArray();
        var commands = calls.Select((c, i) => Settle(c.Id, charges[i])).ToList();

        bool[] outcomes;
        long xidsBefore;
        await using (var blocker = await LockAccountAsync(host, user))
        {
            var first = settlements.SettleAsync(commands[0], CancellationToken.None);
            await WaitForLockWaiterAsync(host);
            xidsBefore = await TransactionIdAsync(host);
            var rest = commands.Skip(1).Append(commands[0]).Select(c => settlements.SettleAsync(c, CancellationToken.None)).ToList();
            await blocker.DisposeAsync();
            outcomes = await Task.WhenAll(rest.Prepend(first));
        }
        var transactions = await TransactionIdAsync(host) - xidsBefore - 1;

        Assert.Equal(Enumerable.Repeat(true, calls.Count).Append(false), outcomes);
        var account = await host.AccountAsync(user);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(10m - charges.Sum(), account.Balance);
        Assert.Equal(charges.Sum(), await host.DebitsAsync(user));
        Assert.Equal(10m - charges.Sum(), await host.RemainingAsync(user));
        var recorded = await host.CallsAsync(user);
        Assert.All(recorded, c => Assert.Equal(ModelCallStatus.Success, c.Status));
        Assert.Equal(charges.Sum(), recorded.Sum(c => c.Credits));
        Assert.True(transactions <= 10, $"{transactions} transactions for 21 settlements");
    }

    /// <summary>
    /// The batch statement touches each account once for the sum of its calls' charges; the grants it consumes must be
    /// exactly what the calls one after another would consume: soonest-expiring first, promotional before paid at equal
    /// expiry, then oldest — and a debt (an earlier charge that found too little) taken first. Two accounts in one
    /// batch, a call given twice, and a call already settled.
    /// </summary>
    [Fact]
    public async Task One_settlement_statement_for_many_calls_consumes_each_accounts_grants_in_order()
    {
        await using var host = await BillingHost.StartAsync();
        var a = await host.CreateUserAsync();
        var b = await host.CreateUserAsync();
        var soon = DateTimeOffset.UtcNow.AddDays(1);
        var aSoon = await host.GrantAsync(a, 5m, GrantCategory.Promotional, soon);
        var aPaid = await host.GrantAsync(a, 10m, GrantCategory.Paid, null);
        var aPromo = await host.GrantAsync(a, 3m, GrantCategory.Promotional, null);
        var bPaid = await host.GrantAsync(b, 4m, GrantCategory.Paid, null);
        var bLater = await host.GrantAsync(b, 6m, GrantCategory.Paid, null);
        // b owes 1 already: its balance is one less than its grants hold (an earlier charge found too little).
        await host.ScalarAsync<int>("UPDATE aignehub.credit_accounts SET balance = balance - 1 WHERE user_id = @u RETURNING 1", ("u", b));
        var starts = host.Api.Services.GetRequiredService<CallStarts>();
        var aCalls = new[] { Call(a, 2m), Call(a, 2m), Call(a, 2m) };
        var bCalls = new[] { Call(b, 1m), Call(b, 1m) };
        foreach (var call in aCalls.Concat(bCalls))
        {
            Assert.True(await starts.StartAsync(call, CancellationToken.None));
        }
        var database = host.Api.Services.GetRequiredService<NpgsqlDataSource>();
        Assert.True(await BillingSql.SettleCallAsync(database, Settle(bCalls[1].Id, 0m), CancellationToken.None));

        // a: 4 + 3 + 2 = 9; b: 2.5 (its second call was settled above, free, and is sent again here with a charge).
        var batch = new[]
        {
            Settle(aCalls[0].Id, 4m), Settle(bCalls[0].Id, 2.5m), Settle(aCalls[1].Id, 3m), Settle(aCalls[0].Id, 1m),
            Settle(bCalls[1].Id, 7m), Settle(aCalls[2].Id, 2m),
        };
        var outcomes = await BillingSql.SettleCallsAsync(database, batch, CancellationToken.None);

        Assert.Equal([true, true, true, false, false, true], outcomes);
        // a: 9 taken from the soon-expiring 5, then the promotional 3 (before paid at equal expiry), then 1 of the paid 10.
        Assert.Equal(0m, await host.GrantRemainingAsync(aSoon.Id));
        Assert.Equal(0m, await host.GrantRemainingAsync(aPromo.Id));
        Assert.Equal(9m, await host.GrantRemainingAsync(aPaid.Id));
        var aAccount = await host.AccountAsync(a);
        Assert.Equal(18m - 9m, aAccount.Balance);
        Assert.Equal(0m, aAccount.Reserved);
        // b: the debt of 1, then the charge of 2.5: 3.5 taken, all from the older paid grant.
        Assert.Equal(4m - 1m - 2.5m, await host.GrantRemainingAsync(bPaid.Id));
        Assert.Equal(6m, await host.GrantRemainingAsync(bLater.Id));
        var bAccount = await host.AccountAsync(b);
        Assert.Equal(10m - 1m - 2.5m, bAccount.Balance);
        Assert.Equal(0m, bAccount.Reserved);
        Assert.Equal(9m, await host.DebitsAsync(a));
        Assert.Equal(2.5m, await host.DebitsAsync(b));
        Assert.Equal(4L, await host.ScalarAsync<long>("SELECT count(*) FROM aignehub.meter_events WHERE user_id = @a OR user_id = @b", ("a", a), ("b", b)));
        var credits = (await host.CallsAsync(a)).Concat(await host.CallsAsync(b)).ToDictionary(c => c.Id, c => c.Credits);
        Assert.Equal(4m, credits[aCalls[0].Id]);
        Assert.Equal(3m, credits[aCalls[1].Id]);
        Assert.Equal(2m, credits[aCalls[2].Id]);
        Assert.Equal(2.5m, credits[bCalls[0].Id]);
        Assert.Equal(0m, credits[bCalls[1].Id]);
    }

    private static bool[] Sequential(decimal[] reserves, decimal available)
    {
        var left = available;
        return reserves.Select(r =>
        {
            if (r > left)
            {
                return false;
            }
            left -= r;
            return true;
        }).ToArray();
    }

    private static StartCallCommand Call(Guid? user, decimal? reserve) => new()
    {
        Id = Guid.CreateVersion7(),
        UserId = user,
        Surface = CallSurface.V2,
        Provider = "openai",
        Model = "gpt-test",
        RequestedModel = "openai/gpt-test",
        Type = ModelType.Chat,
        Reserve = reserve,
        Billed = reserve is not null,
        RequestId = Guid.NewGuid().ToString("N"),
        CreatedAt = DateTimeOffset.UtcNow,
    };

    private static SettleCallCommand Settle(Guid id, decimal credits) => new()
    {
        Id = id,
        Status = ModelCallStatus.Success,
        PromptTokens = 10,
        CompletionTokens = 5,
        Credits = credits,
        Attempts = 1,
        StatusCode = 200,
        CompletedAt = DateTimeOffset.UtcNow,
    };

    /// <summary>A transaction holding the account's row lock until disposed (then rolled back).</summary>
    private static async Task<NpgsqlConnection> LockAccountAsync(BillingHost host, Guid user)
    {
        var connection = new NpgsqlConnection(host.Api.DatabaseConnectionString);
        await connection.OpenAsync();
        await using (var begin = new NpgsqlCommand("BEGIN", connection))
        {
            await begin.ExecuteNonQueryAsync();
        }
        await using var cmd = new NpgsqlCommand($"SELECT 1 FROM {AigneHubDbContext.Schema}.credit_accounts WHERE user_id = @u FOR UPDATE", connection);
        cmd.Parameters.AddWithValue("u", user);
        await cmd.ExecuteScalarAsync();
        return connection;
    }

    private static Task WaitForLockWaiterAsync(BillingHost host) => WaitForLockWaitersAsync(host, 1);

    private static async Task WaitForLockWaitersAsync(BillingHost host, int count)
    {
        for (var i = 0; i < 500; i++)
        {
            if (await host.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()") >= count)
            {
                return;
            }
            await Task.Delay(20);
        }
        throw new Xunit.Sdk.XunitException("the first start never waited on the account's row lock");
    }

    private static Task<long> TransactionIdAsync(BillingHost host) =>
        host.ScalarAsync<long>("SELECT pg_current_xact_id()::text::bigint");
}
