using System.Net;
using AigneHub.Api.Providers;
using AigneHub.Api.Management;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using AigneHub.Tests.Infrastructure;
using AigneHub.Tests.Management;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Routing;

public sealed class ModelHealthTests
{
    [Fact]
    public async Task Health_is_written_only_when_availability_or_the_error_class_changes_and_the_status_route_reports_it()
    {
        await using var api = await ApiFactory.StartAsync<ManagementApiFactory>();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await client.CreateProviderAsync("anthropic");
        await client.AddCredentialAsync(provider, "sk-ant-api03-000000000001");
        await client.AddModelAsync("anthropic", "claude-sonnet-4");
        var tracker = api.Services.GetRequiredService<IModelHealthTracker>();
        var target = Assert.Single(await api.Services.GetRequiredService<IModelResolver>().ResolveAsync("claude-sonnet-4", ModelType.Chat, default));
        var unavailable = new ProviderException("anthropic", ProviderErrorClass.Unavailable, 529, "Overloaded");
        var timeout = new ProviderException("anthropic", ProviderErrorClass.Timeout, null, "No response within 300 s.");
        var badRequest = new ProviderException("anthropic", ProviderErrorClass.BadRequest, 400, "max_tokens: too large");

        // Each step: what is recorded, and which step's write the row must show (a write stamps the step's time).
        (ProviderException? Error, int WrittenAtStep)[] steps =
        [
            (null, 0),        // first knowledge: written
            (null, 0),        // unchanged
            (unavailable, 2), // flip
            (unavailable, 2), // unchanged
            (timeout, 4),     // error class changed
            (badRequest, 4),  // the caller's fault says nothing about the model
            (null, 6),        // flip back
            (null, 6),
        ];
        var startedAt = api.Time.GetUtcNow();
        for (var step = 0; step < steps.Length; step++)
        {
            await tracker.RecordAsync(target, steps[step].Error, TimeSpan.FromMilliseconds(100 + step), default);
            var rows = await RowsAsync(api);
            var row = Assert.Single(rows);
            Assert.Equal(startedAt + TimeSpan.FromMinutes(steps[step].WrittenAtStep), row.ChangedAt);
            Assert.Equal(100 + steps[step].WrittenAtStep, row.ResponseTimeMs);
            Assert.Equal(steps[steps[step].WrittenAtStep].Error is null, row.Available);
            Assert.Equal(steps[steps[step].WrittenAtStep].Error?.ErrorClass.ToString(), row.ErrorClass);

            if (step == 3)
            {
                var down = await AdminClient.ReadAsync(await client.GetAsync("/api/v2/status?model=claude-sonnet-4"));
                Assert.False(down["available"]!.GetValue<bool>());
                Assert.Contains("Unavailable", down["error"]!.GetValue<string>());
                Assert.Contains("Overloaded", down["error"]!.GetValue<string>());
                var view = api.Services.GetRequiredService<IModelHealthView>();
                Assert.False((await view.GetAsync("anthropic", "claude-sonnet-4", ModelType.Chat, default))!.Available);
            }
            api.Time.Advance(TimeSpan.FromMinutes(1));
        }

        var up = await AdminClient.ReadAsync(await client.GetAsync("/api/v2/status?model=anthropic/claude-sonnet-4"));
        Assert.True(up["available"]!.GetValue<bool>());
        Assert.Null(up["error"]);
        var unknown = await AdminClient.ReadAsync(await client.GetAsync("/api/v2/status?model=nothing-serves-this"));
        Assert.False(unknown["available"]!.GetValue<bool>());
        Assert.Contains("nothing-serves-this", unknown["error"]!.GetValue<string>());
        // Never recorded: assumed available.
        Assert.True((await AdminClient.ReadAsync(await client.GetAsync("/api/v2/status?model=anthropic/claude-opus-4")))["available"]!.GetValue<bool>());
        await AdminClient.AssertErrorAsync(await client.GetAsync("/api/v2/status"), HttpStatusCode.BadRequest, "model");
        await AdminClient.AssertErrorAsync(await client.GetAsync("/api/v2/status?model=x&type=music"), HttpStatusCode.BadRequest, "type");
        using var anonymous = api.CreateClient(bearer: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v2/status?model=x")).StatusCode);
    }

    [Fact]
    public async Task A_health_flip_on_one_replica_reaches_the_other_replicas_view_at_once()
    {
        await using var first = await ApiFactory.StartAsync();
        await using var second = await ApiFactory.StartAsync(first.DatabaseConnectionString);
        using var client = first.CreateClient(ApiFactory.OwnerKey);
        var provider = await client.CreateProviderAsync("anthropic");
        await client.AddCredentialAsync(provider, "sk-ant-api03-000000000001");
        await client.AddModelAsync("anthropic", "claude-sonnet-4");
        var target = Assert.Single(await first.Services.GetRequiredService<IModelResolver>().ResolveAsync("claude-sonnet-4", ModelType.Chat, default));
        var view = second.Services.GetRequiredService<IModelHealthView>();
        // Warm the second replica's health snapshot: nothing recorded yet.
        Assert.Null(await view.GetAsync("anthropic", "claude-sonnet-4", ModelType.Chat, default));

        await first.Services.GetRequiredService<IModelHealthTracker>().RecordAsync(target,
            new ProviderException("anthropic", ProviderErrorClass.Unavailable, 529, "Overloaded"), TimeSpan.FromMilliseconds(80), default);

        await RoutingTests.WaitUntilAsync(async () => await view.GetAsync("anthropic", "claude-sonnet-4", ModelType.Chat, default) is { Available: false });
        Assert.Equal(nameof(ProviderErrorClass.Unavailable), (await view.GetAsync("anthropic", "claude-sonnet-4", ModelType.Chat, default))!.ErrorClass);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("", false)]
    [InlineData("too-short", false)]
    [InlineData("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd", false)] // 30 bytes
    [InlineData("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", true)]
    [InlineData("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", true)]
    public void Master_key_is_validated_naming_the_setting(string? key, bool valid)
    {
        var result = new ValidateSecretsOptions().Validate(null, new SecretsOptions { MasterKey = key });
        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.Contains("AigneHub:Secrets:MasterKey", result.FailureMessage);
        }
        else
        {
            var protector = new CredentialProtector(Options.Create(new SecretsOptions { MasterKey = key }));
            var id = Guid.NewGuid();
            var sealedValue = protector.Protect(id, "sk-roundtrip");
            Assert.Equal("sk-roundtrip", protector.Unprotect(id, sealedValue));
            sealedValue[^1] ^= 1;
            Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => protector.Unprotect(id, sealedValue));
        }
    }

    private static async Task<List<ModelHealth>> RowsAsync(ApiFactory api)
    {
        await using var scope = api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AigneHubDbContext>().Set<ModelHealth>().AsNoTracking().ToListAsync();
    }
}
