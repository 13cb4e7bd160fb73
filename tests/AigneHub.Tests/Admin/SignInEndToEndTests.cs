using System.Text;
using AigneHub.Api.Identity;
using AigneHub.Tests.Identity;
using AigneHub.Tests.Infrastructure;
using Microsoft.Playwright;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Xunit.Abstractions;

namespace AigneHub.Tests.Admin;

/// <summary>A fake OpenID Connect authority, an Api and an Admin both configured for it, and Chromium.</summary>
public sealed class SignInStackFixture : IAsyncLifetime
{
    public FakeOidcAuthority Authority { get; private set; } = null!;

    public ApiFactory Api { get; private set; } = null!;

    public AdminFactory Admin { get; private set; } = null!;

    public BrowserFixture Browser { get; } = new();

    public async Task InitializeAsync()
    {
        Authority = await FakeOidcAuthority.StartAsync();
        var oidc = new Dictionary<string, string?>();
        OidcApiFixture.Configure(oidc, Authority);
        Api = await ApiFactory.StartAsync(configure: f =>
        {
            foreach (var (key, value) in oidc)
            {
                f.Settings[key] = value;
            }
            // New wallets and SSO people get accounts here: the pages under test are the sign-in flows themselves.
            f.Settings["AigneHub:Auth:Registration"] = "open";
        });
        using var client = Api.CreateClient(bearer: null);
        Admin = AdminFactory.Start(client.BaseAddress!.ToString().TrimEnd('/'), oidc);
        await Browser.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await (Admin?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (Api?.DisposeAsync() ?? ValueTask.CompletedTask);
        await (Authority?.DisposeAsync() ?? ValueTask.CompletedTask);
    }
}

/// <summary>Wallet and single sign-on through the dashboard in headless Chromium, end to end.</summary>
public sealed class SignInEndToEndTests(SignInStackFixture stack, ITestOutputHelper output) : IClassFixture<SignInStackFixture>
{
    /// <summary>A test wallet: an Ed25519 key pair made with BouncyCastle, independent of the hub's own signing code.</summary>
    private sealed class TestWallet
    {
        private readonly Ed25519PrivateKeyParameters _key = new(new Org.BouncyCastle.Security.SecureRandom());

        public string Did => DidKey.FromPublicKey(_key.GeneratePublicKey().GetEncoded());

        public string SignHex(string message)
        {
            var signer = new Ed25519Signer();
            signer.Init(true, _key);
            var bytes = Encoding.UTF8.GetBytes(message);
            signer.BlockUpdate(bytes, 0, bytes.Length);
            return Convert.ToHexStringLower(signer.GenerateSignature());
        }
    }

    [Fact]
    public async Task A_wallet_signs_the_displayed_message_and_lands_signed_in_as_a_new_member()
    {
        const string test = nameof(A_wallet_signs_the_displayed_message_and_lands_signed_in_as_a_new_member);
        var wallet = new TestWallet();
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/signin");
        await page.ClickAsync("[data-testid=signin-wallet]");
        await page.WaitForURLAsync("**/signin/wallet**");
        await BrowserFixture.WaitForInteractiveAsync(page);
        await FillAsync(page, "[data-testid=wallet-did]", wallet.Did);
        await page.ClickAsync("[data-testid=wallet-get-message]");
        var shown = page.Locator("[data-testid=wallet-message]");
        await shown.WaitForAsync();
        var message = await shown.TextContentAsync() ?? "";
        output.WriteLine(message);
        Assert.Contains(wallet.Did, message);
        Assert.Contains("\nNonce: ", message);
        await BrowserFixture.ScreenshotAsync(page, test, "wallet-message");

        await page.FillAsync("[data-testid=wallet-signature]", wallet.SignHex(message));
        await page.ClickAsync("[data-testid=wallet-submit]");
        await page.Locator("[data-testid=signed-in-user]").WaitForAsync();
        Assert.EndsWith("/me/usage", page.Url);
        Assert.Contains("(member)", await page.Locator("[data-testid=signed-in-user]").InnerTextAsync());
        await BrowserFixture.ScreenshotAsync(page, test, "signed-in");
    }

