using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Admin;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace AigneHub.Tests.Admin;

/// <summary>The Admin in-process on real Kestrel, talking to a real Api (found through <c>services:api:http:0</c>).</summary>
public sealed class AdminFactory(string apiBaseUrl, IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<AdminAssembly>
{
    public string BaseUrl => Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Starts the Admin on a free loopback port; <paramref name="settings"/> adds configuration (e.g. OIDC).</summary>
    public static AdminFactory Start(string apiBaseUrl, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var factory = new AdminFactory(apiBaseUrl, settings);
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Development serves static web assets (MudBlazor's CSS/JS) straight from the build output.
        builder.UseEnvironment("Development");
        builder.UseSetting("services:api:http:0", apiBaseUrl);
        builder.UseSetting("AigneHub:DashboardUrl", "http://dashboard.invalid");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }
}

/// <summary>An Api (own database), the Admin in front of it, a fake OpenAI provider and Chromium.</summary>
public sealed class AdminStackFixture : IAsyncLifetime
{
    public ApiFactory Api { get; private set; } = null!;

    public AdminFactory Admin { get; private set; } = null!;

    public FakeOpenAI Provider { get; private set; } = null!;

    public BrowserFixture Browser { get; } = new();

    public HttpClient Owner { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Provider = await FakeOpenAI.StartAsync();
        Api = await ApiFactory.StartAsync(configure: f =>
        {
            f.Settings["AigneHub:Billing:Enabled"] = "true";
            f.Settings["AigneHub:Billing:WelcomeCredits"] = "0";
        });
        Owner = Api.CreateClient(ApiFactory.OwnerKey);
        Admin = AdminFactory.Start(Owner.BaseAddress!.ToString().TrimEnd('/'));
        await Browser.InitializeAsync();
    }

    /// <summary>Creates a user with a password through the Api (the bootstrap owner has only a key).</summary>
    public async Task CreateUserAsync(string email, string role, string password)
    {
        using var response = await Owner.PostAsJsonAsync("/api/admin/users", new JsonObject
        {
            ["email"] = email,
            ["role"] = role,
            ["password"] = password,
        });
        Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.Conflict, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        Owner?.Dispose();
        await (Admin?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (Api?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (Provider?.DisposeAsync() ?? ValueTask.CompletedTask);
    }
}

/// <summary>
/// The dashboard in headless Chromium against a running Api. Steps that need Api features from other branches
/// (sign-in, providers, rates, usage) report as skipped, naming what is missing, until those are merged.
/// </summary>
public sealed class AdminEndToEndTests(AdminStackFixture stack, ITestOutputHelper output) : IClassFixture<AdminStackFixture>
{
    private const string OwnerEmail = "owner@e2e.test";
    private const string MemberEmail = "member@e2e.test";
    private const string Password = "correct horse battery";

    [Fact]
    public async Task Sign_in_page_guards_pages_and_shows_the_apis_message_for_a_wrong_password()
    {
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/providers");
        Assert.Contains("/signin?returnUrl=%2Fproviders", page.Url);
        await BrowserFixture.ScreenshotAsync(page, nameof(Sign_in_page_guards_pages_and_shows_the_apis_message_for_a_wrong_password), "signin");

        await page.FillAsync("#email", "nobody@e2e.test");
        await page.FillAsync("#password", "wrong password");
        await page.ClickAsync("[data-testid=signin-submit]");
        var error = page.Locator("[data-testid=api-error]");
        await error.WaitForAsync();
        var message = (await error.InnerTextAsync()).Trim();
        output.WriteLine($"Sign-in error shown: {message}");
        Assert.NotEmpty(message);
        Assert.Contains("/signin", page.Url);
        await BrowserFixture.ScreenshotAsync(page, nameof(Sign_in_page_guards_pages_and_shows_the_apis_message_for_a_wrong_password), "signin-error");
    }

    [Fact]
    public async Task Owner_signs_in_and_walks_every_page()
    {
        await stack.CreateUserAsync(OwnerEmail, "owner", Password);
        const string test = nameof(Owner_signs_in_and_walks_every_page);
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();
        await SignInAsync(page, OwnerEmail);

        string[] pages = ["/", "/providers", "/models", "/model-rates", "/usage", "/calls", "/users", "/invitations", "/audit", "/apps", "/me/keys", "/me/usage", "/playground", "/connect/0123456789abcdef0123456789abcdef"];
        foreach (var path in pages)
        {
            await TimedGotoAsync(page, path);
            await page.Locator("h1").First.WaitForAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            var name = path == "/" ? "overview" : path.Trim('/').Split('/')[^1].Length == 32 ? "connect" : path.Trim('/').Replace('/', '-');
            var shot = await BrowserFixture.ScreenshotAsync(page, test, name);
            var errors = await page.Locator("[data-testid=api-error]").AllInnerTextsAsync();
            output.WriteLine($"{path}: {shot}{(errors.Count > 0 ? " — errors: " + string.Join(" | ", errors) : "")}");
            Assert.Equal(0, await page.Locator("[data-testid=not-authorized]").CountAsync());
        }

        // The audit page reads the Api's log: creating this owner through the Api is in it.
        await page.GotoAsync("/audit");
        await BrowserFixture.WaitForInteractiveAsync(page);
        await page.Locator("[data-testid=audit-row-action]", new() { HasText = "CreateUser" }).First.WaitForAsync();

        // Tablet width: the drawer collapses, the layout still works.
        await page.SetViewportSizeAsync(820, 1180);
        await page.GotoAsync("/providers");
        await BrowserFixture.WaitForInteractiveAsync(page);
        await BrowserFixture.ScreenshotAsync(page, test, "providers-tablet");

        await page.ClickAsync("[data-testid=sign-out]");
        await page.WaitForURLAsync("**/signin**");
    }

    [Fact]
    public async Task A_phished_connect_link_shows_who_asked_warns_the_owner_and_needs_the_code_from_the_terminal()
    {
        const string test = nameof(A_phished_connect_link_shows_who_asked_warns_the_owner_and_needs_the_code_from_the_terminal);
        await stack.CreateUserAsync(OwnerEmail, "owner", Password);
        using var cli = stack.Api.CreateClient(bearer: null);
        cli.DefaultRequestHeaders.UserAgent.ParseAdd("aigne-cli/9.9");
        var session = JsonNode.Parse(await (await cli.PostAsJsonAsync("/api/v2/access-key/session", new JsonObject { ["clientName"] = "build-box" })).Content.ReadAsStringAsync())!;
        var id = session["id"]!.GetValue<string>();
        var userCode = session["userCode"]!.GetValue<string>();

        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();
        await SignInAsync(page, OwnerEmail);
        await page.GotoAsync($"/connect/{id}");
        await BrowserFixture.WaitForInteractiveAsync(page);
        var request = await page.Locator("[data-testid=connect-request]").InnerTextAsync();
        Assert.Contains("build-box", request);
        Assert.Contains("aigne-cli/9.9", request);
        Assert.Contains("127.0.0.1", request);
        Assert.Contains("owner", await page.Locator("[data-testid=connect-warning]").InnerTextAsync());
        // Nothing to click until a code is typed; a wrong one is refused with the Api's message.
        Assert.True(await page.Locator("[data-testid=connect-approve]").IsDisabledAsync());
        await FillAsync(page, "[data-testid=connect-code]", userCode == "BBBB-BBBB" ? "CCCC-CCCC" : "BBBB-BBBB");
        await page.ClickAsync("[data-testid=connect-approve]");
        Assert.Contains("does not match", await page.Locator("[data-testid=api-error]").InnerTextAsync());
        await BrowserFixture.ScreenshotAsync(page, test, "connect-wrong-code");

        await FillAsync(page, "[data-testid=connect-code]", userCode);
        await page.ClickAsync("[data-testid=connect-approve]");
        await page.Locator("[data-testid=connect-approved]").WaitForAsync();
        Assert.Equal(HttpStatusCode.OK, (await cli.GetAsync($"/api/v2/access-key/session/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_member_cannot_reach_admin_pages_and_the_api_refuses_too()
    {
        await stack.CreateUserAsync(MemberEmail, "member", Password);
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();
        await SignInAsync(page, MemberEmail);
        Assert.EndsWith("/me/usage", page.Url);
        Assert.Equal(0, await page.Locator("a[href='/providers']").CountAsync());

        await page.GotoAsync("/providers");
        await page.Locator("[data-testid=not-authorized]").WaitForAsync();
        await BrowserFixture.ScreenshotAsync(page, nameof(A_member_cannot_reach_admin_pages_and_the_api_refuses_too), "providers-denied");

        using var anonymous = stack.Api.CreateClient(bearer: null);
        using var login = await anonymous.PostAsJsonAsync("/api/auth/login", new JsonObject { ["email"] = MemberEmail, ["password"] = Password });
        var token = (await login.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
        using var member = stack.Api.CreateClient(token);
        using var refused = await member.GetAsync("/api/admin/providers");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    /// <summary>
    /// Issue 15's walk: a new owner on an empty stack gets from a provider to a paid, streamed Playground answer in
    /// the Admin alone — provider, credential, model (Models page), rate, credits — and then reads the same non-zero
    /// charge on the Overview, Usage analytics, the Call log (with key and email) and My keys.
    /// </summary>
    [Fact]
    public async Task A_new_owner_goes_from_an_empty_stack_to_a_paid_streamed_answer_and_sees_one_charge_everywhere()
    {
        const string test = nameof(A_new_owner_goes_from_an_empty_stack_to_a_paid_streamed_answer_and_sees_one_charge_everywhere);
        const string model = "gpt-4o-mini";
        await stack.CreateUserAsync(OwnerEmail, "owner", Password);
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();
        await SignInAsync(page, OwnerEmail);

        // :: The Overview of an empty stack: the checklist, nothing done.
        await TimedGotoAsync(page, "/");
        await page.Locator("[data-testid=setup-checklist]").WaitForAsync();
        Assert.Equal("false", await page.Locator("[data-testid=setup-provider]").GetAttributeAsync("data-done"));
        await BrowserFixture.ScreenshotAsync(page, test, "1-overview-empty");

        // :: A provider pointing at the fake, and its credential.
        await TimedGotoAsync(page, "/providers");
        await FillAsync(page, "[data-testid=provider-baseurl]", stack.Provider.BaseUrl.ToString());
        await page.ClickAsync("[data-testid=provider-save]");
        await page.Locator("[data-testid=providers-table]").WaitForAsync();
        await page.ClickAsync("[data-testid=provider-credentials]");
        await FillAsync(page, "[data-testid=credential-value]", "sk-e2e-fake-key-0123456789");
        await page.ClickAsync("[data-testid=credential-save]");
        await page.Locator("[data-testid=credential-row]").WaitForAsync();
        await BrowserFixture.ScreenshotAsync(page, test, "2-providers");

        // :: The model on the Models page, its id offered from the provider's own list, its rate per 1M tokens.
        await TimedGotoAsync(page, "/models");
        await page.GetByText("models in openai's list").WaitForAsync();
        await FillAsync(page, "[data-testid=model-id]", model);
        await FillAsync(page, "[data-testid=model-rate-input]", "1000");
        await FillAsync(page, "[data-testid=model-rate-output]", "2000");
        await page.ClickAsync("[data-testid=model-add]");
        var row = page.Locator("[data-testid=models-table] tbody tr", new() { HasText = $"openai/{model}" });
        await row.Locator("[data-testid=model-servable]", new() { HasText = "Yes" }).WaitForAsync();
        Assert.Equal("1,000 in · 2,000 out per 1M tokens", (await row.Locator("[data-testid=model-rate]").InnerTextAsync()).Trim());
        await row.Locator("[data-testid=model-test]").ClickAsync();
        await row.Locator("[data-testid=model-test-result]", new() { HasText = "Works" }).WaitForAsync();
        await BrowserFixture.ScreenshotAsync(page, test, "3-models");

        // :: Credits for the owner: every call, the owner's too, is paid from them.
        await TimedGotoAsync(page, "/users");
        var ownerRow = page.Locator("tr", new() { HasText = OwnerEmail });
        await ownerRow.Locator("[data-testid=user-credits]").ClickAsync();
        await FillAsync(page, "[data-testid=grant-amount]", "100");
        await FillAsync(page, "[data-testid=grant-note]", "first hour");
        await page.ClickAsync("[data-testid=grant-submit]");
        await ownerRow.Locator("[data-testid=user-balance]", new() { HasText = "100" }).WaitForAsync();
        await page.Locator("[data-testid=transactions]", new() { HasText = "first hour" }).WaitForAsync();
        await BrowserFixture.ScreenshotAsync(page, test, "4-users");

        // :: A streamed answer in the Playground, and its cost.
        await TimedGotoAsync(page, "/playground");
        // Pick the model (the demo model may be listed too, and first).
        await page.ClickAsync("[data-testid=playground-model]");
        await page.Locator(".mud-popover-open .mud-list-item", new() { HasText = $"openai/{model}" }).ClickAsync();
        await FillAsync(page, "[data-testid=playground-input]", "Say hello");
        await page.ClickAsync("[data-testid=playground-send]");
        await page.Locator("[data-testid=message-assistant]", new() { HasText = "Hello from the fake provider" }).WaitForAsync();
        var cost = page.Locator("[data-testid=playground-cost]");
        await cost.WaitForAsync();
        await BrowserFixture.ScreenshotAsync(page, test, "5-playground");
        // The fake reports 11 prompt and 7 completion tokens: 11 × 1000 / 1M + 7 × 2000 / 1M credits.
        var expected = (11 * 1000m + 7 * 2000m) / 1_000_000m;
        var figure = (await cost.InnerTextAsync()).Trim()["Cost: ".Length..].Split(' ')[0];
        Assert.Equal(expected, decimal.Parse(figure, System.Globalization.CultureInfo.InvariantCulture));
        output.WriteLine($"The call cost {figure} credits.");

        // :: The same figure on the Overview (the checklist is done and gone), Usage analytics, the Call log, My keys.
        await TimedGotoAsync(page, "/");
        await Assertions.Expect(page.Locator("[data-testid=stat-credits-value]")).ToHaveTextAsync(figure);
        Assert.Equal(0, await page.Locator("[data-testid=setup-checklist]").CountAsync());
        await BrowserFixture.ScreenshotAsync(page, test, "6-overview");

        await TimedGotoAsync(page, "/usage");
        await page.ClickAsync("[data-testid=range-24h]");
        await Assertions.Expect(page.Locator("[data-testid=usage-window]")).ToContainTextAsync("hour buckets");
        await Assertions.Expect(page.Locator("[data-testid=usage-total-Credits-value]")).ToHaveTextAsync(figure);
        await page.Locator("[data-testid=usage-chart]").WaitForAsync();
        await page.Locator("[data-testid=breakdown-key] [data-testid=breakdown-row]", new() { HasText = "sign-in session" }).WaitForAsync();
        await BrowserFixture.ScreenshotAsync(page, test, "7-usage");

        await TimedGotoAsync(page, "/calls");
        await FillAsync(page, "[data-testid=calls-user-email]", OwnerEmail.ToUpperInvariant());
        await page.ClickAsync("[data-testid=calls-apply]");
        var call = page.Locator("[data-testid=calls-grid] tbody tr", new() { HasText = $"openai/{model}" }).First;
        await call.WaitForAsync();
        Assert.Equal(figure, (await call.Locator("[data-testid=call-credits]").InnerTextAsync()).Trim());
        Assert.Equal(OwnerEmail, (await call.Locator("[data-testid=call-user]").InnerTextAsync()).Trim());
        Assert.Contains("sign-in session", await call.Locator("[data-testid=call-key]").InnerTextAsync());
        await call.ClickAsync();
        var detail = page.Locator("[data-testid=call-detail]");
        await detail.WaitForAsync();
        // In view without scrolling: the whole panel lies inside the viewport.
        var box = (await detail.BoundingBoxAsync())!;
        Assert.True(box.Y >= 0 && box.Y + box.Height <= page.ViewportSize!.Height, $"detail panel at y={box.Y}, height {box.Height}");
        Assert.Equal(1, await page.Locator("[data-testid=trace-link]").CountAsync());
        await BrowserFixture.ScreenshotAsync(page, test, "8-calls");

        await TimedGotoAsync(page, "/me/keys");
        var sessions = page.Locator("[data-testid=keys-table] tr", new() { HasText = "sign-in session" });
        await Assertions.Expect(sessions.Locator("[data-testid=key-row-credits]")).ToHaveTextAsync(figure);
        Assert.Contains(stack.Owner.BaseAddress!.ToString().TrimEnd('/') + "/api/v2", await page.Locator("[data-testid=keys-base-url]").InnerTextAsync());
        await BrowserFixture.ScreenshotAsync(page, test, "9-my-keys");
    }

    /// <summary>Navigates and waits for the interactive circuit, printing how long that took (measured, not asserted).</summary>
    private async Task TimedGotoAsync(IPage page, string path)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await GotoInteractiveAsync(page, path);
        output.WriteLine($"{path}: interactive after {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms");
    }

    private static async Task SignInAsync(IPage page, string email)
    {
        await page.GotoAsync("/signin");
        await page.FillAsync("#email", email);
        await page.FillAsync("#password", Password);
        await page.ClickAsync("[data-testid=signin-submit]");
        await page.Locator("[data-testid=signed-in-user]").WaitForAsync();
        await BrowserFixture.WaitForInteractiveAsync(page);
    }

    private static async Task GotoInteractiveAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await BrowserFixture.WaitForInteractiveAsync(page);
    }

    /// <summary>MudBlazor fields bind on change: fill, then leave the field.</summary>
    private static async Task FillAsync(IPage page, string selector, string value)
    {
        var field = page.Locator(selector);
        await field.FillAsync(value);
        await field.PressAsync("Tab");
    }
}
