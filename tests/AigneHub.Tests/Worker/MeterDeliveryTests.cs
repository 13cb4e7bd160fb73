using System.Collections.Concurrent;
using AigneHub.Api.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Worker.Jobs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AigneHub.Tests.Worker;

public sealed class MeterDeliveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_worker_killed_mid_delivery_and_restarted_delivers_every_meter_event_once()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "1000");
        var callIds = new HashSet<Guid>();
        for (var i = 0; i < 30; i++)
        {
            var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 10, MaxOutputTokens = 10 }, CancellationToken.None);
            await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 10, 10), CancellationToken.None);
            callIds.Add(ticket.CallId);
        }

        await using var sink = await FakeMeterSink.StartAsync(blockAtRequest: 11);
        var settings = new Dictionary<string, string?>
        {
            ["AigneHub:Billing:MeterSink:Url"] = sink.Url,
            ["AigneHub:Worker:MeterLeaseSeconds"] = "120",
        };
        var now = DateTimeOffset.UtcNow.AddSeconds(1);

        // :: The first worker delivers ten events, then hangs in the eleventh request and is killed.
        await using (var first = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now), settings))
        {
            using var kill = new CancellationTokenSource();
            var run = first.Job<MeterDeliveryJob>().RunOnceAsync(kill.Token);
            await sink.Blocked.WaitAsync(TimeSpan.FromSeconds(30));
            kill.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        }
        Assert.Equal(10, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.meter_events WHERE delivered_at IS NOT NULL"));
        sink.Unblock();

        // :: A replica running before the lease lapses leaves the dead worker's claimed events alone.
        await using (var early = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now.AddSeconds(60)), settings))
        {
            await early.Job<MeterDeliveryJob>().RunOnceAsync(CancellationToken.None);
        }
        Assert.Equal(11, sink.Requests);

        // :: After the lease, the restarted worker delivers the rest; the one cut mid-request is redelivered under
        // the same idempotency key, which the sink recognises.
        await using (var restarted = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(now.AddSeconds(121)), settings))
        {
            await restarted.Job<MeterDeliveryJob>().RunOnceAsync(CancellationToken.None);
        }

        output.WriteLine($"sink requests {sink.Requests}, distinct idempotency keys {sink.Accepted.Count}");
        Assert.Equal(0, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.meter_events WHERE delivered_at IS NULL"));
        Assert.Equal(callIds.OrderBy(x => x), sink.Accepted.Keys.OrderBy(x => x));
        Assert.True(sink.Accepted.Values.All(n => n <= 2), "only the event cut mid-request may be seen twice");
        Assert.Equal(31, sink.Requests);
        Assert.Equal(30, sink.Accepted.Count);
    }

    [Fact]
    public async Task A_failing_sink_is_retried_with_backoff_until_it_accepts()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "10");
        var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 10 }, CancellationToken.None);
        await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 10, 10), CancellationToken.None);

        await using var sink = await FakeMeterSink.StartAsync(failFirst: 2);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddSeconds(1));
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, time, new() { ["AigneHub:Billing:MeterSink:Url"] = sink.Url });
        var job = worker.Job<MeterDeliveryJob>();

        await job.RunOnceAsync(CancellationToken.None); // 503
        await job.RunOnceAsync(CancellationToken.None); // not due yet: nothing sent
        Assert.Equal(1, sink.Requests);
        time.Advance(TimeSpan.FromSeconds(6));
        await job.RunOnceAsync(CancellationToken.None); // 503 again, backoff doubles
        time.Advance(TimeSpan.FromSeconds(6));
        await job.RunOnceAsync(CancellationToken.None);
        Assert.Equal(2, sink.Requests);
        time.Advance(TimeSpan.FromSeconds(5));
        await job.RunOnceAsync(CancellationToken.None); // accepted
        Assert.Equal(3, sink.Requests);
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.meter_events WHERE delivered_at IS NOT NULL AND attempts = 3 AND last_error IS NULL"));
    }
}

public sealed class MeterLeaseTests
{
    private static async Task<(BillingHost Host, List<Guid> Calls)> SettledCallsAsync(int count)
    {
        var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.GrantAsync(user, "1000");
        List<Guid> calls = [];
        for (var i = 0; i < count; i++)
        {
            var ticket = await host.Recorder.StartAsync(BillingHost.Context(user), [BillingHost.Gpt], new CallEstimate { PromptTokens = 10, MaxOutputTokens = 10 }, CancellationToken.None);
            await host.Recorder.CompleteAsync(ticket, BillingHost.Success(BillingHost.Gpt, 10, 10), CancellationToken.None);
            calls.Add(ticket.CallId);
        }
        return (host, calls);
    }

    [Fact]
    public async Task Two_workers_and_a_sink_slower_than_the_lease_deliver_the_tail_of_a_batch_once()
    {
        var (host, calls) = await SettledCallsAsync(5);
        await using var _ = host;
        await using var sink = await FakeMeterSink.StartAsync(blockAtRequest: 1, acceptBlocked: true);
        var settings = new Dictionary<string, string?>
        {
            ["AigneHub:Billing:MeterSink:Url"] = sink.Url,
            ["AigneHub:Worker:MeterLeaseSeconds"] = "120",
            ["AigneHub:Worker:MeterSinkTimeoutSeconds"] = "30",
        };
        var start = DateTimeOffset.UtcNow.AddSeconds(1);

        // :: Worker A claims all five and its first delivery takes longer than the whole lease.
        await using var a = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(start), settings);
        var runA = a.Job<MeterDeliveryJob>().RunOnceAsync(CancellationToken.None);
        await sink.Blocked.WaitAsync(TimeSpan.FromSeconds(30));
        a.Time.Advance(TimeSpan.FromSeconds(121));

