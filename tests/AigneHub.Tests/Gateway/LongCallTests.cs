using System.Text;
using AigneHub.Api.Billing;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using AigneHub.Tests.Worker;
using AigneHub.Worker.Jobs;
using Microsoft.Extensions.Time.Testing;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Calls longer than the stale-call window: the Api's lease keeps a live call away from the cleanup so it is
/// billed when it ends; the maximum duration ends a call cleanly (billing what was delivered); the rollups count a
/// call in its bucket however late it closes, and catch up after a Worker outage.
/// </summary>
public sealed class LongCallTests
{
    private const string Model = "openai/gpt-4o-mini";
    private const decimal InputRate = 0.001m;
    private const decimal OutputRate = 0.002m;

    private static async Task<(BillingHost Host, FakeTimeProvider Clock, FakeOpenAI Fake, Guid Member, string Key)> StartAsync(int maxCallMinutes)
    {
        var fake = await FakeOpenAI.StartAsync();
        FakeTimeProvider clock = null!;
        var host = await BillingHost.StartAsync<ClockedApiFactory>(f =>
        {
            clock = f.Time;
            f.Settings["AigneHub:Billing:CallLeaseSeconds"] = "60";
            f.Settings["AigneHub:Billing:MaxCallMinutes"] = maxCallMinutes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-long-0123456789", "gpt-4o-mini");
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat),
            InputRate.ToString(System.Globalization.CultureInfo.InvariantCulture), OutputRate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "100");
        return (host, clock, fake, member, key);
    }

    private static HttpRequestMessage Stream() => new(HttpMethod.Post, "/api/v2/chat/completions")
    {
        Content = new StringContent($$"""{"model":"{{Model}}","stream":true,"max_tokens":100,"messages":[{"role":"user","content":"think long"}]}""", Encoding.UTF8, "application/json"),
    };

    [Fact]
    public async Task A_call_running_past_the_stale_window_keeps_its_lease_and_is_billed_when_it_ends()
    {
        var (host, clock, fake, member, key) = await StartAsync(maxCallMinutes: 120);
        await using var _ = host;
        await using var __ = fake;
        var reply = new FakeReply { Text = "a long reasoned answer", InputTokens = 30, OutputTokens = 12, DelayBeforeLastEvent = TimeSpan.FromSeconds(15) };
        fake.Enqueue(reply);
        using var client = host.Api.CreateClient(key);
        using var response = await client.SendAsync(Stream(), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        var started = clock.GetUtcNow();

        // 40 minutes pass on the Api's clock while the provider is still answering: its lease is renewed.
        clock.Advance(TimeSpan.FromMinutes(40));
        await AigneHub.Tests.Routing.RoutingTests.WaitUntilAsync(async () => await host.ScalarAsync<DateTime?>("SELECT last_activity_at FROM aignehub.model_calls WHERE user_id = @u", ("u", member)) is { } at
            && new DateTimeOffset(at, TimeSpan.Zero) >= started.AddMinutes(40));
        await using (var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(started.AddMinutes(41))))
        {
            await worker.Job<StaleCallCleanupJob>().RunOnceAsync(CancellationToken.None);
        }
        Assert.Equal(ModelCallStatus.Processing, Assert.Single(await host.CallsAsync(member)).Status);

        await reader.ReadToEndAsync();
        var call = await host.WaitForSettledAsync(member);
        var expected = reply.InputTokens * InputRate + reply.OutputTokens * OutputRate;
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task A_call_reaching_its_maximum_duration_is_ended_cleanly_and_billed_for_what_was_delivered()
    {
        var (host, clock, fake, member, key) = await StartAsync(maxCallMinutes: 60);
        await using var _ = host;
        await using var __ = fake;
        // The first word comes at once, the rest (and the usage chunk) far later than the deadline.
        fake.Enqueue(new FakeReply { Text = "alpha beta gamma delta", DelayBetweenEvents = TimeSpan.FromSeconds(30) });
        using var client = host.Api.CreateClient(key);
        using var response = await client.SendAsync(Stream(), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());

        clock.Advance(TimeSpan.FromMinutes(61));
        var rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Contains("maximum duration", rest, StringComparison.Ordinal);
        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.True(call.Estimated, "the provider's usage never came; what was delivered is estimated");
        Assert.Contains("maximum duration", call.ErrorReason, StringComparison.Ordinal);
        Assert.True(call.Credits > 0, "what was delivered is billed");
        Assert.Equal(call.Credits, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task A_call_closing_hours_after_it_started_is_rolled_up_in_its_bucket_after_any_worker_outage()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "100");
        var now = DateTimeOffset.UtcNow;
        var estimate = new CallEstimate { PromptTokens = 10, MaxOutputTokens = 10 };
        async Task CallStartedAsync(DateTimeOffset startedAt)
        {
            var ticket = await host.Recorder.StartAsync(BillingHost.Context(user) with { StartedAt = startedAt }, [BillingHost.Gpt], estimate, CancellationToken.None);
            await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 10, 5), CancellationToken.None);
        }
        Task<long> HourCallsAsync(DateTimeOffset at) => host.ScalarAsync<long>(
            "SELECT coalesce(sum(calls), 0) FROM aignehub.usage_rollups WHERE user_id = @u AND granularity = 'hour' AND bucket_start = date_trunc('hour', @at, 'UTC')",
            ("u", user), ("at", at));

        // The Worker never ran before: its first run rolls up a call that started five hours ago and just closed.
        await CallStartedAsync(now.AddHours(-5));
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now));
        await worker.Job<UsageRollupJob>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1L, await HourCallsAsync(now.AddHours(-5)));

        // Then a call that started four hours ago closes; the next run (a minute later) still finds its bucket.
        await CallStartedAsync(now.AddHours(-4));
        worker.Time.Advance(TimeSpan.FromMinutes(1));
        await worker.Job<UsageRollupJob>().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1L, await HourCallsAsync(now.AddHours(-4)));
        Assert.Equal(1L, await HourCallsAsync(now.AddHours(-5)));
        Assert.Equal(2L, await host.ScalarAsync<long>(
            "SELECT coalesce(sum(calls), 0) FROM aignehub.usage_rollups WHERE user_id = @u AND granularity = 'day'", ("u", user)));
    }
}
