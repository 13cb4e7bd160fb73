using System.Net;
using AigneHub.Admin.Auth;
using AigneHub.Admin.Components.Pages;
using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Admin;

/// <summary>The sign-in pages' logic: which methods are offered, and the wallet page's challenge step.</summary>
public sealed class SignInPageTests : AdminComponentTestBase
{
    private const string Did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    private const string Nonce = "5f0c2a9e8d7b4c1fa0e3b6d9c2f18a47";
    private const string Message = "admin.test wants you to sign in to AigneHub with your DID:\n" + Did
        + "\n\nNonce: " + Nonce + "\nIssued At: 2026-11-26T07:35:04Z\nExpiration Time: 2026-11-26T07:40:04Z";

    private readonly AdminOidcOptions _adminOidc;

    public SignInPageTests() : this(new AdminOidcOptions())
    {
    }

    private SignInPageTests(AdminOidcOptions adminOidc) : base(services =>
    {
        services.AddSingleton<AntiforgeryStateProvider, TestAntiforgery>();
        services.AddSingleton<IOptions<AdminOidcOptions>>(Options.Create(adminOidc));
    })
    {
        _adminOidc = adminOidc;
        Auth.SetNotAuthorized();
    }

    private AdminOidcOptions AdminOidc => _adminOidc;

    /// <summary>Query parameters reach a page through the address, as in the browser.</summary>
    private IRenderedComponent<T> RenderAt<T>(string uri) where T : Microsoft.AspNetCore.Components.IComponent
    {
        Context.Services.GetRequiredService<Microsoft.AspNetCore.Components.NavigationManager>().NavigateTo(uri);
        return Context.Render<T>();
    }

    private sealed class TestAntiforgery : AntiforgeryStateProvider
    {
        public override AntiforgeryRequestToken? GetAntiforgeryToken() => new("test-antiforgery", "__RequestVerificationToken");
    }

    [Fact]
    public void Sign_in_offers_sso_by_name_and_the_wallet_when_both_apps_are_configured()
    {
        AdminOidc.Authority = "https://login.corp.test";
        Api.OnGet("/api/auth/methods", """{"password":true,"wallet":true,"oidc":{"enabled":true,"displayName":"Corp SSO"}}""");
        var page = RenderAt<SignIn>("/signin?returnUrl=%2Fme%2Fkeys");

        var oidc = page.WaitForElement("[data-testid=signin-oidc]");
        Assert.Contains("Sign in with Corp SSO", oidc.TextContent);
        Assert.Equal("/auth/oidc/login?returnUrl=%2Fme%2Fkeys", oidc.GetAttribute("href"));
        Assert.Equal("/signin/wallet?returnUrl=%2Fme%2Fkeys", page.Find("[data-testid=signin-wallet]").GetAttribute("href"));
    }

    [Fact]
    public void Sign_in_hides_sso_unless_the_admin_can_run_the_flow()
    {
        Api.OnGet("/api/auth/methods", """{"password":true,"wallet":true,"oidc":{"enabled":true,"displayName":"Corp SSO"}}""");
        var page = RenderAt<SignIn>("/signin");
        page.WaitForElement("[data-testid=signin-wallet]");
        Assert.Empty(page.FindAll("[data-testid=signin-oidc]"));
    }

    [Fact]
    public void Sign_in_falls_back_to_password_only_when_the_api_does_not_say()
    {
        // No /api/auth/methods route: the fake answers 404, as an older Api would.
        AdminOidc.Authority = "https://login.corp.test";
        var page = RenderAt<SignIn>("/signin?returnUrl=%2F%2Fevil.test");
        page.WaitForElement("[data-testid=signin-form]");
        Assert.Empty(page.FindAll("[data-testid=signin-oidc]"));
        Assert.Empty(page.FindAll("[data-testid=signin-wallet]"));
        Assert.Equal("/", page.Find("input[name=returnUrl]").GetAttribute("value"));
    }

