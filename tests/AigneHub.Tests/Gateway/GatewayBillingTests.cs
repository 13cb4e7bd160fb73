using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using AigneHub.Tests.Worker;
using AigneHub.Worker.Jobs;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// The money invariants through the real HTTP pipeline (credit billing on): concurrent callers cannot overspend,
/// a stream cut by its caller is still billed, an Api killed mid-call leaves a record the cleanup closes, and an
/// unpriced model is never served.
/// </summary>
public sealed class GatewayBillingTests(ITestOutputHelper output)
{
    private const string Model = "openai/gpt-4o-mini";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>An Api with billing on, a fake OpenAI, a rate of 0.1 credits per output token (input free), a member.</summary>
    private static async Task<(BillingHost Host, FakeOpenAI Fake, Guid Member, string Key)> StartAsync()
    {
        var fake = await FakeOpenAI.StartAsync();
        var host = await BillingHost.StartAsync();
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-billing-0123456789", "gpt-4o-mini");
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat), "0", "0.1");
        var (member, key) = await owner.CreateMemberAsync();
        return (host, fake, member, key);
    }

    /// <summary>
    /// Issue 13: the settlement is off the caller's path. A served answer ends for its caller (the JSON body, or the
    /// stream to its <c>[DONE]</c>) while its settlement is still waiting for the database — here held off by a lock
    /// on the account row, with a settlement budget longer than the test waits — and the call is charged once the
    /// lock goes.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_served_answer_ends_for_its_caller_before_its_settlement_commits(bool stream)
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var host = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:SettleSeconds"] = "120");
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-billing-0123456789", "gpt-4o-mini");
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat), "0", "0.1");
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "1000"); // the reservation: DefaultMaxOutputTokens (4096) × 0.1
        const int outputTokens = 3;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.Enqueue(new FakeReply { OutputTokens = outputTokens, Hold = gate.Task });
        using var client = host.Api.CreateClient(key);
        var body = $$"""{"model":"{{Model}}","stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"hi"}]}""";

        var call = client.PostAsync("/api/v2/chat/completions", Json(body));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (fake.Requests.Count < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        // The call was admitted and reached the provider; now the account row is locked, so the settlement waits.
        await using var locker = new Npgsql.NpgsqlConnection(host.Api.DatabaseConnectionString);
        await locker.OpenAsync();
        await using var hold = await locker.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM aignehub.credit_accounts WHERE user_id = @u FOR UPDATE", locker, hold))
        {
            lockRow.Parameters.AddWithValue("u", member);
            Assert.Equal(1, await lockRow.ExecuteScalarAsync());
        }
        gate.SetResult();

        // PostAsync completes when the whole body has arrived (HttpCompletionOption.ResponseContentRead).
        using var response = await call.WaitAsync(TimeSpan.FromSeconds(30));
        var text = await response.Content.ReadAsStringAsync();
        var whileLocked = (await host.CallsAsync(member)).Single().Status;
        await hold.RollbackAsync();
        var settled = await host.WaitForSettledAsync(member);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(stream ? "[DONE]" : "chat.completion", text);
        Assert.Equal(ModelCallStatus.Processing, whileLocked);
        Assert.Equal(ModelCallStatus.Success, settled.Status);
        Assert.Equal(outputTokens * 0.1m, settled.Credits);
    }

    /// <summary>
    /// Issue 13: the settlement does not hold the caller's connection either. Kestrel reads the next request on a
    /// keep-alive connection only once the previous request's handler has returned; a handler that waited for its
    /// settlement made every next request on that connection wait for the database too. Here the first call's
    /// settlement is held off by a lock on its account row, and a second call — another member's, on the same
    /// connection — is served meanwhile; the first is charged once the lock goes.
    /// <para>The settlements running after their requests are bounded (<c>AigneHub:Billing:MaxDetachedSettlements</c>):
    /// at the bound a request waits for its own settlement, as every request did before, so callers cannot outrun the
    /// ledger. With the bound at 0 the second request waits for the first one's settlement.</para>
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData(0)]
    public async Task The_next_request_on_a_connection_is_served_while_the_last_ones_settlement_waits(int? bound)
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var host = await BillingHost.StartAsync(f =>
        {
            f.Settings["AigneHub:Billing:SettleSeconds"] = "120";
            if (bound is { } b)
            {
                f.Settings["AigneHub:Billing:MaxDetachedSettlements"] = b.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        });
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-billing-0123456789", "gpt-4o-mini");
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.OpenAI, null, fake.BaseUrl, "gpt-4o-mini", AigneHub.Data.ModelType.Chat), "0", "0.1");
        var (first, firstKey) = await owner.CreateMemberAsync();
        var (second, secondKey) = await owner.CreateMemberAsync();
        await host.GrantAsync(first, "1000"); // the reservation: DefaultMaxOutputTokens (4096) × 0.1
        await host.GrantAsync(second, "1000");
        const int firstTokens = 3;
        const int secondTokens = 7;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.Enqueue(new FakeReply { OutputTokens = firstTokens, Hold = gate.Task });
        fake.Enqueue(new FakeReply { OutputTokens = secondTokens });
        // One client, so one pooled keep-alive connection; each request says whose call it is.
        using var client = host.Api.CreateClient(bearer: null);
        HttpRequestMessage Chat(string key) => new(HttpMethod.Post, "/api/v2/chat/completions")
        {
            Content = Json($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}"""),
            Headers = { Authorization = new("Bearer", key) },
        };

        var firstCall = client.SendAsync(Chat(firstKey));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (fake.Requests.Count < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await using var locker = new Npgsql.NpgsqlConnection(host.Api.DatabaseConnectionString);
        await locker.OpenAsync();
        await using var hold = await locker.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand("SELECT 1 FROM aignehub.credit_accounts WHERE user_id = @u FOR UPDATE", locker, hold))
        {
            lockRow.Parameters.AddWithValue("u", first);
            Assert.Equal(1, await lockRow.ExecuteScalarAsync());
        }
        gate.SetResult();
        using var firstResponse = await firstCall.WaitAsync(TimeSpan.FromSeconds(30));
        await firstResponse.Content.ReadAsStringAsync();

        // Same connection, the first settlement still waiting for the lock.
        var secondCall = client.SendAsync(Chat(secondKey));
        var servedMeanwhile = await Task.WhenAny(secondCall, Task.Delay(TimeSpan.FromSeconds(bound == 0 ? 3 : 15))) == secondCall;
        var firstWhileLocked = (await host.CallsAsync(first)).Single().Status;
        await hold.RollbackAsync();
        using var secondResponse = await secondCall.WaitAsync(TimeSpan.FromSeconds(30));
        var firstSettled = await host.WaitForSettledAsync(first);
        var secondSettled = await host.WaitForSettledAsync(second);

        Assert.True(servedMeanwhile == (bound != 0), bound == 0
            ? "the second request was served while the first one's settlement was held, beyond the bound"
            : "the second request on the connection waited for the first one's settlement");
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, secondResponse.StatusCode);
        Assert.Equal(ModelCallStatus.Processing, firstWhileLocked);
        Assert.Equal(firstTokens * 0.1m, firstSettled.Credits);
        Assert.Equal(secondTokens * 0.1m, secondSettled.Credits);
        Assert.Equal(2, fake.Requests.Count);
    }

    /// <summary>
    /// The answer ends before its settlement commits, yet a caller who makes one call after another (here on two
    /// connections) on a balance that covers a single reservation is served every time: a start refused while this
    /// Api is still settling the same account's calls waits for those settlements and is tried once more.
    /// </summary>
    [Fact]
    public async Task Calls_one_after_another_on_a_balance_for_one_reservation_are_each_served()
    {
        var (host, fake, member, key) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        // Reservation = max_tokens × output rate = 50 × 0.1 = 5 of a balance of 9: one at a time fits, two do not.
        const int maxTokens = 50;
        const int actualTokens = 2;
        const int calls = 6;
        await host.GrantAsync(member, "9");
        // Every settlement takes a while in the database, so the next call always starts while the last one settles.
        await host.ScalarAsync<int>("""
            CREATE FUNCTION aignehub.slow_settlement() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF OLD.status = 'processing' AND NEW.status <> 'processing' THEN PERFORM pg_sleep(0.3); END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER slow_settlement BEFORE UPDATE ON aignehub.model_calls FOR EACH ROW EXECUTE FUNCTION aignehub.slow_settlement();
            SELECT 1;
            """);
        // Two clients, two connections, taken in turn (on one keep-alive connection the next request would wait for
        // the previous one's handler, settlement included).
        using var one = host.Api.CreateClient(key);
        using var other = host.Api.CreateClient(key);
        var body = $$"""{"model":"{{Model}}","max_tokens":{{maxTokens}},"messages":[{"role":"user","content":"hi"}]}""";

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < calls; i++)
        {
            fake.Enqueue(new FakeReply { OutputTokens = actualTokens });
            using var response = await (i % 2 == 0 ? one : other).PostAsync("/api/v2/chat/completions", Json(body));
            statuses.Add(response.StatusCode);
        }
        var records = await host.SettledCallsAsync(member, calls);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(calls, records.Count(c => c.Status == ModelCallStatus.Success));
        Assert.Equal(9m - calls * actualTokens * 0.1m, (await host.AccountAsync(member)).Balance);
    }

    /// <summary>
    /// Issue 13's replica bound: three Apis on one database, 200 calls of one account spread over them. Each replica
    /// batches its own starts (group commit), and no replica holds any part of the balance in memory (no credit leases,
    /// see billing.md "Group commit"): the available balance is checked in Postgres under the account's row lock,
    /// whichever replica asks. So the bound is the single-replica one — no call is admitted beyond the balance, at any
    /// number of replicas: overspend 0.
    /// </summary>
    [Fact]
    public async Task Three_replicas_serving_one_account_admit_exactly_what_its_balance_affords()
    {
        var (first, fake, member, key) = await StartAsync();
        await using var _ = first;
        await using var __ = fake;
        await using var second = await BillingHost.StartAsync(database: first.Api.DatabaseConnectionString);
        await using var third = await BillingHost.StartAsync(database: first.Api.DatabaseConnectionString);
        // Reservation = max_tokens × output rate = 5 × 0.1 = 0.5; a balance of 6 affords 12 calls in flight at once.
        // The waves below then admit 5, 5 and 2 (computed here from the same inputs).
        const int maxTokens = 5;
        const int actualTokens = 2;
        const decimal outputRate = 0.1m;
        const decimal balance = 6m;
        const int calls = 210;
        var affordable = (int)(balance / (maxTokens * outputRate));
        await first.GrantAsync(member, "6");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < affordable; i++)
        {
            fake.Enqueue(new FakeReply { OutputTokens = actualTokens, Hold = gate.Task });
        }
        BillingHost[] replicas = [first, second, third];
        var clients = replicas.Select(r => r.Api.CreateClient(key)).ToArray();
        foreach (var client in clients)
        {
            // Warm each replica (its key cache and routes), so that all three race for the balance.
            using var warm = await client.GetAsync("/api/v2/models");
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }
        var body = $$"""{"model":"{{Model}}","max_tokens":{{maxTokens}},"messages":[{"role":"user","content":"hi"}]}""";

        var refusals = 0;
        var servedBy = new int[replicas.Length];
        async Task<HttpStatusCode> CallAsync(int replica)
        {
            using var response = await clients[replica].PostAsync("/api/v2/chat/completions", Json(body));
            if (response.StatusCode == HttpStatusCode.PaymentRequired)
            {
                Interlocked.Increment(ref refusals);
            }
            else if (response.StatusCode == HttpStatusCode.OK)
            {
                Interlocked.Increment(ref servedBy[replica]);
            }
            return response.StatusCode;
        }
        // Waves, each decided before the next (its calls held at the provider or refused): 5 calls at once on the first
        // replica, 5 on the second — each sees what the others reserved — 5 on the third, where only the rest of the
        // balance fits; then every other call at once, spread over the three.
        const int wave = 5;
        var tasks = new List<Task<HttpStatusCode>>();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        for (var replica = 0; replica < replicas.Length; replica++)
        {
            tasks.AddRange(Enumerable.Range(0, wave).Select(_ => CallAsync(replica)));
            while (fake.Requests.Count + Volatile.Read(ref refusals) < tasks.Count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
        }
        tasks.AddRange(Enumerable.Range(tasks.Count, calls - tasks.Count).Select(i => CallAsync(i % replicas.Length)));
        while ((Volatile.Read(ref refusals) < calls - affordable || fake.Requests.Count < affordable) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        // Every admission is decided while the admitted calls are held: the reservations in flight at once are all of them.
        var reservedAtPeak = (await first.AccountAsync(member)).Reserved;
        gate.SetResult();
        var statuses = await Task.WhenAll(tasks);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        var served = statuses.Count(s => s == HttpStatusCode.OK);
        var records = await first.SettledCallsAsync(member, calls);
        var account = await first.AccountAsync(member);
        var charged = records.Where(c => c.Status == ModelCallStatus.Success).Sum(c => c.Credits);
        var debits = await first.DebitsAsync(member);
        output.WriteLine($"3 replicas: served {served} (per replica {string.Join("/", servedBy)}), refused {refusals}, reserved at peak {reservedAtPeak} of balance {balance}, final balance {account.Balance}, Σ debits {debits}, records {records.Count}");

        Assert.Equal(calls, statuses.Count(s => s is HttpStatusCode.OK or HttpStatusCode.PaymentRequired));
        Assert.Equal(affordable, served);
        Assert.Equal([wave, wave, affordable - 2 * wave], servedBy);
        Assert.Equal(affordable * maxTokens * outputRate, reservedAtPeak);
        Assert.True(reservedAtPeak <= balance, "the reservations in flight never exceed the balance, across replicas");
        Assert.Equal(calls, records.Count);
        Assert.Equal(served * actualTokens * outputRate, charged);
        Assert.Equal(balance - charged, account.Balance);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(charged, debits);
    }

    [Fact]
    public async Task Two_hundred_concurrent_http_calls_against_a_balance_for_ten_never_overspend()
    {
        var (host, fake, member, key) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        // The documented reservation: max_tokens × the output rate (input is free here) = 7 × 0.1 = 0.7 per call, so a
        // balance of 7 affords exactly 7 / 0.7 = 10 calls in flight. Each really costs less (3 tokens = 0.3): the
        // served calls are held at the provider until all 200 were admitted or refused, so the count is exact.
        const int maxTokens = 7;
        const int actualTokens = 3;
        const decimal outputRate = 0.1m;
        const decimal balance = 7m;
        var affordable = (int)(balance / (maxTokens * outputRate));
        await host.GrantAsync(member, "7");
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < affordable; i++)
        {
            fake.Enqueue(new FakeReply { OutputTokens = actualTokens, Hold = gate.Task });
        }
        using var client = host.Api.CreateClient(key);
        var body = $$"""{"model":"{{Model}}","max_tokens":{{maxTokens}},"messages":[{"role":"user","content":"hi"}]}""";

        var start = new TaskCompletionSource();
        var refusals = 0;
        var calls200 = Enumerable.Range(0, 200).Select(async _ =>
        {
            await start.Task;
            using var response = await client.PostAsync("/api/v2/chat/completions", Json(body));
            if (response.StatusCode == HttpStatusCode.PaymentRequired)
            {
                Assert.Equal("insufficient_quota", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["type"]);
                Interlocked.Increment(ref refusals);
            }
            return response.StatusCode;
        }).ToList();
        start.SetResult();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while ((Volatile.Read(ref refusals) < 200 - affordable || fake.Requests.Count < affordable) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        gate.SetResult();
        var statuses = await Task.WhenAll(calls200);

        var served = statuses.Count(s => s == HttpStatusCode.OK);
        var calls = await host.SettledCallsAsync(member, 200);
        var account = await host.AccountAsync(member);
        var charged = calls.Where(c => c.Status == ModelCallStatus.Success).Sum(c => c.Credits);
        var debits = await host.DebitsAsync(member);
        output.WriteLine($"served {served}, refused {statuses.Count(s => s == HttpStatusCode.PaymentRequired)}, final balance {account.Balance}, reserved {account.Reserved}, Σ debits {debits}, Σ call credits {charged}, records {calls.Count}");

        Assert.Equal(200, statuses.Count(s => s is HttpStatusCode.OK or HttpStatusCode.PaymentRequired));
        Assert.Equal(affordable, served);
        Assert.Equal(200, calls.Count);
        Assert.Equal(served * actualTokens * outputRate, charged);
        Assert.Equal(balance - charged, account.Balance);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(charged, debits);
    }

    [Fact]
    public async Task A_stream_cut_by_its_caller_is_billed_for_what_was_generated()
    {
        var (host, fake, member, key) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        await host.GrantAsync(member, "100");
        // The first chunk ("word1") comes at once, the next only after the caller has long gone.
        fake.Enqueue(new FakeReply { Text = string.Join(' ', Enumerable.Range(1, 40).Select(i => $"word{i}")), DelayBetweenEvents = TimeSpan.FromSeconds(3) });

        using (var client = host.Api.CreateClient(key))
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
        {
            Content = Json($$"""{"model":"{{Model}}","stream":true,"max_tokens":200,"messages":[{"role":"user","content":"count"}]}"""),
        })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());
            // The caller walks away after the first token.
        }

        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.True(call.Estimated, "the provider never sent its usage, so the gateway estimated it");
        // Billed for the text that reached the caller, at the documented estimate (3 characters a token, rounded
        // up) — not for the JSON around it: "word1" is 2 tokens, at 0.1 each.
        Assert.Equal(CeilingThirds("word1".Length), call.CompletionTokens);
        Assert.Equal(CeilingThirds("word1".Length) * 0.1m, call.Credits);
        Assert.Equal(call.Credits, await host.DebitsAsync(member));
        var account = await host.AccountAsync(member);
        Assert.Equal(0m, account.Reserved);
        Assert.Equal(100m - call.Credits, account.Balance);
    }

    [Fact]
    public async Task A_model_without_a_rate_is_refused_and_recorded_never_served_free()
    {
        var (host, fake, member, key) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        await host.GrantAsync(member, "100");
        using (var owner = host.Owner)
        {
            await owner.AddModelAsync("openai", "gpt-unpriced");
        }
        var before = fake.Requests.Count;

        using var client = host.Api.CreateClient(key);
        using var response = await client.PostAsync("/api/v2/chat/completions",
            Json("""{"model":"openai/gpt-unpriced","messages":[{"role":"user","content":"hi"}]}"""));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        // The refusal says what is missing, not only that the model is "unsupported".
        Assert.Equal("Unsupported model: openai/gpt-unpriced (no rate is set for openai/gpt-unpriced; with credit billing on, an admin sets one under Models)",
            (string?)error["message"]);
        Assert.Equal(before, fake.Requests.Count);
        var call = Assert.Single(await host.CallsAsync(member));
        Assert.Equal(ModelCallStatus.Failed, call.Status);
        Assert.Equal(0m, call.Credits);
    }

    [Fact]
    public async Task An_api_killed_mid_call_leaves_one_processing_record_that_the_cleanup_closes_without_charge()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        var servers = await TestServers.GetAsync();
        var database = await servers.CreateDatabaseAsync("crash");
        var port = TestServers.FreePort();
        using var api = StartApiProcess(database, servers.RedisConnectionString, port);
        try
        {
            using var owner = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await WaitHealthyAsync(owner, api);
            owner.DefaultRequestHeaders.Authorization = new("Bearer", ApiFactory.OwnerKey);
            await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-crash-0123456789", "gpt-4o-mini");
            using (var rate = await owner.PostAsync("/api/admin/model-rates", Json("""{"provider":"openai","model":"gpt-4o-mini","type":"chat","inputRate":0,"outputRate":0.1}""")))
            {
                Assert.True(rate.IsSuccessStatusCode, await rate.Content.ReadAsStringAsync());
            }
            var (member, key) = await owner.CreateMemberAsync();
            using (var grant = await owner.PostAsJsonAsync($"/api/admin/users/{member}/credits/grants", new { amount = "10", category = "paid" }))
            {
                Assert.True(grant.IsSuccessStatusCode, await grant.Content.ReadAsStringAsync());
            }

            // The provider sends its first token, then holds the rest: the call is in flight when the Api dies.
            fake.Enqueue(new FakeReply { Text = "one two three four", DelayBeforeLastEvent = TimeSpan.FromSeconds(60) });
            using var caller = new HttpClient { BaseAddress = owner.BaseAddress };
            caller.DefaultRequestHeaders.Authorization = new("Bearer", key);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
            {
                Content = Json($$"""{"model":"{{Model}}","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"""),
            };
            using var response = await caller.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            Assert.StartsWith("data: ", await reader.ReadLineAsync());

            api.Kill(entireProcessTree: true);
            await api.WaitForExitAsync();

            await using var db = new Npgsql.NpgsqlConnection(database);
            await db.OpenAsync();
            Assert.Equal(1L, await ScalarAsync<long>(db, "SELECT count(*) FROM aignehub.model_calls WHERE status = 'processing'"));
            Assert.Equal(5m, await ScalarAsync<decimal>(db, "SELECT reserved FROM aignehub.credit_accounts"));

            // :: The Worker's cleanup, 31 minutes later on its clock, closes the orphan and releases its reservation.
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(31));
            await using (var worker = new WorkerJobHost(database, time))
            {
                await worker.Job<StaleCallCleanupJob>().RunOnceAsync(CancellationToken.None);
            }
            Assert.Equal(1L, await ScalarAsync<long>(db, "SELECT count(*) FROM aignehub.model_calls"));
            Assert.Equal("failed", await ScalarAsync<string>(db, "SELECT status FROM aignehub.model_calls"));
            Assert.Equal(0m, await ScalarAsync<decimal>(db, "SELECT reserved FROM aignehub.credit_accounts"));
            Assert.Equal(10m, await ScalarAsync<decimal>(db, "SELECT balance FROM aignehub.credit_accounts"));
            Assert.Equal(0L, await ScalarAsync<long>(db, "SELECT count(*) FROM aignehub.credit_ledger WHERE kind = 'debit'"));
        }
        finally
        {
            if (!api.HasExited)
            {
                api.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Without_max_tokens_the_provider_is_held_to_the_reserved_output_cap()
    {
        var (host, fake, member, key) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        await host.GrantAsync(member, "1000");
        using var client = host.Api.CreateClient(key);

        using var response = await client.PostAsync("/api/v2/chat/completions", Json($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The reservation assumed the configured cap (4096 output tokens); the provider is told the same limit, so
        // the answer cannot cost more than was reserved.
        Assert.Equal(4096, (int?)fake.Requests.Last().RequiredBody["max_completion_tokens"]);
    }

    [Theory]
    [InlineData("deepseek/deepseek-chat", false, false)]
    [InlineData("deepseek/deepseek-chat", true, false)]
    [InlineData(Model, false, false)]
    [InlineData("deepseek/deepseek-chat", false, true)] // the AIGNE route: translated, not passed through
    [InlineData("deepseek/deepseek-chat", true, true)]
    public async Task A_stream_the_provider_cuts_after_content_reached_the_caller_is_billed_for_that_content(string model, bool transportCut, bool aigne)
    {
        var (host, fake, member, key) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        using (var owner = host.Owner)
        {
            await GatewayFixture.AddProviderAsync(owner, "deepseek", fake.BaseUrl, "sk-test-cut-0123456789", "deepseek-chat");
        }
        await host.AddRateAsync(new(AigneHub.Api.Providers.ProviderKinds.DeepSeek, null, fake.BaseUrl, "deepseek-chat", AigneHub.Data.ModelType.Chat), "0", "0.1");
        await host.GrantAsync(member, "100");
        // Two chunks ("alpha", " beta") reach the caller, then the provider fails: an error event, or a reset.
        fake.Enqueue(transportCut
            ? new FakeReply { Text = "alpha beta gamma delta", CutAfterEvents = 2 }
            : new FakeReply { Text = "alpha beta gamma delta", ErrorAfterEvents = 2, FailMessage = "overloaded mid-answer" });
        using var client = host.Api.CreateClient(key);
        using var request = aigne
            ? new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat")
            {
                Content = Json($$$"""{"input":{"modelOptions":{"model":"{{{model}}}","maxTokens":200},"messages":[{"role":"user","content":"go"}]},"options":{"streaming":true}}"""),
            }
            : new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
            {
                Content = Json($$"""{"model":"{{model}}","stream":true,"max_tokens":200,"messages":[{"role":"user","content":"go"}]}"""),
            };
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("alpha", stream, StringComparison.Ordinal);
        Assert.Contains(aigne ? "event: error" : "\"error\"", stream, StringComparison.Ordinal);
        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.True(call.Estimated);
        Assert.False(string.IsNullOrEmpty(call.ErrorReason), "the provider's failure is the recorded reason");
        var delivered = "alpha beta".Length;
        Assert.Equal(CeilingThirds(delivered), call.CompletionTokens);
        Assert.Equal(CeilingThirds(delivered) * 0.1m, call.Credits);
        Assert.Equal(call.Credits, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    /// <summary>The documented estimate for text without a provider count: 3 characters a token, rounded up.</summary>
    private static int CeilingThirds(int characters) => (characters + 2) / 3;

    /// <summary>The Api as its own OS process (the built <c>AigneHub.Api.dll</c>), so that it can really be killed.</summary>
    private static Process StartApiProcess(string database, string redis, int port)
    {
        var dll = Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "src", "AigneHub.Api", "bin"), "AigneHub.Api.dll", SearchOption.AllDirectories)
            .Where(f => f.Contains($"{Path.DirectorySeparatorChar}net10.0{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .First();
        var psi = new ProcessStartInfo("dotnet", [dll])
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        psi.Environment["ConnectionStrings__aignehub"] = database;
        psi.Environment["ConnectionStrings__redis"] = redis;
        psi.Environment["AigneHub__Bootstrap__OwnerKey"] = ApiFactory.OwnerKey;
        psi.Environment["AigneHub__Secrets__MasterKey"] = ApiFactory.MasterKey;
        psi.Environment["AigneHub__Billing__Enabled"] = "true";
        psi.Environment["AigneHub__Billing__WelcomeCredits"] = "0";
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitHealthyAsync(HttpClient client, Process api)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(api.HasExited, $"the Api exited with code {(api.HasExited ? api.ExitCode : 0)}");
            try
            {
                using var health = await client.GetAsync("/health");
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            await Task.Delay(250);
        }
        throw new TimeoutException("the Api process did not become healthy");
    }

    private static async Task<T> ScalarAsync<T>(Npgsql.NpgsqlConnection db, string sql)
    {
        await using var command = new Npgsql.NpgsqlCommand(sql, db);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
