using System.Net.Http.Json;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using AigneHub.Tests.Infrastructure;
using AigneHub.Tests.Management;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Routing;

public sealed class RoutingTests
{
    [Fact]
    public async Task Resolver_serves_prefixed_names_catalogue_names_in_order_and_skips_what_is_disabled()
    {
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Providers:Demo:Enabled"] = "true");
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var resolver = api.Services.GetRequiredService<IModelResolver>();

        var openRouter = await client.CreateProviderAsync("openrouter");
        await client.AddCredentialAsync(openRouter, "sk-or-0000000000001");
        var anthropic = await client.CreateProviderAsync("anthropic");
        await client.AddCredentialAsync(anthropic, "sk-ant-000000000001");
        var openAi = await client.CreateProviderAsync("openai", baseUrl: "http://127.0.0.1:1/v1");
        await client.AddCredentialAsync(openAi, "sk-openai-0000000001");
        await client.CreateProviderAsync("ollama");
        await client.CreateProviderAsync("deepseek"); // no credential

        await client.AddModelAsync("openrouter", "gpt-4o");
        await client.AddModelAsync("anthropic", "gpt-4o");
        await client.AddModelAsync("deepseek", "gpt-4o");
        var openAiGpt4o = await client.AddModelAsync("openai", "gpt-4o");
        await client.AddModelAsync("openrouter", "meta-llama/llama-3.1-8b");
        await client.AddModelAsync("ollama", "llama3.2");
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.PutAsJsonAsync($"/api/admin/providers/{anthropic}", new { enabled = false })).StatusCode);

        // :: Unprefixed: every enabled provider of the catalogue, in catalogue order (anthropic disabled, deepseek keyless).
        var targets = await resolver.ResolveAsync("gpt-4o", ModelType.Chat, default);
        Assert.Equal(["openrouter/gpt-4o", "openai/gpt-4o"], targets.Select(t => t.PublicName));
        Assert.Equal(openRouter, targets[0].ProviderId);
        Assert.Equal(new Uri("https://openrouter.ai/api/v1/"), targets[0].BaseUrl);
        Assert.Equal(new Uri("http://127.0.0.1:1/v1/"), targets[1].BaseUrl);
        // No catalogue entry of that type: the built-in alias gpt-* still sends the name to openai as it is; a name
        // that no alias matches resolves to nothing.
        Assert.Equal(["openai/gpt-4o"], (await resolver.ResolveAsync("gpt-4o", ModelType.Embedding, default)).Select(t => t.PublicName));
        Assert.Empty(await resolver.ResolveAsync("llama3.2", ModelType.Embedding, default));
        Assert.Empty(await resolver.ResolveAsync("no-such-model", ModelType.Chat, default));
        Assert.Empty(await resolver.ResolveAsync("  ", ModelType.Chat, default));

        // A prefix that names no provider is part of the model id.
        var llama = Assert.Single(await resolver.ResolveAsync("meta-llama/llama-3.1-8b", ModelType.Chat, default));
        Assert.Equal(("openrouter", "meta-llama/llama-3.1-8b"), (llama.Kind.Name, llama.Model));
        var ollama = Assert.Single(await resolver.ResolveAsync("llama3.2", ModelType.Chat, default));
        Assert.Equal(new Uri("http://localhost:11434/v1/"), ollama.BaseUrl);
        Assert.Null(await api.Services.GetRequiredService<ICredentialPool>().AcquireAsync(ollama, default));

        // :: Prefixed: that provider, the model id as given, catalogue or not.
        var direct = Assert.Single(await resolver.ResolveAsync("openai/gpt-4o", ModelType.Chat, default));
        Assert.Equal((ProviderKinds.OpenAI, openAi, "gpt-4o"), (direct.Kind, direct.ProviderId, direct.Model));
        Assert.Equal("o3-pro-2099", Assert.Single(await resolver.ResolveAsync("OpenAI/o3-pro-2099", ModelType.Image, default)).Model);
        Assert.Empty(await resolver.ResolveAsync("anthropic/claude-sonnet-4", ModelType.Chat, default));
        Assert.Empty(await resolver.ResolveAsync("xai/grok-4", ModelType.Chat, default));
        Assert.Empty(await resolver.ResolveAsync("openai/", ModelType.Chat, default));

        var demo = Assert.Single(await resolver.ResolveAsync("demo/anything-at-all", ModelType.Chat, default));
        Assert.Equal((ProviderKinds.Demo, (Guid?)null, "anything-at-all"), (demo.Kind, demo.ProviderId, demo.Model));
        Assert.Null(await api.Services.GetRequiredService<ICredentialPool>().AcquireAsync(demo, default));

        // :: A disabled catalogue entry withdraws the model, prefixed or not.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.PutAsJsonAsync($"/api/admin/models/{openAiGpt4o}", new { enabled = false })).StatusCode);
        Assert.Empty(await resolver.ResolveAsync("openai/gpt-4o", ModelType.Chat, default));
        Assert.Equal(["openrouter/gpt-4o"], (await resolver.ResolveAsync("gpt-4o", ModelType.Chat, default)).Select(t => t.PublicName));
    }

    [Fact]
    public async Task Configuration_changed_on_one_replica_is_seen_by_another_at_once()
    {
        await using var first = await ApiFactory.StartAsync();
        await using var second = await ApiFactory.StartAsync(first.DatabaseConnectionString);
        using var client = first.CreateClient(ApiFactory.OwnerKey);
        var resolver = second.Services.GetRequiredService<IModelResolver>();

        // Warm the second replica's snapshot, so only a notification (not the 60 s age limit) can refresh it.
        Assert.Empty(await resolver.ResolveAsync("gpt-4o", ModelType.Chat, default));
        Assert.Empty(await resolver.ResolveAsync("demo/x", ModelType.Chat, default)); // the demo is off unless configured

        var openAi = await client.CreateProviderAsync("openai");
        await client.AddCredentialAsync(openAi, "sk-openai-0000000001");
        await client.AddModelAsync("openai", "gpt-4o");
        await WaitUntilAsync(async () => (await resolver.ResolveAsync("gpt-4o", ModelType.Chat, default)).Count == 1);

        await client.PutAsJsonAsync($"/api/admin/providers/{openAi}", new { enabled = false });
        await WaitUntilAsync(async () => (await resolver.ResolveAsync("gpt-4o", ModelType.Chat, default)).Count == 0);
    }

    [Fact]
    public async Task Credentials_rotate_by_smooth_weighted_round_robin()
    {
        await using var api = await ApiFactory.StartAsync();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await client.CreateProviderAsync("xai");
        var a = await client.AddCredentialAsync(provider, "xai-aaaaaaaaaaaaaaaa", weight: 5);
        var b = await client.AddCredentialAsync(provider, "xai-bbbbbbbbbbbbbbbb", weight: 1);
        var c = await client.AddCredentialAsync(provider, "xai-cccccccccccccccc", weight: 1);
        var pool = api.Services.GetRequiredService<ICredentialPool>();
        var target = Assert.Single(await api.Services.GetRequiredService<IModelResolver>().ResolveAsync("xai/grok-4", ModelType.Chat, default));

        List<Guid> picks = [];
        for (var i = 0; i < 14; i++)
        {
            var lease = await pool.AcquireAsync(target, default);
            picks.Add(lease!.CredentialId);
        }
        Guid[] cycle = [a, a, b, a, c, a, a];
        Assert.Equal([.. cycle, .. cycle], picks);
        var first = await pool.AcquireAsync(target, default);
        Assert.Equal("xai-aaaaaaaaaaaaaaaa", first!.Secret);
    }

    [Fact]
    public async Task Rejected_credential_is_deactivated_and_reactivated_by_the_background_recheck_with_backoff()
    {
        await using var api = await ApiFactory.StartAsync<ManagementApiFactory>();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await client.CreateProviderAsync("openai");
        var bad = await client.AddCredentialAsync(provider, "sk-revoked-000000000001");
        var good = await client.AddCredentialAsync(provider, "sk-working-000000000002");
        await client.AddModelAsync("openai", "gpt-4o-mini");
        var pool = api.Services.GetRequiredService<ICredentialPool>();
        var target = Assert.Single(await api.Services.GetRequiredService<IModelResolver>().ResolveAsync("gpt-4o-mini", ModelType.Chat, default));
        var t0 = api.Time.GetUtcNow();

        var lease = await pool.AcquireAsync(target, default);
        Assert.Equal(bad, lease!.CredentialId);
        await pool.ReportAsync(target, lease, new ProviderException("openai", ProviderErrorClass.InvalidCredential, 401, "Incorrect API key provided."), default);

        var row = await CredentialAsync(api, bad);
        Assert.Equal(CredentialStatus.Inactive, row.Status);
        Assert.Equal("Incorrect API key provided.", row.LastError);
        Assert.Equal(t0 + TimeSpan.FromMinutes(1), row.NextCheckAt);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(good, (await pool.AcquireAsync(target, default))!.CredentialId);
        }

        // :: First re-check after a minute fails: the next one is two minutes later.
        api.Tester.Next = new(false, 5, "Incorrect API key provided.", ProviderErrorClass.InvalidCredential);
        api.Time.Advance(TimeSpan.FromSeconds(61));
        await WaitUntilAsync(async () => (await CredentialAsync(api, bad)).FailedChecks == 1);
        row = await CredentialAsync(api, bad);
        Assert.Equal(CredentialStatus.Inactive, row.Status);
        Assert.Equal(t0 + TimeSpan.FromSeconds(61) + TimeSpan.FromMinutes(2), row.NextCheckAt);
        Assert.Equal(("openai", "sk-revoked-000000000001", "gpt-4o-mini"), Assert.Single(api.Tester.Calls));

        // Not yet due: nothing happens.
        api.Time.Advance(TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        Assert.Single(api.Tester.Calls);

        // :: The key works again: re-activated, back in rotation.
        api.Tester.Next = new(true, 5);
        api.Time.Advance(TimeSpan.FromSeconds(60));
        await WaitUntilAsync(async () => (await CredentialAsync(api, bad)).Status == CredentialStatus.Active);
        row = await CredentialAsync(api, bad);
        Assert.Null(row.LastError);
        Assert.Null(row.NextCheckAt);
        Assert.Equal(0, row.FailedChecks);
        await WaitUntilAsync(async () => (await pool.AcquireAsync(target, default))!.CredentialId == bad);
    }

    [Fact]
    public async Task Rate_limited_credentials_sit_out_their_cool_down_come_back_at_half_weight_and_cool_the_provider_down()
    {
        await using var api = await ApiFactory.StartAsync<ManagementApiFactory>();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await client.CreateProviderAsync("google");
        var a = await client.AddCredentialAsync(provider, "AIza-aaaaaaaaaaaaaaaa");
        var b = await client.AddCredentialAsync(provider, "AIza-bbbbbbbbbbbbbbbb");
        var pool = api.Services.GetRequiredService<ICredentialPool>();
        var target = Assert.Single(await api.Services.GetRequiredService<IModelResolver>().ResolveAsync("google/gemini-2.5-flash", ModelType.Chat, default));
        var askedTwentySeconds = new ProviderException("google", ProviderErrorClass.RateLimited, 429, "Resource has been exhausted.") { RetryAfter = TimeSpan.FromSeconds(20) };

        var leaseA = (await pool.AcquireAsync(target, default))!;
        Assert.Equal(a, leaseA.CredentialId);
        await pool.ReportAsync(target, leaseA, askedTwentySeconds, default);

        // a sits out the 20 s it was asked to: b takes every call.
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(b, (await pool.AcquireAsync(target, default))!.CredentialId);
        }
        Assert.Null(pool.CooldownLeft(target));

        // Back after exactly 20 s, at half weight: b takes two of every three calls (give or take the scores carried
        // over from before the 429).
        api.Time.Advance(TimeSpan.FromSeconds(20));
        var counts = new Dictionary<Guid, int> { [a] = 0, [b] = 0 };
        for (var i = 0; i < 30; i++)
        {
            counts[(await pool.AcquireAsync(target, default))!.CredentialId]++;
        }
        Assert.InRange(counts[a], 9, 11);

        // Every credential cooling: the provider refuses with the shortest wait left, until it passes.
        var leaseB = new CredentialLease(b, "AIza-bbbbbbbbbbbbbbbb");
        await pool.ReportAsync(target, leaseA, askedTwentySeconds, default);
        api.Time.Advance(TimeSpan.FromSeconds(5));
        await pool.ReportAsync(target, leaseB, askedTwentySeconds, default);
        var refused = await Assert.ThrowsAsync<ProviderException>(async () => await pool.AcquireAsync(target, default));
        Assert.Equal(ProviderErrorClass.RateLimited, refused.ErrorClass);
        Assert.Equal(TimeSpan.FromSeconds(15), refused.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(15), pool.CooldownLeft(target));

        // A success restores a credential at once (full weight); the other recovers when its wait passes.
        await pool.ReportAsync(target, leaseB, null, default);
        Assert.Equal(b, (await pool.AcquireAsync(target, default))!.CredentialId);
        api.Time.Advance(TimeSpan.FromSeconds(15));
        counts = new Dictionary<Guid, int> { [a] = 0, [b] = 0 };
        for (var i = 0; i < 30; i++)
        {
            counts[(await pool.AcquireAsync(target, default))!.CredentialId]++;
        }
        Assert.InRange(counts[a], 5, 7); // a is at a quarter (halved twice), b at full weight: a takes 1 in 5

        // Nothing of this was written to Postgres: both stay active.
        Assert.Equal(CredentialStatus.Active, (await CredentialAsync(api, a)).Status);
        Assert.Equal(CredentialStatus.Active, (await CredentialAsync(api, b)).Status);
    }

    internal static async Task<ProviderCredential> CredentialAsync(ApiFactory api, Guid id)
    {
        await using var scope = api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AigneHubDbContext>().Set<ProviderCredential>().AsNoTracking().SingleAsync(c => c.Id == id);
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 10 s");
            await Task.Delay(50);
        }
    }
}