    [Fact]
    public void Wallet_page_checks_the_did_asks_for_a_challenge_and_prepares_the_signed_form()
    {
        Api.On(HttpMethod.Post, "/api/auth/wallet/challenge", HttpStatusCode.OK,
            $$"""{"nonce":"{{Nonce}}","message":{{System.Text.Json.JsonSerializer.Serialize(Message)}},"expiresAt":"2026-11-26T07:40:04Z"}""");
        var page = RenderAt<WalletSignIn>("/signin/wallet?returnUrl=%2Fme%2Fkeys");

        page.Find("[data-testid=wallet-get-message]").Click();
        Assert.Equal("Enter your DID.", page.Find("[data-testid=api-error]").TextContent.Trim());
        page.Find("[data-testid=wallet-did]").Input("did:web:example.test");
        page.Find("[data-testid=wallet-get-message]").Click();
        Assert.Contains("Only did:key", page.Find("[data-testid=api-error]").TextContent);
        Assert.Empty(Api.Requests);

        page.Find("[data-testid=wallet-did]").Input("  " + Did + " ");
        page.Find("[data-testid=wallet-get-message]").Click();

        var shown = page.WaitForElement("[data-testid=wallet-message]");
        Assert.Equal(Message, shown.TextContent);
        Assert.Empty(page.FindAll("[data-testid=api-error]"));
        var (_, path, body) = Assert.Single(Api.Requests);
        Assert.Equal("/api/auth/wallet/challenge", path);
        Assert.Equal($$"""{"did":"{{Did}}"}""", body);

        var form = page.Find("[data-testid=wallet-form]");
        Assert.Equal("post", form.GetAttribute("method"));
        Assert.Equal(AdminAuthExtensions.WalletLoginEndpoint, form.GetAttribute("action"));
        Assert.Equal(Did, form.QuerySelector("input[name=did]")!.GetAttribute("value"));
        Assert.Equal(Nonce, form.QuerySelector("input[name=nonce]")!.GetAttribute("value"));
        Assert.Equal("/me/keys", form.QuerySelector("input[name=returnUrl]")!.GetAttribute("value"));
        Assert.Equal("test-antiforgery", form.QuerySelector("input[name=__RequestVerificationToken]")!.GetAttribute("value"));
        Assert.NotNull(form.QuerySelector("input[name=signature][required]"));

        // Copy: the clipboard call is made with the exact message.
        page.Find("[data-testid=wallet-copy]").Click();
        var copy = Assert.Single(Context.JSInterop.Invocations, i => i.Identifier == "navigator.clipboard.writeText");
        Assert.Equal(Message, copy.Arguments[0]);

        page.Find("[data-testid=wallet-start-over]").Click();
        Assert.Empty(page.FindAll("[data-testid=wallet-form]"));
        Assert.NotNull(page.Find("[data-testid=wallet-did]"));
    }

    [Fact]
    public void Wallet_page_shows_the_apis_refusal_and_a_failed_verification_passed_back_by_the_endpoint()
    {
        Api.On(HttpMethod.Post, "/api/auth/wallet/challenge", HttpStatusCode.BadRequest,
            """{"error":{"message":"'did' must be a did:key of an Ed25519 key (did:key:z6Mk…, multicodec 0xed01, base58btc).","type":"invalid_request_error"}}""");
        var page = RenderAt<WalletSignIn>("/signin/wallet?error=" + Uri.EscapeDataString("The signature does not match the DID's key and the challenge message."));
        Assert.Contains("does not match", page.Find("[data-testid=api-error]").TextContent);

        page.Find("[data-testid=wallet-did]").Input("did:key:z6MkNotAnEd25519Key");
        page.Find("[data-testid=wallet-get-message]").Click();
        page.WaitForAssertion(() => Assert.Contains("multicodec 0xed01", page.Find("[data-testid=api-error]").TextContent));
        Assert.Empty(page.FindAll("[data-testid=wallet-form]"));
    }
}
