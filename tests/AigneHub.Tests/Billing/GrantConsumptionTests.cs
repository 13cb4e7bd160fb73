using AigneHub.Data.Billing;

namespace AigneHub.Tests.Billing;

public sealed class GrantConsumptionTests
{
    [Fact]
    public async Task Debits_consume_soonest_expiring_first_promotional_before_paid_then_oldest()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddFlatRateAsync();
        var soon = DateTimeOffset.UtcNow.AddDays(5);
        var later = DateTimeOffset.UtcNow.AddDays(10);

        // Granted in an order that differs from the consumption order on purpose.
        var paidForever1 = await host.GrantAsync(user, 2m, GrantCategory.Paid, null);
        var paidLater = await host.GrantAsync(user, 2m, GrantCategory.Paid, later);
        var paidSoon = await host.GrantAsync(user, 1m, GrantCategory.Paid, soon);
        var promoForever = await host.GrantAsync(user, 2m, GrantCategory.Promotional, null);
        var promoSoon = await host.GrantAsync(user, 1m, GrantCategory.Promotional, soon);
        var paidForever2 = await host.GrantAsync(user, 2m, GrantCategory.Paid, null);
        Grant[] order = [new(promoSoon.Id, 1m), new(paidSoon.Id, 1m), new(paidLater.Id, 2m), new(promoForever.Id, 2m), new(paidForever1.Id, 2m), new(paidForever2.Id, 2m)];

        // 1.5 spans the first two grants; then 2, 3, 3.5 walk the rest; each step checks every grant.
        var consumed = 0m;
        foreach (var tokens in new[] { 1500, 2000, 3000, 3500 })
        {
            await host.ChargeAsync(user, tokens);
            consumed += tokens / 1000m;
            var left = consumed;
            foreach (var grant in order)
            {
                var take = Math.Min(grant.Amount, left);
                left -= take;
                Assert.Equal(grant.Amount - take, await host.GrantRemainingAsync(grant.Id));
            }
        }
        Assert.Equal(0m, await host.RemainingAsync(user));
        var account = await host.AccountAsync(user);
        Assert.Equal(0m, account.Balance);
        Assert.Equal(account.Balance, await host.LedgerSumAsync(user));
        Assert.Equal(10m, await host.DebitsAsync(user));
    }

    [Fact]
    public async Task An_overspent_account_is_in_debt_and_the_next_grant_pays_it_off_first()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0");
        await host.GrantAsync(user, 1m, GrantCategory.Paid, null);
        // The estimate undershoots (100 tokens reserved, 1500 used): the charge is 1.5 against 1 of grants.
        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new() { PromptTokens = 100, MaxOutputTokens = 1 }, CancellationToken.None);
        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 1500, 0), CancellationToken.None);
        Assert.Equal(-0.5m, (await host.AccountAsync(user)).Balance);
        Assert.Equal(0m, await host.RemainingAsync(user));

        // At most one reservation's undershoot of debt: while the balance is negative every call is refused, even one
        // whose worst case is zero (a free model), so the debt cannot grow.
        await host.AddRateAsync(BillingHost.Claude, "0", "0");
        foreach (var target in new[] { BillingHost.Gpt, BillingHost.Claude })
        {
            var refusal = await Assert.ThrowsAsync<AigneHub.Api.Gateway.GatewayException>(() => host.Recorder.StartAsync(
                BillingHost.Context(user, model: target.PublicName), [target], new() { PromptTokens = 1, MaxOutputTokens = 1 }, CancellationToken.None).AsTask());
            Assert.Equal(402, refusal.Status);
        }
        Assert.Equal(-0.5m, (await host.AccountAsync(user)).Balance);

        var topUp = await host.GrantAsync(user, 2m, GrantCategory.Promotional, DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal(1.5m, topUp.Remaining);
        Assert.Equal(1.5m, await host.GrantRemainingAsync(topUp.Id));
        Assert.Equal(1.5m, (await host.AccountAsync(user)).Balance);
        Assert.Equal(1.5m, await host.LedgerSumAsync(user));
    }

    private sealed record Grant(Guid Id, decimal Amount);
}
