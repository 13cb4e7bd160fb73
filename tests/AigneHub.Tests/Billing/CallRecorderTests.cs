using System.Numerics;
using AigneHub.Api.Billing;
using AigneHub.Api.Gateway;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Xunit.Abstractions;

namespace AigneHub.Tests.Billing;

public sealed class CallRecorderTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Two_hundred_concurrent_calls_against_a_balance_for_ten_serve_at_most_ten_and_the_ledger_balances()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        // The documented reservation: prompt estimate × input rate + output cap × output rate = 100 × 0.001 + 400 ×
        // 0.002 = 0.9, so 9 credits afford exactly 10 calls in flight. Each really costs less (100 in, 150 out = 0.4):
        // every admission is made before any settlement, so the served count is exact, not a range.
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        const decimal reservation = 100 * 0.001m + 400 * 0.002m;
        const decimal actual = 100 * 0.001m + 150 * 0.002m;
        var affordable = (int)(9m / reservation);
        // Two grants, so that concurrent settlements also walk grants (under the account's row lock).
        await host.GrantAsync(user, "4.05", "promotional");
        await host.GrantAsync(user, "4.95");
        var recorder = host.Recorder;
        var estimate = new CallEstimate { PromptTokens = 100, MaxOutputTokens = 400 };

        var served = 0;
        var refused = 0;
        var start = new TaskCompletionSource();
        var admitted = Enumerable.Range(0, 200).Select(async i =>
        {
            await start.Task;
            try
            {
                var ticket = await recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], estimate, CancellationToken.None);
                Interlocked.Increment(ref served);
                return ticket;
            }
            catch (GatewayException ex) when (ex.Status == 402)
            {
                Assert.Equal("insufficient_quota", ex.Type);
                Assert.Equal("https://pay.example/credits", ex.Link);
                Interlocked.Increment(ref refused);
                return null;
            }
        }).ToList();
        start.SetResult();
        var tickets = (await Task.WhenAll(admitted)).OfType<CallTicket>().ToList();
        await Task.WhenAll(tickets.Select(async ticket =>
        {
            await Task.Delay(Random.Shared.Next(0, 5));
            await recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 100, 150), CancellationToken.None);
        }));

        var account = await host.AccountAsync(user);
        var recorded = await host.CallsAsync(user);
        var settledCredits = recorded.Where(c => c.Status == ModelCallStatus.Success).Sum(c => c.Credits);
        var debits = await host.DebitsAsync(user);
        output.WriteLine($"served {served}, refused {refused}, final balance {account.Balance}, reserved {account.Reserved}, Σ debits {debits}, Σ call credits {settledCredits}");

        Assert.Equal(200, served + refused);
        Assert.Equal(affordable, served);
        Assert.Equal(served * actual, settledCredits);
        // Exactly one record per call: the served ones succeeded, the refused ones are failed records with the reason.
        Assert.Equal(200, recorded.Count);
        Assert.Equal(served, recorded.Count(c => c.Status == ModelCallStatus.Success));
        Assert.All(recorded.Where(c => c.Status != ModelCallStatus.Success), c =>
        {
            Assert.Equal(ModelCallStatus.Failed, c.Status);
            Assert.Equal(0m, c.Credits);
            Assert.StartsWith("Insufficient credits", c.ErrorReason);
        });
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(9m - settledCredits, account.Balance);
        Assert.True(account.Balance >= 0, "overspent beyond the grant");
        Assert.Equal(settledCredits, debits);
        Assert.Equal(account.Balance, await host.RemainingAsync(user));
        Assert.Equal(served, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.meter_events WHERE user_id = @u", ("u", user)));
    }

    [Fact]
    public async Task The_credit_formula_is_exact_on_tricky_decimals_and_huge_token_counts()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        // 18-place rates as raw JSON numbers (a double would lose their tails) and a cache-read rate of its own.
        const string input = "0.000001234567890123";
        const string outputRate = "0.000009876543210987";
        const string cacheRead = "0.000000000123456789";
        await host.AddRateAsync(BillingHost.Gpt, input, outputRate, $$""","cacheReadRate":"{{cacheRead}}" """);
        await host.GrantAsync(user, "100000000");
        // The prompt count includes its cached part (the neutral convention): 2e9 = fresh + written + read.
        var usage = (Prompt: 2_000_000_000, Completion: 1_987_654_321, CacheWrite: 234_567_891, CacheRead: 1_147_483_647);

        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 10 }, CancellationToken.None);
        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, usage.Prompt, usage.Completion, usage.CacheWrite, usage.CacheRead), CancellationToken.None);

        // An independent oracle: integer arithmetic in units of 1e-18, rounded half away from zero to 10 places.
        const long fresh = 2_000_000_000L - 234_567_891L - 1_147_483_647L;
        var expectedUnits = usage.Completion * Units(outputRate) + fresh * Units(input)
            + usage.CacheWrite * Units(input) /* no write rate: the input rate */ + usage.CacheRead * Units(cacheRead);
        var expected = RoundTo10Places(expectedUnits);

        var call = Assert.Single(await host.CallsAsync(user));
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await host.DebitsAsync(user));
        Assert.Equal(100_000_000m - expected, (await host.AccountAsync(user)).Balance);
        output.WriteLine($"credits {call.Credits}");

        // Rounding is half away from zero: 5 tokens × 5e-11 = 2.5e-10 → 3e-10 (banker's rounding would give 2e-10).
        var tiny = new RateCard(Guid.Empty, "openai", "m", ModelType.Chat, 0.00000000005m, 0, null, null);
        Assert.Equal(0.0000000003m, CreditFormula.Compute(tiny, new MeteredUsage(5, 0)));
        Assert.Equal(0.0000000001m, CreditFormula.Compute(tiny, new MeteredUsage(1, 0)));
        // A provider reporting more cached than prompt tokens pays for the cached ones and no fresh ones, never less:
        // 10 read at 0.01 + 5 written at 0.02 (prompt 12 < 15 cached).
        var cached = new RateCard(Guid.Empty, "openai", "c", ModelType.Chat, 1m, 0, 0.02m, 0.01m);
        Assert.Equal(0.2m, CreditFormula.Compute(cached, new MeteredUsage(12, 0, CacheCreationTokens: 5, CacheReadTokens: 10)));
        // Images and video are priced by their own units at the output rate.
        var image = new RateCard(Guid.Empty, "openai", "img", ModelType.Image, 0.5m, 12.3456789012m, null, null);
        Assert.Equal(3 * 12.3456789012m + 10 * 0.5m, CreditFormula.Compute(image, new MeteredUsage(10, 999, Images: 3)));
        var video = new RateCard(Guid.Empty, "openai", "vid", ModelType.Video, 0m, 0.125m, null, null);
        Assert.Equal(1.125m, CreditFormula.Compute(video, new MeteredUsage(0, 999, VideoSeconds: 9m)));
    }

    [Fact]
    public async Task An_unrated_model_is_refused_with_billing_on_and_unrated_candidates_are_dropped()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "10");

        var ex = await Assert.ThrowsAsync<GatewayException>(async () =>
            await host.Recorder.StartAsync(BillingHost.Context(user, model: "deepseek/no-rate"), [BillingHost.Unrated], new CallEstimate(), CancellationToken.None));
        Assert.Equal(400, ex.Status);
        Assert.Equal("invalid_request_error", ex.Type);
        const string refusal = "Unsupported model: deepseek/no-rate (no rate is set for deepseek/no-rate; with credit billing on, an admin sets one under Models)";
        Assert.Equal(refusal, ex.Message);
        var refused = Assert.Single(await host.CallsAsync(user));
        Assert.Equal(ModelCallStatus.Failed, refused.Status);
        Assert.Equal(0m, refused.Credits);
        Assert.Equal(refusal, refused.ErrorReason);

        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user, model: "any"), [BillingHost.Unrated, BillingHost.Gpt], new CallEstimate(), CancellationToken.None);
        Assert.Equal([BillingHost.Gpt], ticket.Targets);
    }

    [Fact]
    public async Task With_billing_off_there_is_no_gate_but_usage_and_credits_are_recorded()
    {
        await using var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");

        // No account, no credits: still served; an unrated model is served too (enterprise mode prices nothing).
        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 10 }, CancellationToken.None);
        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 1000, 500), CancellationToken.None);
        var unrated = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Unrated], new CallEstimate(), CancellationToken.None);
        await host.Recorder.CompleteAsync(unrated, BillingHost.Success(BillingHost.Unrated, 5, 5), CancellationToken.None);

        var calls = await host.CallsAsync(user);
        Assert.Equal(2, calls.Count);
        var priced = calls.Single(c => c.Id == ticket.CallId);
        Assert.Equal(2m, priced.Credits);
        Assert.Equal(1000, priced.PromptTokens);
        Assert.False(priced.Billed);
        Assert.Equal(0m, await host.DebitsAsync(user));
        Assert.Equal(0, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.credit_accounts WHERE user_id = @u", ("u", user)));
    }

    [Fact]
    public async Task A_failed_call_releases_its_reservation_and_is_not_charged_and_a_second_settlement_is_ignored()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "5");

        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 100, MaxOutputTokens = 1000 }, CancellationToken.None);
        Assert.Equal(2.1m, (await host.AccountAsync(user)).Reserved);
        await host.Recorder.CompleteAsync(ticket, new CallResult { Success = false, Target = BillingHost.Gpt, ErrorReason = "provider 503", StatusCode = 502, Duration = TimeSpan.FromSeconds(1) }, CancellationToken.None);
        // A buggy second settlement (success this time) must change nothing.
        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 100, 1000), CancellationToken.None);

        var account = await host.AccountAsync(user);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(5m, account.Balance);
        var call = Assert.Single(await host.CallsAsync(user));
        Assert.Equal(ModelCallStatus.Failed, call.Status);
        Assert.Equal("provider 503", call.ErrorReason);
        Assert.Equal(0m, call.Credits);
        Assert.Equal(0m, await host.DebitsAsync(user));
    }

    [Fact]
    public async Task The_reservation_covers_a_prompt_written_to_a_cache_that_costs_more_than_fresh_input()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        // Cache writes at 5× the input rate (Anthropic charges 1.25× and 2×).
        await host.AddRateAsync(BillingHost.Claude, "0.001", "0.002", ""","cacheWriteRate":"0.005" """);
        await host.GrantAsync(user, "10");

        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user, model: "anthropic/claude-test"), [BillingHost.Claude],
            new CallEstimate { PromptTokens = 100, MaxOutputTokens = 1000 }, CancellationToken.None);
        // 100 prompt tokens, all of which may be written to the cache, at 0.005, and 1000 output tokens at 0.002.
        const decimal worstCase = (100 * 0.005m) + (1000 * 0.002m);
        Assert.Equal(worstCase, (await host.AccountAsync(user)).Reserved);

        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Claude, 100, 1000, cacheWrite: 100), CancellationToken.None);
        var call = Assert.Single(await host.CallsAsync(user));
        Assert.Equal(worstCase, call.Credits);
        Assert.Equal(10m - worstCase, (await host.AccountAsync(user)).Balance);
    }

    [Fact]
    public async Task A_settlement_racing_the_stale_call_cleanup_settles_each_call_exactly_once()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "1000");
        var tickets = new List<CallTicket>();
        for (var i = 0; i < 60; i++)
        {
            tickets.Add(await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 100, MaxOutputTokens = 100 }, CancellationToken.None));
        }

        var database = host.Api.Services.GetRequiredService<NpgsqlDataSource>();
        var future = DateTimeOffset.UtcNow.AddHours(1);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cleanupStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Small cleanup batches interleave with the settlements instead of sweeping everything at once. The cleanup's
        // first close happens before the settlements start, and it closes at most 40 of the 60, so the race always
        // ends both ways.
        var cleanup = Task.Run(async () =>
        {
            await go.Task;
            var closed = 0;
            for (var i = 0; i < 40; i++)
            {
                if (i == 1)
                {
                    cleanupStarted.SetResult();
                }
                // A cutoff in the future: every processing call counts as stale.
                closed += await BillingSql.ExpireStaleCallsAsync(database, future, "Timeout: processing exceeded 30 minutes", DateTimeOffset.UtcNow, 1, CancellationToken.None);
            }
            return closed;
        });
        var settle = Parallel.ForEachAsync(tickets, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (ticket, ct) =>
        {
            await cleanupStarted.Task;
            await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 100, 50), ct);
        });
        go.SetResult();
        await settle;
        var closedByCleanup = await cleanup;
        output.WriteLine($"closed by the cleanup while racing: {closedByCleanup}");
        Assert.InRange(closedByCleanup, 0, 40); // 40 statements of batch size 1: the batch limit holds
        closedByCleanup += await BillingSql.ExpireStaleCallsAsync(database, future, "Timeout: processing exceeded 30 minutes", DateTimeOffset.UtcNow, 1000, CancellationToken.None);

        var calls = await host.CallsAsync(user);
        var successes = calls.Where(c => c.Status == ModelCallStatus.Success).ToList();
        var failures = calls.Where(c => c.Status == ModelCallStatus.Failed).ToList();
        output.WriteLine($"settled by the Api {successes.Count}, closed by the cleanup {failures.Count}");
        Assert.Equal(60, calls.Count);
        Assert.Equal(60, successes.Count + failures.Count);
        Assert.NotEmpty(successes);
        Assert.NotEmpty(failures);
        Assert.Equal(failures.Count, closedByCleanup);
        Assert.All(failures, c => Assert.Equal("Timeout: processing exceeded 30 minutes", c.ErrorReason));
        var account = await host.AccountAsync(user);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(1000m - successes.Sum(c => c.Credits), account.Balance);
        Assert.Equal(successes.Sum(c => c.Credits), await host.DebitsAsync(user));
        Assert.Equal(successes.Count, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.meter_events WHERE user_id = @u", ("u", user)));
    }

    [Fact]
    public async Task Welcome_credits_are_granted_once_per_user_even_when_first_uses_race()
    {
        await using var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:WelcomeCredits"] = "2.5");
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");

        // Fresh accounts objects (as on several replicas), all racing to create the account.
        var factory = host.Api.Services;
        await Parallel.ForEachAsync(Enumerable.Range(0, 16), async (_, ct) =>
        {
            var accounts = ActivatorUtilities.CreateInstance<AigneHub.Api.Billing.CreditAccounts>(factory);
            await accounts.EnsureAsync(user, ct);
        });

        Assert.Equal(2.5m, (await host.AccountAsync(user)).Balance);
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.credit_grants WHERE user_id = @u", ("u", user)));
        Assert.Equal(2.5m, await host.ScalarAsync<decimal>("SELECT sum(amount) FROM aignehub.credit_ledger WHERE user_id = @u", ("u", user)));
    }

    private static BigInteger Units(string rate) =>
        BigInteger.Parse(rate.Replace("0.", "", StringComparison.Ordinal).TrimStart('0') is { Length: > 0 } digits ? digits : "0")
        * BigInteger.Pow(10, 18 - (rate.Length - rate.IndexOf('.', StringComparison.Ordinal) - 1));

    private static decimal RoundTo10Places(BigInteger unitsOf1e18)
    {
        var quotient = BigInteger.DivRem(unitsOf1e18, BigInteger.Pow(10, 8), out var remainder);
        if (remainder * 2 >= BigInteger.Pow(10, 8))
        {
            quotient += 1;
        }
        return decimal.Parse(quotient.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture) / 10_000_000_000m;
    }
}
