using System.Collections.Concurrent;
using System.Diagnostics;
using AigneHub.Api.Billing;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Tests.Billing;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace AigneHub.Tests.Infrastructure;

public sealed class ReplicatedCacheTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_load_overtaken_by_an_invalidation_is_served_but_not_cached()
    {
        await using var api = await ApiFactory.StartAsync();
        var cache = api.Services.GetRequiredService<ReplicatedCache>();
        var entry = ReplicatedCache.Lookup(TimeSpan.FromMinutes(5));
        var started = new TaskCompletionSource();
        var release = new TaskCompletionSource();

        // The load reads "old"; the change (and its invalidation) lands before the load returns.
        var racing = cache.GetOrLoadAsync<string>("test:race", async (_, _) =>
        {
            started.SetResult();
            await release.Task;
            return "old";
        }, entry, CancellationToken.None).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cache.InvalidateAsync("test:race");
        release.SetResult();

        Assert.Equal("old", await racing);
        Assert.Equal("new", await cache.GetOrLoadAsync<string>("test:race", (_, _) => Task.FromResult("new"), entry, CancellationToken.None));
        // Loaded after the invalidation: kept.
        Assert.Equal("new", await cache.GetOrLoadAsync<string>("test:race", (_, _) => Task.FromResult("newer"), entry, CancellationToken.None));
    }

    [Fact]
    public async Task The_backplane_borrows_the_apis_redis_connection_and_cannot_close_it()
    {
        await using var api = await ApiFactory.StartAsync();
        var redis = api.Services.GetRequiredService<IConnectionMultiplexer>();
        // FusionCache's backplane disposes the multiplexer it was handed when the cache is disposed.
        var borrowed = ReplicatedCache.BorrowedMultiplexer.Wrap(redis);

        Assert.True(await borrowed.GetDatabase().PingAsync() > TimeSpan.Zero);
        borrowed.Dispose();
        await borrowed.DisposeAsync();
        borrowed.Close();
        await borrowed.CloseAsync();

        Assert.True(redis.IsConnected);
        Assert.True(await redis.GetDatabase().PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task With_redis_unreachable_the_api_serves_from_memory_and_applies_its_own_changes_at_once()
    {
        // Nothing listens on port 1: every Redis operation fails fast.
        await using var host = await BillingHost.StartAsync(f =>
            f.Settings["ConnectionStrings:redis"] = "127.0.0.1:1,abortConnect=false,connectTimeout=200,syncTimeout=200,asyncTimeout=200");
        Assert.False(host.Api.Services.GetRequiredService<IConnectionMultiplexer>().IsConnected);

        using var owner = host.Owner;
        Assert.Equal(System.Net.HttpStatusCode.OK, (await owner.GetAsync("/api/v2/me")).StatusCode);
        var id = (await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002"))["id"]!.GetValue<Guid>();
        var rates = host.Api.Services.GetRequiredService<IRateCatalog>();
        Assert.Equal(0.002m, (await rates.GetAsync(default)).Find("openai", "gpt-test", ModelType.Chat)!.OutputRate);

        // The change cannot be published, yet the request succeeds and this replica sees it at once.
        using var put = await owner.PutAsync($"/api/admin/model-rates/{id}", new StringContent(
            """{"provider":"openai","model":"gpt-test","type":"chat","inputRate":"0.001","outputRate":"0.005"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
        Assert.Equal(0.005m, (await rates.GetAsync(default)).Find("openai", "gpt-test", ModelType.Chat)!.OutputRate);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await owner.GetAsync("/api/v2/me")).StatusCode);
    }

    /// <summary>
    /// What a hit costs on each hot-path lookup, through the public surface the gateway calls: printed, not
    /// asserted (a wall-clock assertion would be flaky). Asserted: hits send nothing to Redis.
    /// </summary>
    [Fact]
    public async Task Hits_stay_in_memory_and_their_cost_is_printed()
    {
        const int Hits = 20_000;
        await using var api = await ApiFactory.StartAsync();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await client.CreateProviderAsync("openai");
        await client.AddCredentialAsync(provider, "sk-openai-0000000001");
        var keys = api.Services.GetRequiredService<AccessKeyCache>();
        var resolver = api.Services.GetRequiredService<IModelResolver>();
        var pool = api.Services.GetRequiredService<ICredentialPool>();
        var rates = api.Services.GetRequiredService<IRateCatalog>();
        var redis = api.Services.GetRequiredService<IConnectionMultiplexer>();
        var hash = AccessKeySecrets.Hash(ApiFactory.OwnerKey);
        var target = Assert.Single(await resolver.ResolveAsync("openai/gpt-4o", ModelType.Chat, default));
        var dictionary = new ConcurrentDictionary<string, object> { [AccessKeyCache.CacheKey(hash)] = new() };

        var operationsBefore = OperationCount(redis);
        await MeasureAsync("ConcurrentDictionary lookup of the same key (for scale)", () =>
        {
            Assert.True(dictionary.TryGetValue(AccessKeyCache.CacheKey(hash), out _));
            return ValueTask.CompletedTask;
        });
        await MeasureAsync("access key by hash", async () => Assert.NotNull(await keys.FindAsync(hash, default)));
        await MeasureAsync("model resolution", async () => Assert.Single(await resolver.ResolveAsync("openai/gpt-4o", ModelType.Chat, default)));
        await MeasureAsync("credential", async () => Assert.NotNull(await pool.AcquireAsync(target, default)));
        await MeasureAsync("rate snapshot", async () => Assert.NotNull(await rates.GetAsync(default)));
        var operations = OperationCount(redis) - operationsBefore;

        // A Redis heartbeat may fall into the window; a hit going to Redis would add one operation per hit.
        Assert.InRange(operations, 0, 5);

        async Task MeasureAsync(string name, Func<ValueTask> hit)
        {
            for (var i = 0; i < 1000; i++)
            {
                await hit();
            }
            // Per thread: a hit completes synchronously, so the loop stays on this one.
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < Hits; i++)
            {
                await hit();
            }
            var elapsed = Stopwatch.GetElapsedTime(start);
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            output.WriteLine($"{name}: {elapsed.TotalNanoseconds / Hits:0} ns, {allocated / (double)Hits:0} B per hit");
        }
    }

    private static long OperationCount(IConnectionMultiplexer redis) => redis.GetEndPoints()
        .Select(e => redis.GetServer(e).GetCounters())
        .Sum(c => c.Interactive.OperationCount + c.Subscription.OperationCount);
}
