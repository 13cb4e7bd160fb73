using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Issue 12, drill 7: every way a provider fails, through HTTP against the fakes with billing on. A prefixed model
/// (one provider) gets a clear error in the caller's terms and a failed record charging nothing; the unprefixed
/// model served by a faulty provider and a healthy one fails over cleanly before the first byte and is charged the
/// healthy provider's usage once; a stream that breaks after its first byte ends with the protocol's error event and
/// is billed for what was delivered.
/// </summary>
public sealed class FaultyProviderTests
{
    private const string InputRate = "0.001";
    private const string OutputRate = "0.002";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static TheoryData<string> Faults => new(FaultCases.Keys);

    /// <summary>The fault, the provider it is staged on, and the caller's expected status and error code.</summary>
    private static readonly Dictionary<string, (string Provider, FakeReply? Reply, int Status, string Code)> FaultCases = new()
    {
        ["429"] = ("xai", new FakeReply { FailStatus = 429, FailHeaders = new Dictionary<string, string> { ["retry-after"] = "0" } }, 503, "provider_rate_limited"),
        ["500"] = ("xai", new FakeReply { FailStatus = 500 }, 502, "provider_unavailable"),
        ["502"] = ("xai", new FakeReply { FailStatus = 502 }, 502, "provider_unavailable"),
        ["503"] = ("xai", new FakeReply { FailStatus = 503 }, 502, "provider_unavailable"),
        ["529"] = ("xai", new FakeReply { FailStatus = 529, FailMessage = "Overloaded" }, 502, "provider_unavailable"),
        ["slow first byte"] = ("xai", new FakeReply { DelayBeforeHeaders = TimeSpan.FromSeconds(4) }, 504, "provider_timeout"),
        ["malformed JSON"] = ("xai", new FakeReply { RawBody = """{"id":"chatcmpl-x","choices":[{"message":""" }, 502, "provider_unavailable"),
        ["not a JSON object"] = ("xai", new FakeReply { RawBody = "<html>Bad gateway</html>", RawContentType = "text/html" }, 502, "provider_unavailable"),
        ["body far larger than expected"] = ("xai", new FakeReply { HugeBodyBytes = 3L * 1024 * 1024 }, 502, "provider_unavailable"),
        ["connection refused"] = ("openrouter", null, 502, "provider_unavailable"),
        ["DNS failure"] = ("poe", null, 502, "provider_unavailable"),
    };

