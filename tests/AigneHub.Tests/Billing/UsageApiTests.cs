using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Billing;

namespace AigneHub.Tests.Billing;

public sealed class UsageApiTests
{
    [Fact]
    public async Task Quota_trends_calls_and_export_report_my_usage_and_admins_see_everyone()
    {
        await using var host = await BillingHost.StartAsync();
        var owner = await host.ScalarAsync<Guid>("SELECT \"Id\" FROM aignehub.users WHERE \"Role\" = 'Owner'");
        var other = await host.CreateUserAsync();
        await host.AddRateAsync(BillingHost.Gpt, "0.001", "0.002");
        await host.AddRateAsync(BillingHost.Claude, "0.01", "0.02");
        await host.GrantAsync(owner, "30");
        await host.GrantAsync(other, "30");

        var estimate = new CallEstimate { PromptTokens = 10, MaxOutputTokens = 10 };
        for (var i = 0; i < 3; i++)
        {
            var t = await host.Recorder.StartAsync(BillingHost.Context(owner) with { AppId = "app,\"one\"" }, [BillingHost.Gpt], estimate, CancellationToken.None);
            await host.Recorder.CompleteAsync(t, BillingHost.Success(BillingHost.Gpt, 1000, 500), CancellationToken.None);
        }
        var failed = await host.Recorder.StartAsync(BillingHost.Context(owner, model: "anthropic/claude-test"), [BillingHost.Claude], estimate, CancellationToken.None);
        await host.Recorder.CompleteAsync(failed, new CallResult { Success = false, Target = BillingHost.Claude, ErrorReason = "=cmd|' /C calc'!A0", Duration = TimeSpan.FromSeconds(1) }, CancellationToken.None);
        var theirs = await host.Recorder.StartAsync(BillingHost.Context(other), [BillingHost.Gpt], estimate, CancellationToken.None);
        await host.Recorder.CompleteAsync(theirs, BillingHost.Success(BillingHost.Gpt, 1000, 500), CancellationToken.None);

        var quota = await host.Owner.GetFromJsonAsync<JsonObject>("/api/v2/usage/quota");
        Assert.Equal("24", quota!["balance"]!.GetValue<string>());
        Assert.Equal("0.2", quota["dailyAverage"]!.GetValue<string>());
        Assert.Equal(120d, quota["estimatedDaysLeft"]!.GetValue<double>());

        var trends = await host.Owner.GetFromJsonAsync<JsonObject>("/api/v2/usage/trends?granularity=hour&timezoneOffset=-480");
        var bucket = Assert.Single(trends!["buckets"]!.AsArray());
        Assert.Equal(4, bucket!["calls"]!.GetValue<long>());
        Assert.Equal(3, bucket["successes"]!.GetValue<long>());
        Assert.Equal("6", bucket["credits"]!.GetValue<string>());
        Assert.EndsWith("+08:00", bucket["start"]!.GetValue<string>());
        // Durations 3 × 120 ms and one failed 1 s; time to first byte 40 ms on each success (the failure had none).
        Assert.Equal(340d, bucket["avgDurationMs"]!.GetValue<double>());
        Assert.Equal(40d, bucket["p50TtfbMs"]!.GetValue<double>());
        Assert.Equal(40d, bucket["p95TtfbMs"]!.GetValue<double>());

        var calls = await host.Owner.GetFromJsonAsync<JsonObject>("/api/v2/model-calls?status=success&provider=openai&pageSize=2");
        Assert.Equal(3, calls!["total"]!.GetValue<long>());
        Assert.Equal(2, calls["items"]!.AsArray().Count);
        Assert.Equal("2", calls["items"]![0]!["credits"]!.GetValue<string>());
        var mineOnly = await host.Owner.GetFromJsonAsync<JsonObject>("/api/v2/model-calls");
        Assert.Equal(4, mineOnly!["total"]!.GetValue<long>());
        var everyone = await host.Owner.GetFromJsonAsync<JsonObject>("/api/admin/model-calls");
        Assert.Equal(5, everyone!["total"]!.GetValue<long>());
        var theirsOnly = await host.Owner.GetFromJsonAsync<JsonObject>($"/api/admin/model-calls?userId={other}");
        Assert.Equal(1, theirsOnly!["total"]!.GetValue<long>());

        using var export = await host.Owner.GetAsync("/api/v2/model-calls/export");
        Assert.Equal("text/csv", export.Content.Headers.ContentType!.MediaType);
        var lines = (await export.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal(5, lines.Length);
        Assert.StartsWith("id,created_at,", lines[0]);
        Assert.Contains("\"app,\"\"one\"\"\"", lines[^1]);
        Assert.Contains("'=cmd|' /C calc'!A0", lines[1]);

        foreach (var (url, param) in new[]
        {
            ("/api/v2/model-calls?status=done", "status"),
            ("/api/v2/model-calls?pageSize=0", "pageSize"),
            ("/api/admin/model-calls/export?type=audio", "type"),
            ("/api/v2/usage/trends?granularity=week", "granularity"),
            ("/api/admin/usage/trends?timezoneOffset=9999", "timezoneOffset"),
            ("/api/v2/usage/trends?granularity=hour&from=2020-01-01T00:00:00Z", "from"),
        })
        {
            using var bad = await host.Owner.GetAsync(url);
            await BillingHost.AssertErrorAsync(bad, HttpStatusCode.BadRequest, "invalid_request_error", param);
        }
        // Unbindable query values are refused by the framework before the handler (not in the common shape).
        Assert.Equal(HttpStatusCode.BadRequest, (await host.Owner.GetAsync("/api/v2/model-calls?page=abc")).StatusCode);
        using var anonymous = host.Api.CreateClient(bearer: null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v2/usage/quota")).StatusCode);
    }
}
