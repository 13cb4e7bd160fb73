using System.Net;
using System.Text.RegularExpressions;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Admin;

/// <summary>The Admin passes each browser's address to the Api, so people signing in through it do not share one budget.</summary>
public sealed partial class ClientAddressForwardingTests
{
    [Fact]
    public async Task Attack_one_browser_flooding_the_Admin_sign_in_exhausts_its_own_budget_not_everyone_elses()
    {
        const int limit = 2;
        await using var api = await ApiFactory.StartAsync(configure: f =>
        {
            f.Settings["AigneHub:ClientLimits:SignInPerMinute"] = limit.ToString();
            f.Settings["AigneHub:ForwardedHeaders:KnownNetworks:0"] = "127.0.0.0/8";
        });
        using var apiClient = api.CreateClient(bearer: null);
        await using var admin = AdminFactory.Start(apiClient.BaseAddress!.ToString().TrimEnd('/'));
        var adminUrl = new Uri(admin.BaseUrl);

        using var attacker = LoopbackClients.From(LoopbackClients.NewAddress(), adminUrl);
        for (var i = 0; i < limit; i++)
        {
            Assert.Contains("wrong", await SignInErrorAsync(attacker));
        }
        Assert.Contains("Too many requests from this address", await SignInErrorAsync(attacker));

        using var colleague = LoopbackClients.From(LoopbackClients.NewAddress(), adminUrl);
        Assert.Contains("wrong", await SignInErrorAsync(colleague));
    }

    /// <summary>Posts the sign-in form (with its antiforgery token) and returns the error the Admin redirects back with.</summary>
    private static async Task<string> SignInErrorAsync(HttpClient browser)
    {
        var page = await browser.GetStringAsync("/signin");
        var token = AntiforgeryField().Match(page).Groups["value"].Value;
        Assert.False(string.IsNullOrEmpty(token), "no antiforgery token on /signin");
        var response = await browser.PostAsync("/auth/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["email"] = NewEmail(),
            ["password"] = "not the password",
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token),
        }));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var query = System.Web.HttpUtility.ParseQueryString(response.Headers.Location!.IsAbsoluteUri ? response.Headers.Location.Query : new Uri(new Uri("http://x"), response.Headers.Location).Query);
        return query["error"] ?? throw new InvalidOperationException($"no error in {response.Headers.Location}");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"(?<value>[^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