    private sealed record Stack(BillingHost Host, FakeOpenAI Faulty, FakeOpenAI Healthy, Guid Member, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await Host.DisposeAsync();
            await Faulty.DisposeAsync();
            await Healthy.DisposeAsync();
        }
    }

    private static async Task<Stack> StartAsync()
    {
        var faulty = await FakeOpenAI.StartAsync();
        var healthy = await FakeOpenAI.StartAsync();
        var host = await BillingHost.StartAsync(f =>
        {
            f.Settings["AigneHub:Providers:Http:IdleTimeout"] = "00:00:01";
            f.Settings["AigneHub:Providers:Http:MaxResponseBytes"] = (1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        });
        using var owner = host.Owner;
        var refused = new Uri($"http://127.0.0.1:{TestServers.FreePort()}/v1/");
        var unresolvable = new Uri("http://provider.invalid/v1/");
        // Each faulty provider serves fault-model alone and via-<name> ahead of the healthy deepseek (catalogue order).
        string[] faultyNames = ["xai", "openrouter", "poe"];
        foreach (var (name, url) in new[] { ("xai", faulty.BaseUrl), ("openrouter", refused), ("poe", unresolvable) })
        {
            await GatewayFixture.AddProviderAsync(owner, name, url, $"sk-test-{name}-0123456789", "fault-model", $"via-{name}");
        }
        await GatewayFixture.AddProviderAsync(owner, "deepseek", healthy.BaseUrl, "sk-test-deepseek-0123456789", [.. faultyNames.Select(n => $"via-{n}")]);
        foreach (var (name, url) in new[] { ("xai", faulty.BaseUrl), ("openrouter", refused), ("poe", unresolvable), ("deepseek", healthy.BaseUrl) })
        {
            foreach (var model in new[] { "fault-model" }.Concat(faultyNames.Select(n => $"via-{n}")))
            {
                await host.AddRateAsync(new(ProviderKinds.Find(name)!, null, url, model, ModelType.Chat), InputRate, OutputRate);
            }
        }
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "100");
        return new Stack(host, faulty, healthy, member, host.Api.CreateClient(key));
    }

    /// <summary>The member's newest call, once settled.</summary>
    private static async Task<ModelCall> LatestSettledAsync(Stack stack)
    {
        for (var i = 0; i < 200; i++)
        {
            var latest = (await stack.Host.CallsAsync(stack.Member)).MaxBy(c => c.CreatedAt);
            if (latest is { Status: not ModelCallStatus.Processing })
            {
                return latest;
            }
            await Task.Delay(50);
        }
        throw new Xunit.Sdk.XunitException("the call was not settled within 10 s");
    }

    private static decimal Charge(int input, int output) =>
        input * decimal.Parse(InputRate, System.Globalization.CultureInfo.InvariantCulture) + output * decimal.Parse(OutputRate, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Each_fault_is_a_clear_error_and_a_failed_record_charging_nothing_or_a_clean_failover_charged_once()
    {
        await using var stack = await StartAsync();
        foreach (var (fault, (provider, reply, status, code)) in FaultCases)
        {
            // :: The provider named: the fault reaches the caller in its terms.
            if (reply is not null)
            {
                stack.Faulty.Enqueue(reply);
            }
            using (var response = await stack.Client.PostAsync("/api/v2/chat/completions",
                Json($$"""{"model":"{{provider}}/fault-model","max_tokens":20,"messages":[{"role":"user","content":"{{fault}}"}]}""")))
            {
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(status == (int)response.StatusCode, $"{fault}: {(int)response.StatusCode} {body}");
                Assert.Equal(code, (string?)JsonNode.Parse(body)!["error"]!["code"]);
                Assert.DoesNotContain("Exception", body, StringComparison.Ordinal);
                var call = await LatestSettledAsync(stack);
                Assert.Equal(ModelCallStatus.Failed, call.Status);
                Assert.Equal(status, call.StatusCode);
                Assert.False(string.IsNullOrWhiteSpace(call.ErrorReason), fault);
                Assert.Equal(0m, call.Credits);
            }

            // :: The model two providers serve, the faulty one first: failover before the first byte.
            if (reply is not null)
            {
                stack.Faulty.Enqueue(reply);
            }
            stack.Healthy.Enqueue(new FakeReply { Text = "served by the healthy provider", InputTokens = 13, OutputTokens = 5 });
            using (var response = await stack.Client.PostAsync("/api/v2/chat/completions",
                Json($$"""{"model":"via-{{provider}}","max_tokens":20,"messages":[{"role":"user","content":"{{fault}}"}]}""")))
            {
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{fault}: {(int)response.StatusCode} {body}");
                Assert.True("served by the healthy provider" == (string?)JsonNode.Parse(body)!["choices"]![0]!["message"]!["content"], $"{fault}: {body}");
            }
        }

        var calls = await stack.Host.SettledCallsAsync(stack.Member, FaultCases.Count);
        var served = calls.Where(c => c.Status == ModelCallStatus.Success).ToList();
        Assert.Equal(FaultCases.Count, served.Count);
        Assert.All(served, c => Assert.Equal(("deepseek", Charge(13, 5)), (c.Provider, c.Credits)));
        Assert.All(served, c => Assert.True(c.Attempts >= 2, "the faulty provider was tried first"));
        Assert.DoesNotContain(calls, c => c.Status == ModelCallStatus.Processing);
        Assert.Equal(0m, (await stack.Host.AccountAsync(stack.Member)).Reserved);
        Assert.Equal(served.Sum(c => c.Credits), await stack.Host.DebitsAsync(stack.Member));
    }

    [Theory]
    [InlineData("cut halfway")]
    [InlineData("stalls without closing")]
    [InlineData("larger than expected")]
    public async Task A_stream_that_breaks_after_its_first_byte_ends_with_an_error_event_and_is_billed_for_what_was_delivered(string fault)
    {
        await using var stack = await StartAsync();
        var words = string.Join(' ', Enumerable.Range(0, 40).Select(i => $"word{i}"));
        stack.Faulty.Enqueue(fault switch
        {
            "cut halfway" => new FakeReply { Text = words, CutAfterEvents = 20 },
            "stalls without closing" => new FakeReply { Text = words, StallAfterEvents = 20 },
            // About 1.3 MiB of text in 64 KiB deltas: past the 1 MiB limit midway.
            _ => new FakeReply { TextChunks = [.. Enumerable.Repeat(new string('y', 64 * 1024), 20)] },
        });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
        {
            Content = Json("""{"model":"xai/fault-model","stream":true,"max_tokens":2000,"messages":[{"role":"user","content":"hi"}]}"""),
        };
        using var response = await stack.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"error\":{", text);
        Assert.DoesNotContain("[DONE]", text);
        var call = await stack.Host.WaitForSettledAsync(stack.Member);
        Assert.True(call.Estimated, "the provider's usage never came: billed by estimate");
        Assert.True(call.Credits > 0m, "what reached the caller is billed");
        Assert.False(string.IsNullOrWhiteSpace(call.ErrorReason));
        Assert.Equal(0m, (await stack.Host.AccountAsync(stack.Member)).Reserved);
        Assert.Equal(call.Credits, await stack.Host.DebitsAsync(stack.Member));
        Assert.Empty(stack.Healthy.Requests); // no failover once bytes reached the caller
    }

    [Fact]
    public async Task A_malformed_event_stream_before_the_first_byte_fails_over_cleanly()
    {
        await using var stack = await StartAsync();
        stack.Faulty.Enqueue(new FakeReply { RawBody = "data: {\"id\":\"chatcmpl-x\",\"choices\":[{\"delta\":\n\n", RawContentType = "text/event-stream" });
        stack.Healthy.Enqueue(new FakeReply { Text = "healthy stream", InputTokens = 13, OutputTokens = 5 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
        {
            Content = Json("""{"model":"via-xai","stream":true,"max_tokens":20,"messages":[{"role":"user","content":"hi"}]}"""),
        };
        using var response = await stack.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("healthy", text);
        Assert.EndsWith("data: [DONE]\n\n", text);
        var call = await stack.Host.WaitForSettledAsync(stack.Member);
        Assert.Equal(("deepseek", ModelCallStatus.Success, Charge(13, 5)), (call.Provider, call.Status, call.Credits));
    }
}
