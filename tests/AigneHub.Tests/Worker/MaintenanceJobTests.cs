using AigneHub.Api.Billing;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Worker.Jobs;
using Microsoft.Extensions.Time.Testing;

namespace AigneHub.Tests.Worker;

public sealed class MaintenanceJobTests
{
    [Fact]
    public async Task After_the_database_was_away_the_cleanup_gives_live_apis_two_lease_intervals_before_closing_anything()
    {
        // A lease cannot be renewed during an outage, so every lease looks old when the database is back. The
        // cleanup must not close a call whose Api is alive and about to renew its lease (and land its settlement).
        await using var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:CallLeaseSeconds"] = "3600");
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "100");
        await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 100, MaxOutputTokens = 100 }, CancellationToken.None);
        // The cleanup's statement fails the way a database restarting refuses it, while the outage row exists.
        await host.ScalarAsync<int>("""
            CREATE TABLE aignehub.injected_outage (down boolean);
            INSERT INTO aignehub.injected_outage VALUES (true);
            CREATE FUNCTION aignehub.refuse_cleanup() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF EXISTS (SELECT 1 FROM aignehub.injected_outage) THEN
                RAISE EXCEPTION 'injected outage' USING ERRCODE = '57P03';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_cleanup BEFORE UPDATE ON aignehub.model_calls
              FOR EACH ROW EXECUTE FUNCTION aignehub.refuse_cleanup();
            """);
        var leaseSeconds = 60;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(30)); // the lease lapsed long ago
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, time, new() { ["AigneHub:Billing:CallLeaseSeconds"] = $"{leaseSeconds}" });
        var cleanup = worker.Job<StaleCallCleanupJob>();

        await Assert.ThrowsAnyAsync<Npgsql.NpgsqlException>(() => cleanup.RunOnceAsync(CancellationToken.None));
        await host.ScalarAsync<int>("DELETE FROM aignehub.injected_outage");
        await cleanup.RunOnceAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(2 * leaseSeconds - 1));
        await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.Equal(ModelCallStatus.Processing, Assert.Single(await host.CallsAsync(user)).Status);

        time.Advance(TimeSpan.FromSeconds(1));
        await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.Equal(ModelCallStatus.Failed, Assert.Single(await host.CallsAsync(user)).Status);
        Assert.Equal(0m, (await host.AccountAsync(user)).Reserved);
    }

    [Fact]
    public async Task Cleanup_fails_stale_calls_and_releases_reservations_rollups_summarise_and_retention_keeps_rollups()
    {
        // The Api renews the lease of calls it serves hourly here, so the two "crashed" calls below never get one.
        await using var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:CallLeaseSeconds"] = "3600");
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "100");
        var started = DateTimeOffset.UtcNow;
        var estimate = new CallEstimate { PromptTokens = 100, MaxOutputTokens = 100 };
        foreach (var ttfb in new[] { 10, 20, 30 })
        {
            var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], estimate, CancellationToken.None);
            await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 100, 50) with { GatewayTimeToFirstByte = TimeSpan.FromMilliseconds(ttfb) }, CancellationToken.None);
        }
        // Two calls whose Api "crashed": they stay processing with their reservations held.
        await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], estimate, CancellationToken.None);
        await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], estimate, CancellationToken.None);
        Assert.Equal(0.6m, (await host.AccountAsync(user)).Reserved);

        // Without a renewal their created_at is their lease.
        var time = new FakeTimeProvider(started.AddMinutes(9));
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, time);
        var cleanup = worker.Job<StaleCallCleanupJob>();
        await cleanup.RunOnceAsync(CancellationToken.None);
        Assert.Equal(2, (await host.CallsAsync(user)).Count(c => c.Status == ModelCallStatus.Processing));

        time.Advance(TimeSpan.FromMinutes(2));
        await cleanup.RunOnceAsync(CancellationToken.None);
        var calls = await host.CallsAsync(user);
        var failed = calls.Where(c => c.Status == ModelCallStatus.Failed).ToList();
        Assert.Equal(2, failed.Count);
        Assert.All(failed, c => Assert.Equal("Timeout: no sign of life from the Api serving it for 10 minutes", c.ErrorReason));
        var account = await host.AccountAsync(user);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(100m - 3 * 0.2m, account.Balance);

        var rollups = worker.Job<UsageRollupJob>();
        await rollups.RunOnceAsync(CancellationToken.None);
        await rollups.RunOnceAsync(CancellationToken.None); // idempotent
        foreach (var granularity in new[] { "hour", "day" })
        {
            var where = $"FROM aignehub.usage_rollups WHERE user_id = @u AND granularity = '{granularity}'";
            Assert.Equal(1, await host.ScalarAsync<int>($"SELECT count(*) {where}", ("u", user)));
            Assert.Equal(5L, await host.ScalarAsync<long>($"SELECT calls {where}", ("u", user)));
            Assert.Equal(3L, await host.ScalarAsync<long>($"SELECT successes {where}", ("u", user)));
            Assert.Equal(300L, await host.ScalarAsync<long>($"SELECT prompt_tokens {where}", ("u", user)));
            Assert.Equal(0.6m, await host.ScalarAsync<decimal>($"SELECT credits {where}", ("u", user)));
            Assert.Equal(20d, await host.ScalarAsync<double>($"SELECT ttfb_p50_ms {where}", ("u", user)));
            Assert.Equal(29d, await host.ScalarAsync<double>($"SELECT ttfb_p95_ms {where}", ("u", user)), 6);
        }

        time.Advance(TimeSpan.FromDays(89));
        var retention = worker.Job<RetentionJob>();
        await retention.RunOnceAsync(CancellationToken.None);
        Assert.Equal(5, (await host.CallsAsync(user)).Count);
        time.Advance(TimeSpan.FromDays(2));
        await retention.RunOnceAsync(CancellationToken.None);
        Assert.Empty(await host.CallsAsync(user));
        Assert.Equal(2, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.usage_rollups WHERE user_id = @u", ("u", user)));
    }
}
