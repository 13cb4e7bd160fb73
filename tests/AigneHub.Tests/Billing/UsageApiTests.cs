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
        var owner = await host.ScalarAsync<Guid>("SELECT id FROM aignehub.users WHERE role = 'Owner'");
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
            ("/api/admin/model-calls/export?type=music", "type"),
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

    [Fact]
    public async Task The_call_log_and_its_export_carry_the_units_an_audio_or_video_call_is_charged_by()
    {
        // Speech is charged per character, transcription per second heard, video per second delivered: without those
        // units an operator cannot check a charge against its rate from the export.
        await using var host = await BillingHost.StartAsync();
        var user = Guid.NewGuid();
        var (speech, heard, video) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        const string insert = """
            INSERT INTO aignehub.model_calls (id, user_id, surface, provider, model, requested_model, type, status,
                prompt_tokens, completion_tokens, cache_creation_tokens, cache_read_tokens, images, credits, billed, estimated,
                characters, audio_seconds, video_seconds, created_at, completed_at)
            VALUES
            (@s, @u, 'v2', 'openai', 'tts-1', 'openai/tts-1', 'audio', 'success', 0, 0, 0, 0, 0, 0.018, true, false,
                1200, NULL, NULL, '2026-03-01T10:00:00Z', '2026-03-01T10:00:01Z'),
            (@h, @u, 'v2', 'openai', 'whisper-1', 'openai/whisper-1', 'audio', 'success', 0, 0, 0, 0, 0, 0.0125, true, false,
                0, 12.5, NULL, '2026-03-01T11:00:00Z', '2026-03-01T11:00:01Z'),
            (@v, @u, 'v2', 'openai', 'sora-2', 'openai/sora-2', 'video', 'success', 0, 0, 0, 0, 0, 0.8, true, false,
                0, NULL, 8, '2026-03-01T12:00:00Z', '2026-03-01T12:01:00Z')
            """;
        await host.ScalarAsync<int>(insert, ("s", speech), ("h", heard), ("v", video), ("u", user));

        using var export = await host.Owner.GetAsync($"/api/admin/model-calls/export?userId={user}");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        var lines = (await export.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        var header = lines[0].Split(',').ToList();
        string Cell(Guid id, string column) => lines.Single(l => l.StartsWith(id.ToString(), StringComparison.Ordinal)).Split(',')[header.IndexOf(column)];
        Assert.Contains("characters", header);
        Assert.Contains("audio_seconds", header);
        Assert.Contains("video_seconds", header);
        Assert.Equal("1200", Cell(speech, "characters"));
        Assert.Equal("", Cell(speech, "audio_seconds"));
        Assert.Equal("12.5", Cell(heard, "audio_seconds"));
        Assert.Equal("8", Cell(video, "video_seconds"));
        Assert.Equal("", Cell(heard, "video_seconds"));

        var calls = await host.Owner.GetFromJsonAsync<JsonObject>($"/api/admin/model-calls?userId={user}");
        var videoCall = calls!["items"]!.AsArray().Single(i => i!["id"]!.GetValue<Guid>() == video)!;
        Assert.Equal("8", videoCall["videoSeconds"]!.GetValue<string>());
    }

    [Fact]
    public async Task Export_streams_every_field_exactly_and_defuses_cells_a_spreadsheet_would_run()
    {
        await using var host = await BillingHost.StartAsync();
        var user = Guid.NewGuid();
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        const string insert = """
            INSERT INTO aignehub.model_calls (id, user_id, app_id, surface, provider, model, requested_model, type, status,
                prompt_tokens, completion_tokens, cache_creation_tokens, cache_read_tokens, images, credits, billed, estimated,
                duration_ms, gateway_ttfb_ms, error_reason, request_id, trace_id, created_at, completed_at)
            VALUES
            (@a, @u, 'app,"one"', 'v2', 'openai', 'gpt-x', 'openai/gpt-x', 'chat', 'success', 1000, 500, 3, 4, 0, 2.5, true, false,
                1500, 40, NULL, 'req-1', '0af7651916cd43dd8448eb211c80319c', '2026-03-01T10:00:00.000001Z', '2026-03-01T10:00:01.5Z'),
            (@b, @u, '-2+3', 'v2', NULL, NULL, '@SUM(A1)', 'image', 'processing', 0, 0, 0, 0, 2, 0, true, true,
                NULL, NULL, E'first line\nsecond, "quoted"', '+cmd', E'\tx', '2026-03-01T11:00:00Z', NULL),
            (@c, @u, '=HYPERLINK("http://x")', 'v2', 'anthropic', 'claude-x', 'anthropic/claude-x', 'chat', 'failed', 10, 0, 0, 0, 0,
                0.0000000001, true, false, 2000, NULL, '=cmd|'' /C calc''!A0', E'\rline', NULL, '2026-03-01T12:00:00Z', '2026-03-01T12:00:02Z')
            """;
        await host.ScalarAsync<int>(insert, ("a", a), ("b", b), ("c", c), ("u", user));

        using var export = await host.Owner.GetAsync($"/api/admin/model-calls/export?userId={user}");
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Equal("text/csv", export.Content.Headers.ContentType!.MediaType);
        Assert.True(export.Headers.TransferEncodingChunked, "written as it is read, not sized up front");

        // Newest first. RFC 4180: a cell with a comma, quote, CR or LF is quoted, inner quotes doubled. A text cell
        // starting with = + - @ TAB or CR gets a leading ' (and quotes), so a spreadsheet shows it instead of running it.
        var expected =
            "id,created_at,completed_at,status,provider,model,requested_model,type,user_id,user_email,app_id,access_key_id,access_key_name," +
            "prompt_tokens,completion_tokens,cache_creation_tokens,cache_read_tokens,images,credits,estimated,duration_ms,gateway_ttfb_ms," +
            "status_code,error_reason,request_id,trace_id,characters,audio_seconds,video_seconds\n" +
            $"{c},2026-03-01T12:00:00.0000000+00:00,2026-03-01T12:00:02.0000000+00:00,failed,anthropic,claude-x,anthropic/claude-x,chat,{user},," +
            "\"'=HYPERLINK(\"\"http://x\"\")\",,,10,0,0,0,0,0.0000000001,false,2000,,,\"'=cmd|' /C calc'!A0\",\"'\rline\",,0,,\n" +
            $"{b},2026-03-01T11:00:00.0000000+00:00,,processing,,,\"'@SUM(A1)\",image,{user},," +
            "\"'-2+3\",,,0,0,0,0,2,0,true,,,,\"first line\nsecond, \"\"quoted\"\"\",\"'+cmd\",\"'\tx\",0,,\n" +
            $"{a},2026-03-01T10:00:00.0000010+00:00,2026-03-01T10:00:01.5000000+00:00,success,openai,gpt-x,openai/gpt-x,chat,{user},," +
            "\"app,\"\"one\"\"\",,,1000,500,3,4,0,2.5,false,1500,40,,,req-1,0af7651916cd43dd8448eb211c80319c,0,,\n";
        Assert.Equal(expected, await export.Content.ReadAsStringAsync());
    }
}
