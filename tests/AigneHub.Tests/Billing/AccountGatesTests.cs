using AigneHub.Api.Billing;

namespace AigneHub.Tests.Billing;

/// <summary>
/// The account gates queue one account's money statements in this process (one waiter per replica at the account's
/// row in Postgres) and let other accounts' and unbilled calls' statements through.
/// </summary>
public sealed class AccountGatesTests
{
    [Fact]
    public async Task One_accounts_statements_run_one_at_a_time()
    {
        var gates = new AccountGates();
        var account = Guid.NewGuid();
        var running = 0;
        var most = 0;
        var order = new List<int>();
        var first = new TaskCompletionSource();

        // The first statement holds the gate until released, so the others can only queue behind it.
        var held = gates.RunAsync(account, async _ =>
        {
            Interlocked.Increment(ref running);
            await first.Task;
            lock (order) { order.Add(0); }
            Interlocked.Decrement(ref running);
            return 0;
        }, CancellationToken.None);
        var queued = Enumerable.Range(1, 20).Select(i => gates.RunAsync(account, async _ =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref most, now);
            await Task.Yield();
            lock (order) { order.Add(i); }
            Interlocked.Decrement(ref running);
            return i;
        }, CancellationToken.None)).ToList();
        await Task.Delay(50);
        Assert.Empty(order);

        first.SetResult();
        await held;
        await Task.WhenAll(queued);

        Assert.Equal(1, most);
        Assert.Equal(21, order.Count);
        Assert.Equal(0, order[0]);
    }

    [Fact]
    public async Task A_statement_that_touches_no_account_never_waits()
    {
        var gates = new AccountGates();
        var account = Guid.NewGuid();
        var release = new TaskCompletionSource();
        var held = gates.RunAsync(account, async _ => { await release.Task; return 0; }, CancellationToken.None);

        var unbilled = await gates.RunAsync<int>(null, _ => Task.FromResult(7), CancellationToken.None);

        Assert.Equal(7, unbilled);
        Assert.False(held.IsCompleted);
        release.SetResult();
        await held;
    }

    [Fact]
    public async Task A_caller_that_gives_up_while_queued_does_not_run_its_statement_and_leaves_the_gate_usable()
    {
        var gates = new AccountGates();
        var account = Guid.NewGuid();
        var release = new TaskCompletionSource();
        var held = gates.RunAsync(account, async _ => { await release.Task; return 0; }, CancellationToken.None);
        using var giveUp = new CancellationTokenSource();
        var ran = false;
        var queued = gates.RunAsync(account, _ => { ran = true; return Task.FromResult(1); }, giveUp.Token);

        giveUp.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        release.SetResult();
        await held;

        Assert.False(ran);
        Assert.Equal(2, await gates.RunAsync(account, _ => Task.FromResult(2), CancellationToken.None));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
