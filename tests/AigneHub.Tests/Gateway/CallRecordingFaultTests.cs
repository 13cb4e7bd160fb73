using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Routing;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Every request keeps its one call record when something other than the provider fails: Redis (the rate limiter),
/// the caller leaving while a refusal is written, a defect inside the gateway, a transient database error while
/// settling. Each answers the caller in its protocol's shape, never a bare 500 with exception text.
/// </summary>
public sealed class CallRecordingFaultTests
{
    private const string Model = "openai/gpt-4o-mini";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<(BillingHost Host, FakeOpenAI Fake, Guid Member, string Key)> StartAsync(Action<ApiFactory>? configure = null)
    {
        var fake = await FakeOpenAI.StartAsync();
        var host = await BillingHost.StartAsync(configure);
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-faults-0123456789", "gpt-4o-mini");
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat), "0.001", "0.002");
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "100");
        return (host, fake, member, key);
    }

    [Theory]
    [InlineData("/api/v2/chat/completions", """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/api/v2/chat", """{"input":{"modelOptions":{"model":"openai/gpt-4o-mini"},"messages":[{"role":"user","content":"hi"}]}}""")]
    public async Task Redis_down_with_a_rate_limit_configured_answers_503_with_retry_after_and_records_the_call(string path, string body)
    {
        // Redis is reachable while the stack is set up, then the rate limiter's Redis goes away: the limiter is
        // pointed at a port nobody listens on (abortConnect=false, so the Api starts and every command fails fast).
        var deadRedis = $"127.0.0.1:{TestServers.FreePort()},abortConnect=false,connectTimeout=200,syncTimeout=500,asyncTimeout=500,connectRetry=0";
        var (host, fake, member, key) = await StartAsync(f =>
        {
            f.Settings["ConnectionStrings:redis"] = deadRedis;
            f.Settings["AigneHub:RateLimits:PerKey:RequestsPerMinute"] = "100";
        });
        await using var _ = host;
        await using var __ = fake;
        using var client = host.Api.CreateClient(key);

        using var response = await client.PostAsync(path, Json(body));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, "503 carries Retry-After in seconds");
        var error = JsonNode.Parse(text)!["error"];
        Assert.NotNull(error);
        Assert.DoesNotContain("StackExchange", text, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", text, StringComparison.Ordinal);
        Assert.Empty(fake.Requests);
        var call = Assert.Single(await host.CallsAsync(member));
        Assert.Equal(ModelCallStatus.Failed, call.Status);
        Assert.Equal(503, call.StatusCode);
        Assert.False(string.IsNullOrEmpty(call.ErrorReason));
        Assert.Equal(0m, call.Credits);
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task A_refusal_is_recorded_even_when_the_caller_leaves_as_it_is_refused()
    {
        var api = await ApiFactory.StartAsync<CallerLeavesWhenLimitedApi>(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        await using var _ = api;
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var (member, _) = await owner.CreateMemberAsync();
        var limiter = (CallerLeavesWhenLimitedApi.Limiter)api.Services.GetRequiredService<IRateLimiter>();
        using var caller = new CancellationTokenSource();
        limiter.Caller = caller;

        var admission = await api.Services.GetRequiredService<ICallRecorder>().StartAsync(
            BillingHost.Context(member), [BillingHost.Gpt], new CallEstimate(), caller.Token);

        Assert.True(caller.IsCancellationRequested, "the caller left while the refusal was decided");
        Assert.Equal(RefusalKind.RateLimited, admission.Refusal?.Kind);
        Assert.Equal(1L, await ScalarAsync(api, "SELECT count(*) FROM aignehub.model_calls WHERE user_id = @u AND status = 'failed' AND status_code = 429", member));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_defect_inside_the_gateway_is_answered_500_in_the_protocol_shape_and_recorded_with_its_reason(bool stream)
    {
        await using var fake = await FakeOpenAI.StartAsync();
        var api = await ApiFactory.StartAsync<BrokenCredentialPoolApi>(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        await using var _ = api;
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-defect-0123456789", "gpt-4o-mini");
        var (member, key) = await owner.CreateMemberAsync();
        using var client = api.CreateClient(key);

        using var response = await client.PostAsync("/api/v2/chat/completions",
            Json($$"""{"model":"{{Model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}"""));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("api_error", (string?)JsonNode.Parse(text)!["error"]!["type"]);
        Assert.DoesNotContain(BrokenCredentialPoolApi.Secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain("at AigneHub", text, StringComparison.Ordinal);
        await using var db = new NpgsqlConnection(api.DatabaseConnectionString);
        await db.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT status, status_code, error_reason FROM aignehub.model_calls WHERE user_id = @u", db);
        cmd.Parameters.AddWithValue("u", member);
        await using var row = await cmd.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        Assert.Equal("failed", row.GetString(0));
        Assert.Equal(500, row.GetInt32(1));
        Assert.Contains(nameof(InvalidOperationException), row.GetString(2), StringComparison.Ordinal);
        Assert.False(await row.ReadAsync(), "one record");
    }

    [Fact]
    public async Task A_transient_database_error_while_settling_is_retried_and_the_call_is_charged_once()
    {
        var (host, fake, member, key) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        // The first settlement statement fails with a serialization failure (SQLSTATE 40001, transient); a
        // sequence is not rolled back with the failed statement, so exactly one attempt fails.
        await using (var db = new NpgsqlConnection(host.Api.DatabaseConnectionString))
        {
            await db.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                CREATE SEQUENCE aignehub.settle_faults;
                CREATE FUNCTION aignehub.fail_first_settlement() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                  IF OLD.status = 'processing' AND NEW.status <> 'processing' AND nextval('aignehub.settle_faults') = 1 THEN
                    RAISE EXCEPTION 'injected serialization failure' USING ERRCODE = '40001';
                  END IF;
                  RETURN NEW;
                END $$;
                CREATE TRIGGER fail_first_settlement BEFORE UPDATE ON aignehub.model_calls
                  FOR EACH ROW EXECUTE FUNCTION aignehub.fail_first_settlement();
                """, db);
            await cmd.ExecuteNonQueryAsync();
        }
        fake.Enqueue(new FakeReply { InputTokens = 10, OutputTokens = 5 });
        using var client = host.Api.CreateClient(key);

        using var response = await client.PostAsync("/api/v2/chat/completions", Json($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = Assert.Single(await host.SettledCallsAsync(member));
        Assert.Equal(ModelCallStatus.Success, call.Status);
        var expected = 10 * 0.001m + 5 * 0.002m;
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
        Assert.Equal(2L, await host.ScalarAsync<long>("SELECT last_value FROM aignehub.settle_faults"));
    }

    [Fact]
    public async Task A_settlement_that_cannot_reach_the_database_in_time_is_kept_and_lands_once_when_it_can()
    {
        // The answer reached its caller, then the database refuses every settlement for longer than the request's
        // settlement budget (1 s here): the charge must not be lost. It lands, once, when the database answers again.
        var (host, fake, member, key) = await StartAsync(f => f.Settings["AigneHub:Billing:SettleSeconds"] = "1");
        await using var _ = host;
        await using var __ = fake;
        await InjectOutageAsync(host);
        fake.Enqueue(new FakeReply { InputTokens = 40, OutputTokens = 9 });
        using var client = host.Api.CreateClient(key);

        using var response = await client.PostAsync("/api/v2/chat/completions", Json($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The request is over, its settlement is not: the call is still processing, nothing charged yet.
        Assert.Equal(ModelCallStatus.Processing, Assert.Single(await host.CallsAsync(member)).Status);

        await host.ScalarAsync<int>("DELETE FROM aignehub.injected_outage");
        var call = await host.WaitForSettledAsync(member);

        Assert.Equal(ModelCallStatus.Success, call.Status);
        var expected = 40 * 0.001m + 9 * 0.002m;
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task Settlements_kept_through_an_outage_are_bounded_and_one_beyond_the_bound_is_left_to_the_cleanup()
    {
        var (host, fake, member, key) = await StartAsync(f =>
        {
            f.Settings["AigneHub:Billing:SettleSeconds"] = "1";
            f.Settings["AigneHub:Billing:PendingSettlementCapacity"] = "1";
        });
        await using var _ = host;
        await using var __ = fake;
        await InjectOutageAsync(host);
        fake.Enqueue(new FakeReply { InputTokens = 40, OutputTokens = 9 });
        fake.Enqueue(new FakeReply { InputTokens = 70, OutputTokens = 3 });
        using var client = host.Api.CreateClient(key);
        // The answers end before their settlements run out of budget: each is awaited through the billing counters —
        // the first kept, then the second dropped (the store is full).
        long kept = 0, dropped = 0;
        var scope = host.Api.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name is "aignehub.billing.settlements_kept" or "aignehub.billing.settlements_dropped" && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            Interlocked.Add(ref instrument.Name.EndsWith("_kept", StringComparison.Ordinal) ? ref kept : ref dropped, value));
        listener.Start();
        for (var n = 0; n < 2; n++)
        {
            using var response = await client.PostAsync("/api/v2/chat/completions", Json($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}],"max_tokens":100}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((n == 0 ? Interlocked.Read(ref kept) : Interlocked.Read(ref dropped)) < 1 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
        Assert.Equal((1L, 1L), (Interlocked.Read(ref kept), Interlocked.Read(ref dropped)));

        await host.ScalarAsync<int>("DELETE FROM aignehub.injected_outage");
        ModelCall? settled = null;
        for (var i = 0; i < 200 && settled is null; i++)
        {
            settled = (await host.CallsAsync(member)).SingleOrDefault(c => c.Status != ModelCallStatus.Processing);
            await Task.Delay(50);
        }

        // The first was kept and landed; the second found the store full: still processing, its reservation held
        // until the Worker's cleanup closes it.
        Assert.NotNull(settled);
        Assert.Equal(40 * 0.001m + 9 * 0.002m, settled.Credits);
        var calls = await host.CallsAsync(member);
        Assert.Equal(2, calls.Count);
        var left = Assert.Single(calls, c => c.Status == ModelCallStatus.Processing);
        Assert.Equal(settled.Credits, await host.DebitsAsync(member));
        Assert.Equal(left.ReservedCredits, (await host.AccountAsync(member)).Reserved);
    }

    /// <summary>From now on every settlement fails the way a database that is starting up or shutting down refuses
    /// it (57P03), until the row of <c>aignehub.injected_outage</c> is deleted.</summary>
    private static Task<int> InjectOutageAsync(BillingHost host) => host.ScalarAsync<int>("""
            CREATE TABLE aignehub.injected_outage (down boolean);
            INSERT INTO aignehub.injected_outage VALUES (true);
            CREATE FUNCTION aignehub.refuse_settlements() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF OLD.status = 'processing' AND NEW.status <> 'processing' AND EXISTS (SELECT 1 FROM aignehub.injected_outage) THEN
                RAISE EXCEPTION 'injected outage' USING ERRCODE = '57P03';
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_settlements BEFORE UPDATE ON aignehub.model_calls
              FOR EACH ROW EXECUTE FUNCTION aignehub.refuse_settlements();
        """);

    private static async Task<long> ScalarAsync(ApiFactory api, string sql, Guid user)
    {
        await using var db = new NpgsqlConnection(api.DatabaseConnectionString);
        await db.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, db);
        cmd.Parameters.AddWithValue("u", user);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>An Api whose rate limiter refuses every call, and at that moment the caller disconnects.</summary>
    public sealed class CallerLeavesWhenLimitedApi : ApiFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<IRateLimiter, Limiter>());
        }

        public sealed class Limiter : IRateLimiter
        {
            public CancellationTokenSource? Caller { get; set; }

            public bool CountsTokens => false;

            public ValueTask<Refusal?> AcquireAsync(Guid? userId, Guid? accessKeyId, int tokens, CancellationToken cancellationToken)
            {
                Caller?.Cancel();
                return ValueTask.FromResult<Refusal?>(new Refusal(RefusalKind.RateLimited, "Rate limit exceeded.") { RetryAfter = TimeSpan.FromSeconds(1) });
            }

            public ValueTask AddTokensAsync(Guid? userId, Guid? accessKeyId, int tokens) => ValueTask.CompletedTask;
        }
    }

    /// <summary>An Api whose credential pool throws what no provider would: a defect, not a provider failure.</summary>
    public sealed class BrokenCredentialPoolApi : ApiFactory
    {
        public const string Secret = "internal-detail-7f3a";

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<ICredentialPool, Broken>());
        }

        private sealed class Broken : ICredentialPool
        {
            public ValueTask<CredentialLease?> AcquireAsync(ModelTarget target, CancellationToken cancellationToken) =>
                throw new InvalidOperationException(Secret);

            public ValueTask ReportAsync(ModelTarget target, CredentialLease lease, AigneHub.Api.Providers.ProviderException? error, CancellationToken cancellationToken) =>
                ValueTask.CompletedTask;
        }
    }
}
