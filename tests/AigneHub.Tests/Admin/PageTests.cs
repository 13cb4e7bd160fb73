using System.IO.Pipelines;
using System.Net;
using System.Text;
using AigneHub.Admin.Api;
using AigneHub.Admin.Components.Pages;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProvidersPage = AigneHub.Admin.Components.Pages.Providers;

namespace AigneHub.Tests.Admin;

public class PageTests() : AdminComponentTestBase(services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(Now)))
{
    /// <summary>The pages' clock: rolling windows are computed from it.</summary>
    private static readonly DateTimeOffset Now = new(2026, 11, 26, 10, 30, 0, TimeSpan.Zero);

    private const string Provider = """
        {"id":"11111111-1111-1111-1111-111111111111","name":"openai","displayName":"OpenAI","baseUrl":null,
         "effectiveBaseUrl":"https://api.openai.com/v1","protocol":"openai","enabled":true,"credentialCount":2,"activeCredentialCount":1,
         "createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"}
        """;

    private const string Credential = """
        {"id":"22222222-2222-2222-2222-222222222222","providerId":"11111111-1111-1111-1111-111111111111","name":"main",
         "maskedValue":"sk-a…wxyz","weight":100,"status":"inactive","lastError":"invalid key","lastErrorAt":"2026-11-02T00:00:00Z",
         "lastUsedAt":null,"nextCheckAt":null,"createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"}
        """;

    [Fact]
    public void Providers_lists_providers_and_masked_credentials_and_tests_one_with_a_busy_state()
    {
        var release = new TaskCompletionSource();
        Api.OnGet("/api/admin/providers", $"[{Provider}]")
            .OnGet("/api/admin/providers/11111111-1111-1111-1111-111111111111/credentials", $"[{Credential}]")
            .On(HttpMethod.Post, "/api/admin/providers/11111111-1111-1111-1111-111111111111/credentials/22222222-2222-2222-2222-222222222222/test",
                async _ =>
                {
                    await release.Task;
                    return FakeApiHandler.Json(HttpStatusCode.OK, """{"ok":false,"error":"401 from openai: invalid key"}""");
                });
        var page = Render<ProvidersPage>();

        page.WaitForAssertion(() => Assert.Contains("1 / 2 active", page.Find("[data-testid=providers-table]").TextContent));
        page.Find("[data-testid=provider-credentials]").Click();
        page.WaitForAssertion(() => Assert.Contains("sk-a…wxyz", page.Find("[data-testid=credential-row]").TextContent));
        Assert.Contains("invalid key", page.Find("[data-testid=credential-row]").TextContent);

        page.Find("[data-testid=test-model]").Change("gpt-4o-mini");
        page.Find("[data-testid=credential-test]").Click();
        page.WaitForAssertion(() => Assert.Contains("Testing…", page.Find("[data-testid=credential-test]").TextContent));
        release.SetResult();
        page.WaitForAssertion(() => Assert.Contains("401 from openai: invalid key", page.Find("[data-testid=test-result]").TextContent));
        Assert.Contains(Api.Requests, r => r.Body == """{"model":"gpt-4o-mini"}""");
    }

    [Fact]
    public void Providers_shows_the_api_error_message_when_creating_fails()
    {
        Api.OnGet("/api/admin/providers", "[]")
            .On(HttpMethod.Post, "/api/admin/providers", HttpStatusCode.Conflict,
                """{"error":{"message":"Provider 'openai' is already configured.","type":"conflict_error","param":"name"}}""");
        var page = Render<ProvidersPage>();

        page.WaitForAssertion(() => Assert.Contains("No providers yet", page.Find("[data-testid=empty-state]").TextContent));
        page.Find("[data-testid=provider-save]").Click();
        page.WaitForAssertion(() => Assert.Equal("Provider 'openai' is already configured.", page.Find("[data-testid=api-error]").TextContent.Trim()));
    }

    private const string Rate = """
        {"id":"33333333-3333-3333-3333-333333333333","provider":"openai","model":"gpt-4o-mini","type":"chat",
         "inputRate":"0.0000003","outputRate":"0.0000012","cacheWriteRate":null,"cacheReadRate":null,
         "unitCosts":{"input":"0.00000015","output":"0.0000006"},"metadata":null,"deprecated":false,
         "createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"}
        """;

