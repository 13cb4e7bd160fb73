using System.Net;
using System.Text;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Issue 12 item 10: when the Api is asked to stop, calls still running when the drain
/// (<c>AigneHub:Gateway:ShutdownDrainSeconds</c>) runs out are ended cleanly — a stream with the protocol's error
/// event, an answer not yet begun with a 503 and Retry-After — and settled; the host waits for that. (The process
/// version, SIGTERM with exit code 0, is the <c>shutdown</c> drill in <c>drills/</c>.)
/// </summary>
public sealed class GracefulShutdownTests
{
    private const string Model = "openai/gpt-4o-mini";

    [Fact]
    public async Task Calls_running_past_the_drain_are_ended_in_their_protocol_and_settled()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var host = await BillingHost.StartAsync<ApiFactory>(f => f.Settings["AigneHub:Gateway:ShutdownDrainSeconds"] = "1");
        Guid streamer, waiter;
        string streamerKey, waiterKey;
        using (var owner = host.Owner)
        {
            await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-shutdown-0123456789", "gpt-4o-mini");
            (streamer, streamerKey) = await owner.CreateMemberAsync();
            (waiter, waiterKey) = await owner.CreateMemberAsync();
        }
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat), "0", "0.1");
        await host.GrantAsync(streamer, "100");
        await host.GrantAsync(waiter, "100");
        // The stream's first token reaches its caller, the rest is held; the JSON answer is held before its headers.
        fake.Enqueue(new FakeReply { Text = "one two three four", DelayBeforeLastEvent = TimeSpan.FromSeconds(60) });
        fake.Enqueue(new FakeReply { Text = "late", DelayBeforeHeaders = TimeSpan.FromSeconds(60) });

        using var streamClient = host.Api.CreateClient(streamerKey);
        using var streamRequest = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
        {
            Content = Json($$"""{"model":"{{Model}}","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"""),
        };
        using var stream = await streamClient.SendAsync(streamRequest, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync());
        Assert.StartsWith("data: ", await reader.ReadLineAsync());
        using var jsonClient = host.Api.CreateClient(waiterKey);
        var json = jsonClient.PostAsync("/api/v2/chat/completions", Json($$"""{"model":"{{Model}}","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"""));
        for (var i = 0; i < 200 && fake.Requests.Count < 2; i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal(2, fake.Requests.Count);

        host.Api.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        var rest = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Contains("\"error\"", rest, StringComparison.Ordinal);
        Assert.Contains("restarting", rest, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", rest, StringComparison.Ordinal);
        using var refused = await json.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);

        // The host stopped (its services are disposed): the records are read from the database itself.
        async Task<T> ScalarAsync<T>(string sql, Guid user) => await host.ScalarAsync<T>(sql, ("u", user));
        const string StatusOf = "SELECT status FROM aignehub.model_calls WHERE user_id = @u";
        for (var i = 0; i < 200 && (await ScalarAsync<string>(StatusOf, streamer) == "processing" || await ScalarAsync<string>(StatusOf, waiter) == "processing"); i++)
        {
            await Task.Delay(50);
        }
        Assert.Equal("success", await ScalarAsync<string>(StatusOf, streamer)); // what was delivered is billed
        Assert.Equal("failed", await ScalarAsync<string>(StatusOf, waiter));
        Assert.Equal(0m, await ScalarAsync<decimal>("SELECT credits FROM aignehub.model_calls WHERE user_id = @u", waiter));
        Assert.Equal(0m, await host.ScalarAsync<decimal>("SELECT sum(reserved) FROM aignehub.credit_accounts"));
        Assert.Equal(await ScalarAsync<decimal>("SELECT credits FROM aignehub.model_calls WHERE user_id = @u", streamer),
            await host.DebitsAsync(streamer));
    }

    /// <summary>
    /// Issue 13: a served call's request ends before its settlement has committed (the settlement runs on, detached).
    /// Stopping the Api waits for such a settlement: here it is held off by a lock on the account row when the Api is
    /// asked to stop, the host is still stopping while the lock is held, and once the lock goes the call is charged
    /// and the host stops.
    /// </summary>
    [Fact]
    public async Task Stopping_waits_for_a_settlement_that_runs_after_its_request()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var host = await BillingHost.StartAsync<ApiFactory>(f =>
        {
            f.Settings["AigneHub:Gateway:ShutdownDrainSeconds"] = "1";
            f.Settings["AigneHub:Billing:SettleSeconds"] = "120";
        });
        Guid member;
        string key;
        using (var owner = host.Owner)
        {
            await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-shutdown-0123456789", "gpt-4o-mini");
            (member, key) = await owner.CreateMemberAsync();
        }
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat), "0", "0.1");
        await host.GrantAsync(member, "1000");
        const int outputTokens = 4;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.Enqueue(new FakeReply { OutputTokens = outputTokens, Hold = gate.Task });
        using var client = host.Api.CreateClient(key);
        var call = client.PostAsync("/api/v2/chat/completions", Json($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}"""));
        for (var i = 0; i < 600 && fake.Requests.Count < 1; i++)
        {
            await Task.Delay(50);
        }
        await using var locker = new Npgsql.NpgsqlConnection(host.Api.DatabaseConnectionString);
        await locker.OpenAsync();
        await using var hold = await locker.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM aignehub.credit_accounts WHERE user_id = @u FOR UPDATE", locker, hold))
        {
            lockRow.Parameters.AddWithValue("u", member);
            Assert.Equal(1, await lockRow.ExecuteScalarAsync());
        }
        gate.SetResult();
        using var response = await call.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var lifetime = host.Api.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStopped = lifetime.ApplicationStopped.Register(() => stopped.TrySetResult());
        lifetime.StopApplication();
        // The drain (1 s) is over and nothing else is running: only the held settlement keeps the host up.
        var stoppedWhileHeld = await Task.WhenAny(stopped.Task, Task.Delay(TimeSpan.FromSeconds(4))) == stopped.Task;
        await hold.RollbackAsync();
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.False(stoppedWhileHeld, "the host stopped while a settlement was still running");
        Assert.Equal("success", await host.ScalarAsync<string>("SELECT status FROM aignehub.model_calls WHERE user_id = @u", ("u", member)));
        Assert.Equal(outputTokens * 0.1m, await host.ScalarAsync<decimal>("SELECT credits FROM aignehub.model_calls WHERE user_id = @u", ("u", member)));
        Assert.Equal(outputTokens * 0.1m, await host.DebitsAsync(member));
    }

    [Fact]
    public async Task The_host_waits_the_drain_the_settlement_budget_and_the_kept_settlements_last_try()
    {
        await using var api = await ApiFactory.StartAsync(configure: f =>
        {
            f.Settings["AigneHub:Gateway:ShutdownDrainSeconds"] = "7";
            f.Settings["AigneHub:Billing:SettleSeconds"] = "3";
        });
        var host = api.Services.GetRequiredService<IOptions<HostOptions>>().Value;
        // The drain, the settlement budget, and the 5 s last try of settlements kept through an outage (billing.md).
        Assert.Equal(TimeSpan.FromSeconds(7 + 3 + 5), host.ShutdownTimeout);
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