    [Fact]
    public async Task A_wrong_signature_comes_back_to_the_wallet_page_with_the_apis_message()
    {
        var wallet = new TestWallet();
        var impostor = new TestWallet();
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/signin/wallet?returnUrl=%2Fme%2Fkeys");
        await BrowserFixture.WaitForInteractiveAsync(page);
        await FillAsync(page, "[data-testid=wallet-did]", wallet.Did);
        await page.ClickAsync("[data-testid=wallet-get-message]");
        var message = await page.Locator("[data-testid=wallet-message]").TextContentAsync() ?? "";
        await page.FillAsync("[data-testid=wallet-signature]", impostor.SignHex(message));
        await page.ClickAsync("[data-testid=wallet-submit]");

        var error = page.Locator("[data-testid=api-error]");
        await error.WaitForAsync();
        Assert.Contains("does not match", await error.InnerTextAsync());
        Assert.Contains("/signin/wallet?returnUrl=%2Fme%2Fkeys", page.Url);
        Assert.Equal(0, await page.Locator("[data-testid=signed-in-user]").CountAsync());
        await BrowserFixture.ScreenshotAsync(page, nameof(A_wrong_signature_comes_back_to_the_wallet_page_with_the_apis_message), "wallet-error");
    }

    [Fact]
    public async Task Single_sign_on_runs_the_code_flow_against_the_authority_and_the_api_makes_the_session()
    {
        const string test = nameof(Single_sign_on_runs_the_code_flow_against_the_authority_and_the_api_makes_the_session);
        var email = $"alice-{Guid.NewGuid():N}@corp.test";
        stack.Authority.NextUser = new FakeOidcUser(email, "Alice Corp");
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/me/keys");
        await page.WaitForURLAsync("**/signin?returnUrl=%2Fme%2Fkeys**");
        var button = page.Locator("[data-testid=signin-oidc]");
        Assert.Contains("Corp SSO", await button.TextContentAsync());
        await BrowserFixture.ScreenshotAsync(page, test, "signin-with-sso");
        await button.ClickAsync();

        await page.Locator("[data-testid=signed-in-user]").WaitForAsync();
        Assert.EndsWith("/me/keys", page.Url);
        Assert.Contains("Alice Corp (member)", await page.Locator("[data-testid=signed-in-user]").InnerTextAsync());
        // The client proved itself at the token endpoint with its secret and the PKCE verifier.
        Assert.Contains(stack.Authority.TokenRequests, r => r.Contains("code_verifier=", StringComparison.Ordinal));
        await BrowserFixture.ScreenshotAsync(page, test, "signed-in");

        // The session works against the Api (the Admin's pages call it with the exchanged token).
        await BrowserFixture.WaitForInteractiveAsync(page);
        Assert.Equal(0, await page.Locator("[data-testid=api-error]").CountAsync());
    }

    [Fact]
    public async Task Single_sign_on_with_an_unverified_email_is_refused_on_the_sign_in_page()
    {
        stack.Authority.NextUser = new FakeOidcUser($"mallory-{Guid.NewGuid():N}@corp.test", "Mallory", EmailVerified: false);
        await using var context = await stack.Browser.NewContextAsync(stack.Admin.BaseUrl);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/signin");
        await page.ClickAsync("[data-testid=signin-oidc]");
        var error = page.Locator("[data-testid=api-error]");
        await error.WaitForAsync();
        var text = await error.InnerTextAsync();
        output.WriteLine(text);
        Assert.Contains("Single sign-on failed", text);
        Assert.Contains("not verified", text);
        Assert.Equal(0, await page.Locator("[data-testid=signed-in-user]").CountAsync());
        await BrowserFixture.ScreenshotAsync(page, nameof(Single_sign_on_with_an_unverified_email_is_refused_on_the_sign_in_page), "sso-refused");
    }

    /// <summary>MudBlazor fields bind on change: fill, then leave the field.</summary>
    private static async Task FillAsync(IPage page, string selector, string value)
    {
        var field = page.Locator(selector);
        await field.FillAsync(value);
        await field.PressAsync("Tab");
    }
}