        // :: Worker B finds the lapsed lease and delivers the batch, A's slow event included.
        await using (var b = new WorkerJobHost(host.Api.DatabaseConnectionString, new FakeTimeProvider(start.AddSeconds(121)), settings))
        {
            await b.Job<MeterDeliveryJob>().RunOnceAsync(CancellationToken.None);
        }
        sink.Unblock();
        await runA.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.meter_events WHERE delivered_at IS NULL"));
        Assert.Equal(calls.OrderBy(x => x), sink.Accepted.Keys.OrderBy(x => x));
        // Only the event whose delivery outlasted its lease could be seen twice (same idempotency key); the tail of
        // A's batch went out once, from B.
        Assert.Equal(4, sink.Accepted.Count(kv => kv.Value == 1));
        Assert.Equal(6, sink.Requests);
    }

    [Fact]
    public async Task An_event_the_sink_refuses_for_good_is_dead_lettered_listed_and_delivered_after_an_admin_retry()
    {
        var (host, calls) = await SettledCallsAsync(1);
        await using var _ = host;
        await using var sink = await FakeMeterSink.StartAsync(failFirst: 1, failStatus: 422);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddSeconds(1));
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, time, new() { ["AigneHub:Billing:MeterSink:Url"] = sink.Url });
        var job = worker.Job<MeterDeliveryJob>();
        using var owner = host.Owner;

        await job.RunOnceAsync(CancellationToken.None); // 422: never retried on its own
        time.Advance(TimeSpan.FromHours(2));
        await job.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, sink.Requests);
        var dead = System.Text.Json.Nodes.JsonNode.Parse(await owner.GetStringAsync("/api/admin/meter-events/dead"))!.AsArray();
        var entry = Assert.Single(dead)!;
        Assert.Equal(calls[0], (Guid?)entry["modelCallId"]);
        Assert.Equal(1, (int?)entry["attempts"]);
        Assert.Contains("422", (string?)entry["lastError"], StringComparison.Ordinal);

        using (var retry = await owner.PostAsync($"/api/admin/meter-events/{calls[0]}/retry", null))
        {
            Assert.Equal(System.Net.HttpStatusCode.NoContent, retry.StatusCode);
        }
        time.Advance(TimeSpan.FromSeconds(1));
        await job.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, sink.Accepted[calls[0]]);
        Assert.Empty(System.Text.Json.Nodes.JsonNode.Parse(await owner.GetStringAsync("/api/admin/meter-events/dead"))!.AsArray());
        using var again = await owner.PostAsync($"/api/admin/meter-events/{calls[0]}/retry", null);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task An_event_that_keeps_failing_is_dead_lettered_after_its_last_attempt()
    {
        var (host, _) = await SettledCallsAsync(1);
        await using var __ = host;
        await using var sink = await FakeMeterSink.StartAsync(failFirst: 100);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddSeconds(1));
        await using var worker = new WorkerJobHost(host.Api.DatabaseConnectionString, time, new()
        {
            ["AigneHub:Billing:MeterSink:Url"] = sink.Url,
            ["AigneHub:Worker:MeterMaxAttempts"] = "3",
        });
        var job = worker.Job<MeterDeliveryJob>();

        for (var i = 0; i < 6; i++)
        {
            await job.RunOnceAsync(CancellationToken.None);
            time.Advance(TimeSpan.FromMinutes(5));
        }

        Assert.Equal(3, sink.Requests);
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.meter_events WHERE dead_at IS NOT NULL AND attempts = 3"));
    }
}

/// <summary>An external billing system on real Kestrel that counts idempotency keys; it can hang or fail on demand.</summary>
internal sealed class FakeMeterSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _unblock = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;

    private FakeMeterSink(WebApplication app) => _app = app;

    public ConcurrentDictionary<Guid, int> Accepted { get; } = new();

    public int Requests => Volatile.Read(ref _requests);

    public Task Blocked => _blocked.Task;

    public string Url { get; private set; } = "";

    public void Unblock() => _unblock.TrySetResult();

    /// <param name="blockAtRequest">Hold this request (1-based) until <see cref="Unblock"/>.</param>
    /// <param name="acceptBlocked">The held request is then accepted (a slow sink), else answered 503 (a dead worker's).</param>
    /// <param name="failFirst">Answer the first N requests with <paramref name="failStatus"/>.</param>
    public static async Task<FakeMeterSink> StartAsync(int blockAtRequest = 0, int failFirst = 0, bool acceptBlocked = false, int failStatus = 503)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var sink = new FakeMeterSink(app);
        app.MapPost("/meter", async (HttpContext context) =>
        {
            var n = Interlocked.Increment(ref sink._requests);
            if (n <= failFirst)
            {
                return Results.StatusCode(failStatus);
            }
            var key = Guid.Parse(context.Request.Headers["Idempotency-Key"].ToString());
            using var body = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body);
            Assert.Equal(key, body.RootElement.GetProperty("id").GetGuid());
            if (n == blockAtRequest)
            {
                sink._blocked.TrySetResult();
                await sink._unblock.Task;
                if (!acceptBlocked)
                {
                    return Results.StatusCode(503); // the worker is gone; nobody reads this
                }
            }
            sink.Accepted.AddOrUpdate(key, 1, (_, count) => count + 1);
            return Results.Ok();
        });
        await app.StartAsync();
        sink.Url = app.Urls.First() + "/meter";
        return sink;
    }

    public async ValueTask DisposeAsync()
    {
        Unblock();
        await _app.DisposeAsync();
    }
}