    [Fact]
    public void Model_rates_show_token_rates_per_million_and_bulk_update_previews_before_applying()
    {
        Api.OnGet("/api/admin/model-rates", $"[{Rate}]")
            .On(HttpMethod.Put, "/api/admin/model-rates/33333333-3333-3333-3333-333333333333", HttpStatusCode.OK, Rate);
        var page = Render<ModelRates>();

        page.WaitForAssertion(() => Assert.Contains("0.3 per 1M tokens", page.Markup));
        Assert.Contains("1.2 per 1M tokens", page.Find("[data-testid=rates-grid]").TextContent);

        page.Find("[data-testid=bulk-preview]").Click();
        // Unit costs 0.15 / 0.60 per 1M at +20 % and a credit price of 1 → 0.18 / 0.72 per 1M.
        page.WaitForAssertion(() => Assert.Contains("0.3 per 1M tokens → 0.18 per 1M tokens", page.Find("[data-testid=bulk-table]").TextContent));
        Assert.DoesNotContain(Api.Requests, r => r.Method == HttpMethod.Put);

        page.Find("[data-testid=bulk-apply]").Click();
        page.WaitForAssertion(() => Assert.Contains(Api.Requests, r => r.Method == HttpMethod.Put));
        var put = Api.Requests.Single(r => r.Method == HttpMethod.Put);
        Assert.Contains("\"inputRate\":\"0.00000018\"", put.Body);
        Assert.Contains("\"outputRate\":\"0.00000072\"", put.Body);
    }

    [Fact]
    public void The_rate_form_says_what_is_wrong_in_its_own_labels_and_units_and_sends_nothing()
    {
        Api.OnGet("/api/admin/model-rates", "[]");
        var page = Render<ModelRates>();
        page.WaitForAssertion(() => page.Find("[data-testid=rate-save]"));

        page.Find("[data-testid=rate-model]").Change("gpt-4o");
        page.Find("[data-testid=rate-input]").Change("-1");
        // Stored per token (18 decimal places at most), a price per 1M tokens may carry 12: this one has 13.
        page.Find("[data-testid=rate-output]").Change("0.0000000000001");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=rate-save]").HasAttribute("disabled")));
        page.Find("[data-testid=rate-save]").Click();

