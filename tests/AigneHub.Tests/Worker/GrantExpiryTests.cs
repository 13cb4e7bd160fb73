using AigneHub.Api.Billing;
using AigneHub.Api.Gateway;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Worker.Jobs;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AigneHub.Tests.Worker;

public sealed class GrantExpiryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Only_the_unused_remainder_of_a_partly_spent_grant_expires_once()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddFlatRateAsync();
        var now = DateTimeOffset.UtcNow;
        var expiring = await host.GrantAsync(user, 10m, GrantCategory.Promotional, now.AddHours(1));
        var forever = await host.GrantAsync(user, 5m, GrantCategory.Paid, null);
        await host.ChargeAsync(user, 3000);
        Assert.Equal(7m, await host.GrantRemainingAsync(expiring.Id));

        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now.AddMinutes(59)));
        var job = worker.Job<GrantExpiryJob>();
        await job.RunOnceAsync(CancellationToken.None);
        Assert.Equal(12m, (await host.AccountAsync(user)).Balance);

        worker.Time.Advance(TimeSpan.FromMinutes(2));
        await job.RunOnceAsync(CancellationToken.None);
        await job.RunOnceAsync(CancellationToken.None); // a replay finds nothing to do
        Assert.Equal(0m, await host.GrantRemainingAsync(expiring.Id));
        Assert.Equal(5m, await host.GrantRemainingAsync(forever.Id));
        Assert.Equal(-7m, await host.ScalarAsync<decimal>(
            "SELECT sum(amount) FROM aignehub.credit_ledger WHERE kind = 'expiry' AND grant_id = @g", ("g", expiring.Id)));
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.credit_ledger WHERE kind = 'expiry'"));
        Assert.True(await host.ScalarAsync<bool>("SELECT expired_at IS NOT NULL FROM aignehub.credit_grants WHERE id = @g", ("g", expiring.Id)));
        Assert.False(await host.ScalarAsync<bool>("SELECT expired_at IS NOT NULL FROM aignehub.credit_grants WHERE id = @g", ("g", forever.Id)));
        var account = await host.AccountAsync(user);
        Assert.Equal(5m, account.Balance);
        Assert.Equal(account.Balance, await host.LedgerSumAsync(user));

        // The database itself refuses a second expiry entry for the grant.
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => host.ScalarAsync<int>(
            "INSERT INTO aignehub.credit_ledger (id, user_id, amount, kind, grant_id, created_at) VALUES (gen_random_uuid(), @u, -1, 'expiry', @g, now())",
            ("u", user), ("g", expiring.Id)));
    }

    [Fact]
    public async Task Two_workers_expiring_concurrently_expire_each_grant_once()
    {
        await using var host = await BillingHost.StartAsync();
        var now = DateTimeOffset.UtcNow;
        List<(Guid User, decimal Expected)> users = [];
        for (var i = 0; i < 40; i++)
        {
            var user = await host.CreateUserAsync();
            await host.GrantAsync(user, 1m + i, GrantCategory.Promotional, now.AddMinutes(10));
            await host.GrantAsync(user, 0.5m, GrantCategory.Paid, now.AddMinutes(20));
            await host.GrantAsync(user, 2m, GrantCategory.Paid, null);
            users.Add((user, 2m));
        }

        var time = new FakeTimeProvider(now.AddMinutes(30));
        await using var first = new WorkerJobHost(host.Api.DatabaseConnectionString, time);
        await using var second = new WorkerJobHost(host.Api.DatabaseConnectionString, time);
        var start = new TaskCompletionSource();
        var runs = Enumerable.Range(0, 8).Select(async i =>
        {
            await start.Task;
            await (i % 2 == 0 ? first : second).Job<GrantExpiryJob>().RunOnceAsync(CancellationToken.None);
        }).ToList();
        start.SetResult();
        await Task.WhenAll(runs);
        // Accounts a run found locked by the other are left for the next tick; one more tick finishes them.
        await first.Job<GrantExpiryJob>().RunOnceAsync(CancellationToken.None);

        Assert.Equal(80, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.credit_ledger WHERE kind = 'expiry'"));
        Assert.Equal(80, await host.ScalarAsync<int>("SELECT count(DISTINCT grant_id) FROM aignehub.credit_ledger WHERE kind = 'expiry'"));
        foreach (var (user, expected) in users)
        {
            var account = await host.AccountAsync(user);
            Assert.Equal(expected, account.Balance);
            Assert.Equal(expected, await host.LedgerSumAsync(user));
            Assert.Equal(expected, await host.RemainingAsync(user));
        }
    }

    [Fact]
    public async Task A_grant_expiring_under_a_call_in_flight_leaves_at_most_that_reservation_of_debt_which_the_next_grant_pays()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddFlatRateAsync();
        var now = DateTimeOffset.UtcNow;
        await host.GrantAsync(user, 10m, GrantCategory.Promotional, now.AddHours(1));

        // 8 reserved while the grant is live; 2 available.
        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 8000, MaxOutputTokens = 1 }, CancellationToken.None);
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now.AddHours(2)));
        await worker.Job<GrantExpiryJob>().RunOnceAsync(CancellationToken.None);

        // The whole remainder lapsed; the reservation stands, so nothing is available and no new call is served.
        var account = await host.AccountAsync(user);
        Assert.Equal(0m, account.Balance);
        Assert.Equal(8m, account.Reserved);
        var refused = await Assert.ThrowsAsync<GatewayException>(() => host.ChargeAsync(user, 1));
        Assert.Equal(402, refused.Status);

        // The call in flight is honoured: it settles at its actual cost (6), which becomes debt — bounded by its
        // reservation (8), never more.
        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 6000, 0), CancellationToken.None);
        account = await host.AccountAsync(user);
        Assert.Equal(-6m, account.Balance);
        Assert.InRange(account.Balance, -8m, 0m);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(account.Balance, await host.LedgerSumAsync(user));
        Assert.Equal(6m, await host.DebitsAsync(user));

        var topUp = await host.GrantAsync(user, 20m, GrantCategory.Paid, null);
        Assert.Equal(14m, topUp.Remaining);
        Assert.Equal(14m, (await host.AccountAsync(user)).Balance);
        Assert.Equal(14m, await host.RemainingAsync(user));
        await host.ChargeAsync(user, 1000);
        Assert.Equal(13m, await host.RemainingAsync(user));
    }

    [Fact]
    public async Task The_ledger_balances_after_a_mixed_schedule_of_grants_debits_failures_and_expiries()
    {
        await using var host = await BillingHost.StartAsync();
        await host.AddFlatRateAsync();
        var random = new Random(20261126);
        var now = DateTimeOffset.UtcNow;
        var time = new FakeTimeProvider(now);
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, time);
        var expiry = worker.Job<GrantExpiryJob>();
        List<Guid> users = [];
        for (var i = 0; i < 4; i++)
        {
            users.Add(await host.CreateUserAsync());
        }

        List<CallTicket> inFlight = [];
        int served = 0, refused = 0, failed = 0, overran = 0;
        for (var step = 0; step < 400; step++)
        {
            var user = users[random.Next(users.Count)];
            switch (random.Next(10))
            {
                case 0 or 1:
                    // Expiries between 30 min and 6 h after the real start, some never; category at random.
                    DateTimeOffset? expires = random.Next(4) == 0 ? null : now.AddMinutes(30 + random.Next(330));
                    await host.GrantAsync(user, random.Next(1, 400) / 100m, random.Next(2) == 0 ? GrantCategory.Paid : GrantCategory.Promotional, expires);
                    break;
                case 2:
                    time.Advance(TimeSpan.FromMinutes(random.Next(5, 40)));
                    await expiry.RunOnceAsync(CancellationToken.None);
                    break;
                case 3 when inFlight.Count > 0:
                    // A call in flight ends: a success (sometimes above its estimate) or a failure (no charge).
                    var ticket = inFlight[random.Next(inFlight.Count)];
                    inFlight.Remove(ticket);
                    if (random.Next(4) == 0)
                    {
                        failed++;
                        await host.Recorder.CompleteAsync(ticket, new CallResult { Success = false, Target = BillingHost.Gpt, ErrorReason = "upstream 500", Duration = TimeSpan.FromMilliseconds(50) }, CancellationToken.None);
                    }
                    else
                    {
                        var tokens = random.Next(10) == 0 ? random.Next(500, 3000) : random.Next(1, 500);
                        overran += tokens > 500 ? 1 : 0;
                        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, tokens, 0), CancellationToken.None);
                    }
                    break;
                default:
                    try
                    {
                        var context = BillingHost.Context(user);
                        inFlight.Add(await host.Recorder.StartAsync(context, [BillingHost.Gpt], new CallEstimate { PromptTokens = 500, MaxOutputTokens = 1 }, CancellationToken.None));
                        served++;
                    }
                    catch (GatewayException ex) when (ex.Status == 402)
                    {
                        refused++;
                    }
                    break;
            }
        }
        foreach (var ticket in inFlight)
        {
            await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 400, 0), CancellationToken.None);
        }
        time.Advance(TimeSpan.FromHours(7));
        await expiry.RunOnceAsync(CancellationToken.None);
        output.WriteLine($"served {served}, refused {refused}, failed {failed}, over estimate {overran}");
        Assert.True(served > 20 && refused > 0, $"served {served}, refused {refused}: the schedule should exercise both");

        foreach (var user in users)
        {
            var account = await host.AccountAsync(user);
            var calls = await host.CallsAsync(user);
            Assert.Equal(0m, account.Reserved);
            Assert.Equal(account.Balance, await host.LedgerSumAsync(user));
            Assert.Equal(calls.Where(c => c.Status == ModelCallStatus.Success).Sum(c => c.Credits), await host.DebitsAsync(user));
            // The grants' remainders are the balance (or nothing, while the account is in debt) and none past its
            // expiry holds anything.
            Assert.Equal(Math.Max(0m, account.Balance), await host.RemainingAsync(user));
            Assert.Equal(0, await host.ScalarAsync<int>(
                "SELECT count(*) FROM aignehub.credit_grants WHERE user_id = @u AND (remaining < 0 OR remaining > amount OR (expires_at IS NOT NULL AND expired_at IS NULL))", ("u", user)));
            Assert.Equal(0, await host.ScalarAsync<int>(
                "SELECT count(*) FROM aignehub.credit_grants WHERE user_id = @u AND expired_at IS NOT NULL AND remaining <> 0", ("u", user)));
        }
    }
}