        page.WaitForAssertion(() => page.Find("[data-testid=api-error]"));
        var error = page.Find("[data-testid=api-error]").TextContent;
        Assert.Contains("Input cannot be negative.", error);
        Assert.Contains("Output can have at most 12 decimal places (credits per 1M tokens).", error);
        Assert.DoesNotContain("inputRate", error);
        Assert.DoesNotContain(Api.Requests, r => r.Method == HttpMethod.Post);
    }

    [Fact]
    public void Playground_renders_the_answer_chunk_by_chunk_as_events_arrive()
    {
        var pipe = new Pipe();
        Api.OnGet("/api/v2/models", """{"object":"list","data":[{"id":"demo/echo","object":"model","owned_by":"demo"}]}""")
            .On(HttpMethod.Post, "/api/v2/chat/completions", _ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StreamContent(pipe.Reader.AsStream()) { Headers = { ContentType = new("text/event-stream") } },
                Headers = { { "x-trace-id", "0af7651916cd43dd8448eb211c80319c" } },
            }))
            .OnGet("/api/v2/model-calls", """{"items":[{"id":"77777777-7777-7777-7777-777777777777","userId":null,"appId":null,"surface":"v2","provider":"demo","model":"echo","requestedModel":"demo/echo","type":"chat","status":"success","promptTokens":5,"completionTokens":2,"cacheCreationTokens":0,"cacheReadTokens":0,"images":0,"imageSize":null,"imageQuality":null,"credits":"0.0000123","estimated":false,"durationMs":120,"gatewayTtfbMs":30,"providerTtfbMs":25,"attempts":1,"errorReason":null,"requestId":"r1","traceId":"0af7651916cd43dd8448eb211c80319c","createdAt":"2026-11-26T00:00:00Z","completedAt":"2026-11-26T00:00:01Z"}],"page":1,"pageSize":10,"total":1}""");
        var page = Render<Playground>();
        page.WaitForAssertion(() => Assert.Contains("demo/echo", page.Find("[data-testid=playground-model]").TextContent));

        page.Find("[data-testid=playground-input]").Change("Say hello");
        page.Find("[data-testid=playground-send]").Click();
        Write(pipe, """data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}""");
        page.WaitForAssertion(() => Assert.Contains("Hel", page.Find("[data-testid=message-streaming]").TextContent));
        Assert.DoesNotContain("Hello there", page.Markup);

        Write(pipe, """data: {"choices":[{"index":0,"delta":{"content":"lo there"}}]}""");
        Write(pipe, """data: {"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}""");
        Write(pipe, "data: [DONE]");
        pipe.Writer.Complete();
        page.WaitForAssertion(() => Assert.Contains("Hello there", page.Find("[data-testid=message-assistant]").TextContent));
        Assert.Contains("5 prompt + 2 completion tokens", page.Find("[data-testid=playground-usage]").TextContent);
        // The cost comes from the call's own record, found by the trace id the gateway answered with.
        page.WaitForAssertion(() => Assert.Equal("Cost: 0.0000123 credits", page.Find("[data-testid=playground-cost]").TextContent.Trim()));
        var sent = Api.Requests.Single(r => r.Method == HttpMethod.Post).Body!;
        Assert.Contains("\"stream\":true", sent);
        Assert.Contains("\"content\":\"Say hello\"", sent);
    }

    [Fact]
    public void Playground_shows_the_gateways_error_before_streaming()
    {
        Api.OnGet("/api/v2/models", """{"object":"list","data":[{"id":"openai/gpt-4o","object":"model","owned_by":"openai"}]}""")
            .On(HttpMethod.Post, "/api/v2/chat/completions", HttpStatusCode.PaymentRequired,
                """{"error":{"message":"Insufficient credits: buy more at https://pay.example","type":"insufficient_quota"}}""");
        var page = Render<Playground>();
        page.WaitForAssertion(() => Assert.Contains("openai/gpt-4o", page.Find("[data-testid=playground-model]").TextContent));

        page.Find("[data-testid=playground-input]").Change("Hi");
        page.Find("[data-testid=playground-send]").Click();
        page.WaitForAssertion(() => Assert.Contains("Insufficient credits", page.Find("[data-testid=api-error]").TextContent));
        // The failed turn is not kept to be sent again: it is back in the box, and the transcript is empty.
        Assert.Empty(page.FindAll("[data-testid=message-user]"));
        Assert.Equal("Hi", page.Find("[data-testid=playground-input]").GetAttribute("value"));
    }

    [Fact]
    public void My_keys_shows_spend_per_key_and_a_new_key_once_with_its_expiry()
    {
        Api.OnGet("/api/v2/access-keys", """[{"id":"45454545-4545-4545-4545-454545454545","prefix":"ahk_old1","name":"ci","kind":"api","createdAt":"2026-11-01T00:00:00Z","expiresAt":"2026-12-31T00:00:00Z","revokedAt":null,"lastUsedAt":null,"scope":"inference"}]""")
            .OnGet("/api/v2/usage/breakdown", """{"by":"key","rows":[{"key":"session","label":"sign-in session (Admin, Playground)","calls":2,"failed":0,"tokens":36,"credits":"0.05"},{"key":"45454545-4545-4545-4545-454545454545","label":"ci","calls":1,"failed":0,"tokens":18,"credits":"0.025"}]}""")
            .On(HttpMethod.Post, "/api/v2/access-keys", HttpStatusCode.Created,
                """{"id":"44444444-4444-4444-4444-444444444444","key":"ahk_secret_value_123","prefix":"ahk_secr","name":"laptop","expiresAt":null}""");
        var page = Render<MyKeys>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=key-row-name]").Count));
        var names = page.FindAll("[data-testid=key-row-name]").Select(e => e.TextContent.Trim()).ToList();
        var credits = page.FindAll("[data-testid=key-row-credits]").Select(e => e.TextContent.Trim()).ToList();
        Assert.Equal(["ci", "sign-in session (Admin, Playground)"], names);
        Assert.Equal(["0.025", "0.05"], credits);
        Assert.Equal("2026-12-31 00:00:00Z", page.Find("[data-testid=key-row-expires]").TextContent.Trim());
        // The 30 days up to the page's clock.
        var spend = Api.Requests.Single(r => r.PathAndQuery.StartsWith("/api/v2/usage/breakdown", StringComparison.Ordinal)).PathAndQuery;
        Assert.Contains("by=key", spend);
        Assert.Contains("from=" + Uri.EscapeDataString(Now.AddDays(-30).ToString("O", System.Globalization.CultureInfo.InvariantCulture)), spend);

        page.Find("[data-testid=key-name]").Change("laptop");
        page.Find("[data-testid=key-create]").Click();
        page.WaitForAssertion(() => Assert.Equal("ahk_secret_value_123", page.Find("[data-testid=key-secret]").TextContent));
        Assert.Contains(Api.Requests, r => r.Method == HttpMethod.Post && r.Body!.Contains("\"name\":\"laptop\""));
    }

    private const string CoolingHealth = """
        {"windowMinutes":15,"providers":[{"id":"11111111-1111-1111-1111-111111111111","provider":"openai","displayName":"OpenAI","enabled":true,
         "status":"cooling","summary":"every credential is rate limited; back in 42 s","recentCalls":5,"recentRateLimited":3,"recentServerErrors":1,
         "lastError":"openai answered 429: Rate limit reached","lastErrorAt":"2026-11-26T10:29:00Z",
         "credentials":[{"id":"22222222-2222-2222-2222-222222222222","name":"main","maskedValue":"sk-a…wxyz","status":"cooling","coolingSecondsLeft":42}]}]}
        """;

    [Fact]
    public void Overview_counts_the_last_24_hours_and_is_honest_about_a_provider_cooling_down()
    {
        Api.OnGet("/health", """{"status":"Healthy","durationMs":3.2,"checks":[{"name":"postgres","status":"Healthy","description":null,"durationMs":1.5}]}""")
            .OnGet("/api/admin/usage/trends", """{"buckets":[{"start":"2026-11-26T00:00:00Z","calls":8,"successes":6,"credits":"1.5"},{"start":"2026-11-26T01:00:00Z","calls":2,"successes":2,"credits":"0.0000004"}]}""")
            .OnGet("/api/admin/usage/breakdown", """{"by":"model","rows":[{"key":"openai/gpt-4o-mini","label":"openai/gpt-4o-mini","calls":10,"failed":2,"tokens":180,"credits":"1.5000004"}]}""")
            .OnGet("/api/admin/model-calls", """{"items":[],"page":1,"pageSize":20,"total":0}""")
            .OnGet("/api/admin/providers", $"[{Provider}]")
            .OnGet("/api/admin/providers/health", CoolingHealth)
            .OnGet("/api/admin/models/servable", """{"billingEnabled":true,"demoEnabled":false,"models":[]}""")
            .OnGet("/api/v2/credits", """{"balance":"0","reserved":"0","available":"0","currency":"credits","paymentLink":null,"grants":{"paid":"0","promotional":"0"},"expiringSoon":{"amount":"0","before":null}}""");
        var page = Render<Home>();

        page.WaitForAssertion(() => Assert.Contains("10", page.Find("[data-testid=stat-calls]").TextContent));
        // 1.5 + 0.0000004: shown to two decimals above 1, as the one credit format does everywhere.
        Assert.Equal("1.5", page.Find("[data-testid=stat-credits-value]").TextContent.Trim());
        Assert.Contains("20", page.Find("[data-testid=stat-errors]").TextContent);
        // Rolling: the 24 hours up to now, not the current UTC day.
        var trends = Api.Requests.First(r => r.PathAndQuery.StartsWith("/api/admin/usage/trends", StringComparison.Ordinal)).PathAndQuery;
        Assert.Contains("from=" + Uri.EscapeDataString(Now.AddDays(-1).ToString("O", System.Globalization.CultureInfo.InvariantCulture)), trends);
        Assert.Contains("postgres", page.Find("[data-testid=api-check]").TextContent);
        page.WaitForAssertion(() => Assert.Contains("Healthy", page.Find("[data-testid=worker-check]").TextContent));

        // Postgres and Redis are fine, but no provider can serve: the stack is not "Healthy".
        page.WaitForAssertion(() => Assert.Equal("Degraded", page.Find("[data-testid=api-status]").TextContent.Trim()));
        Assert.Contains("no provider can serve calls right now", page.Find("[data-testid=api-status-note]").TextContent);
        var problem = page.Find("[data-testid=provider-problem]").TextContent;
        Assert.Contains("back in 42 s", problem);
        Assert.Contains("3 × 429 and 1 × 5xx of 5 calls in the last 15 min", problem);
        Assert.Contains("Rate limit reached", problem);
        Assert.Empty(page.FindAll("[data-testid=providers-ok]"));
    }

    [Fact]
    public void Overview_is_not_healthy_while_the_worker_is_unreachable()
    {
        Api.OnGet("/health", """{"status":"Healthy","durationMs":3.2,"checks":[]}""")
            .OnGet("/api/admin/usage/trends", """{"buckets":[]}""")
            .OnGet("/api/admin/usage/breakdown", """{"by":"model","rows":[]}""")
            .OnGet("/api/admin/model-calls", """{"items":[],"page":1,"pageSize":20,"total":0}""")
            .OnGet("/api/admin/providers", "[]")
            .OnGet("/api/admin/providers/health", """{"windowMinutes":15,"providers":[]}""")
            .OnGet("/api/admin/models/servable", """{"billingEnabled":true,"demoEnabled":false,"models":[]}""")
            .OnGet("/api/v2/credits", """{"balance":"0","reserved":"0","available":"0","currency":"credits","paymentLink":null}""");
        Worker.On(HttpMethod.Get, "/health", _ => throw new HttpRequestException("Connection refused"));
        var page = Render<Home>();

        page.WaitForAssertion(() => Assert.Contains("Unreachable", page.Find("[data-testid=worker-check]").TextContent));
        page.WaitForAssertion(() => Assert.Equal("Degraded", page.Find("[data-testid=api-status]").TextContent.Trim()));
        Assert.Contains("Worker is unreachable", page.Find("[data-testid=api-status-note]").TextContent);
    }

    [Fact]
    public void Overview_checklist_marks_what_is_done_and_links_the_next_steps()
    {
        Api.OnGet("/health", """{"status":"Healthy","durationMs":3.2,"checks":[]}""")
            .OnGet("/api/admin/usage/trends", """{"buckets":[]}""")
            .OnGet("/api/admin/usage/breakdown", """{"by":"model","rows":[]}""")
            .OnGet("/api/admin/model-calls", """{"items":[],"page":1,"pageSize":20,"total":0}""")
            .OnGet("/api/admin/providers", $"[{Provider}]")
            .OnGet("/api/admin/providers/health", """{"windowMinutes":15,"providers":[]}""")
            .OnGet("/api/admin/models/servable", """
                {"billingEnabled":true,"demoEnabled":true,"models":[
                 {"id":null,"provider":"demo","model":"echo","type":"chat","displayName":null,"enabled":true,"rateId":"33333333-3333-3333-3333-333333333333","inputRate":"0","outputRate":"0","servable":true,"missing":[]},
                 {"id":"88888888-8888-8888-8888-888888888888","provider":"openai","model":"gpt-4o-mini","type":"chat","displayName":null,"enabled":true,"rateId":null,"inputRate":null,"outputRate":null,"servable":false,"missing":["no rate"]}]}
                """)
            .OnGet("/api/v2/credits", """{"balance":"0","reserved":"0","available":"0","currency":"credits","paymentLink":null,"grants":{"paid":"0","promotional":"0"},"expiringSoon":{"amount":"0","before":null}}""");
        var page = Render<Home>();

        page.WaitForAssertion(() => page.Find("[data-testid=setup-checklist]"));
        string Done(string step) => page.Find($"[data-testid=setup-{step}]").GetAttribute("data-done")!;
        Assert.Equal("true", Done("provider"));
        Assert.Equal("true", Done("credential"));
        Assert.Equal("true", Done("model"));
        // The demo model's rate does not count: it proves the hub runs, not that a provider is set up.
        Assert.Equal("false", Done("rate"));
        Assert.Equal("false", Done("credits"));
        Assert.Equal("false", Done("call"));
        Assert.Equal("/models", page.Find("[data-testid=setup-rate] a").GetAttribute("href"));
        Assert.Equal("/users", page.Find("[data-testid=setup-credits] a").GetAttribute("href"));
        Assert.Equal("/playground", page.Find("[data-testid=setup-call] a").GetAttribute("href"));
        Assert.Contains("providers-none", page.Markup);
    }

    [Fact]
    public void Users_grant_credits_and_refresh_the_balance()
    {
        var granted = false;
        Api.OnGet("/api/admin/users", """[{"id":"55555555-5555-5555-5555-555555555555","email":"m@example.test","displayName":null,"did":null,"role":"member","disabled":false,"hasPassword":true,"createdAt":"2026-11-01T00:00:00Z","lastSeenAt":null}]""")
            .On(HttpMethod.Get, "/api/admin/users/55555555-5555-5555-5555-555555555555/credits", _ => Task.FromResult(FakeApiHandler.Json(HttpStatusCode.OK,
                granted ? """{"balance":"25","reserved":"0","available":"25","currency":"credits"}""" : """{"balance":"0","reserved":"0","available":"0","currency":"credits"}""")))
            .OnGet("/api/admin/users/55555555-5555-5555-5555-555555555555/credits/transactions", """{"items":[],"page":1,"pageSize":20,"total":0}""")
            .On(HttpMethod.Post, "/api/admin/users/55555555-5555-5555-5555-555555555555/credits/grants", _ =>
            {
                granted = true;
                return Task.FromResult(FakeApiHandler.Json(HttpStatusCode.Created, """{"id":"66666666-6666-6666-6666-666666666666","userId":"55555555-5555-5555-5555-555555555555","amount":"25","category":"promotional","source":"admin","note":null,"expiresAt":null,"createdAt":"2026-11-26T00:00:00Z"}"""));
            });
        var page = Render<Users>();
        page.WaitForAssertion(() => Assert.Equal("0", page.Find("[data-testid=user-balance]").TextContent.Trim()));

        page.Find("[data-testid=user-credits]").Click();
        page.WaitForAssertion(() => page.Find("[data-testid=credits-panel]"));
        page.Find("[data-testid=grant-amount]").Change("25");
        page.Find("[data-testid=grant-submit]").Click();
        page.WaitForAssertion(() => Assert.Equal("25", page.Find("[data-testid=user-balance]").TextContent.Trim()));
        Assert.Contains(Api.Requests, r => r.Body is { } b && b.Contains("\"amount\":\"25\"") && b.Contains("\"category\":\"promotional\""));
        // The form starts over after a grant: a second click would grant nothing, not 25 again.
        Assert.Equal("0", page.Find("[data-testid=grant-amount]").GetAttribute("value"));
    }

    [Fact]
    public void Overview_for_a_member_shows_only_the_public_status_and_fetches_no_admin_data()
    {
        Auth.SetRoles("member");
        Api.OnGet("/health", """{"status":"Degraded","durationMs":3.2,"checks":[{"name":"database-migrations","status":"Degraded","description":null,"durationMs":1.5}]}""");
        var page = Render<Home>();

        page.WaitForAssertion(() => Assert.Equal("Degraded", page.Find("[data-testid=api-status]").TextContent.Trim()));
        Assert.Contains("for owners and admins", page.Find("[data-testid=public-status]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=stat-calls]"));
        Assert.All(Api.Requests, r => Assert.Equal("/health", r.PathAndQuery));
    }

    [Fact]
    public void Overview_for_a_stranger_says_the_api_is_unreachable_without_the_probes_error_text()
    {
        Auth.SetNotAuthorized();
        Api.On(HttpMethod.Get, "/health", _ => throw new HttpRequestException("Connection refused (api.corp.internal:8080)"));
        var page = Render<Home>();

        page.WaitForAssertion(() => Assert.Equal("Unreachable", page.Find("[data-testid=api-status]").TextContent.Trim()));
        Assert.DoesNotContain("corp.internal", page.Markup);
        Assert.DoesNotContain("Connection refused", page.Markup);
    }

    [Fact]
    public void My_usage_shows_the_quota_card_with_days_left_in_the_apis_shape()
    {
        Api.OnGet("/api/v2/credits", """{"balance":"40","reserved":"2.5","available":"37.5","currency":"credits","paymentLink":null}""")
            .OnGet("/api/v2/usage/quota", """{"balance":"40","reserved":"2.5","available":"37.5","dailyAverage":"3.2","estimatedDaysLeft":11.7,"currency":"credits"}""")
            .OnGet("/api/v2/model-calls", """{"items":[{"id":"77777777-7777-7777-7777-777777777777","userId":null,"appId":null,"surface":"v2","provider":"openai","model":"gpt-4o-mini","requestedModel":"gpt-4o-mini","type":"chat","status":"success","promptTokens":11,"completionTokens":7,"cacheCreationTokens":0,"cacheReadTokens":0,"images":0,"imageSize":null,"imageQuality":null,"credits":"0.0123","estimated":false,"durationMs":120,"gatewayTtfbMs":30,"providerTtfbMs":25,"attempts":1,"errorReason":null,"requestId":"r1","traceId":"t1","createdAt":"2026-11-26T00:00:00Z","completedAt":"2026-11-26T00:00:01Z"}],"page":1,"pageSize":20,"total":1}""");
        var page = Render<MyUsage>();

        page.WaitForAssertion(() => Assert.Equal("37.5", page.Find("[data-testid=quota-balance]").TextContent.Trim()));
        Assert.Contains("About 11 days left", page.Find("[data-testid=quota-days-left]").TextContent);
        Assert.Contains("gpt-4o-mini", page.Find("[data-testid=my-calls]").TextContent);
        Assert.Contains("0.0123", page.Find("[data-testid=my-calls]").TextContent);
        Assert.Empty(page.FindAll("[data-testid=api-error]"));
    }

    [Fact]
    public void Meter_events_lists_the_undelivered_charges_and_sends_one_again()
    {
        const string first = "88888888-8888-8888-8888-888888888881";
        const string second = "88888888-8888-8888-8888-888888888882";
        Api.OnGet("/api/admin/meter-events/dead", $$"""
                [{"modelCallId":"{{first}}","userId":"55555555-5555-5555-5555-555555555555","credits":"12.5","createdAt":"2026-11-25T00:00:00Z","attempts":8,"lastError":"sink answered 500","deadAt":"2026-11-25T06:00:00Z"},
                 {"modelCallId":"{{second}}","userId":"55555555-5555-5555-5555-555555555555","credits":"0.25","createdAt":"2026-11-24T00:00:00Z","attempts":8,"lastError":"timeout","deadAt":"2026-11-24T06:00:00Z"}]
                """)
            .On(HttpMethod.Post, $"/api/admin/meter-events/{first}/retry", HttpStatusCode.NoContent, "");
        var page = Render<MeterEvents>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=meter-retry]").Count));
        Assert.Equal(["12.5", "0.25"], page.FindAll("[data-testid=meter-credits]").Select(c => c.TextContent.Trim()));
        Assert.Contains("sink answered 500", page.Find("[data-testid=meter-error]").TextContent);

        page.FindAll("[data-testid=meter-retry]")[0].Click();
        page.WaitForAssertion(() => Assert.Contains("1 sent back", page.Find("[data-testid=meter-requeued]").TextContent));
        Assert.Contains(Api.Requests, r => r.Method == HttpMethod.Post && r.PathAndQuery == $"/api/admin/meter-events/{first}/retry");
        Assert.DoesNotContain(Api.Requests, r => r.PathAndQuery.Contains(second + "/retry"));
        Assert.Equal(["0.25"], page.FindAll("[data-testid=meter-credits]").Select(c => c.TextContent.Trim()));
    }

    [Fact]
    public void Meter_events_shows_the_apis_error_when_a_retry_is_refused()
    {
        const string id = "88888888-8888-8888-8888-888888888883";
        Api.OnGet("/api/admin/meter-events/dead", $$"""[{"modelCallId":"{{id}}","userId":"55555555-5555-5555-5555-555555555555","credits":"1","createdAt":"2026-11-25T00:00:00Z","attempts":8,"lastError":"x","deadAt":"2026-11-25T06:00:00Z"}]""")
            .On(HttpMethod.Post, $"/api/admin/meter-events/{id}/retry", HttpStatusCode.NotFound,
                $$$"""{"error":{"message":"No dead-lettered meter event '{{{id}}}'.","type":"not_found_error"}}""");
        var page = Render<MeterEvents>();

        page.WaitForAssertion(() => page.Find("[data-testid=meter-retry]"));
        page.Find("[data-testid=meter-retry]").Click();
        page.WaitForAssertion(() => Assert.Contains("No dead-lettered meter event", page.Find("[data-testid=api-error]").TextContent));
        Assert.Single(page.FindAll("[data-testid=meter-retry]"));
    }

    private static void Write(Pipe pipe, string line)
    {
        pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(line + "\n\n")).AsTask().GetAwaiter().GetResult();
    }
}
