using System.Net;
using System.Text.RegularExpressions;
using AigneHub.Admin.Auth;
using AigneHub.Tests.Identity;
using AigneHub.Tests.Infrastructure;
using StackExchange.Redis;

namespace AigneHub.Tests.Admin;

/// <summary>
/// The Admin's sign-in through plain HTTP (its real form post, antiforgery included): item 5 of the security issue
/// (no open redirect after sign-in) and item 11 (outside Development cookies are Secure and replicas share their
/// Data Protection keys through Redis).
/// </summary>
public sealed partial class AdminSignInSecurityTests
{
    private const string Password = "a long enough password";

    /// <summary>Return URLs a phishing link could carry, as the form field receives them (already URL-decoded once).</summary>
    public static readonly string[] HostileReturnUrls =
    [
        "/\t/evil.example",          // the browser drops the tab: //evil.example
        "/\t\\evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "https://evil.example",
        "HTTPS://evil.example/",
        " https://evil.example",
        "//evil.example/%2F..",
        "%2F%2Fevil.example",        // an encoded variant, decoded once more by nobody: not local, so "/"
        "/%09/evil.example",         // encoded tab: stays in the path, a local page
        "/%5Cevil.example",
        "~//evil.example",
        "javascript:alert(1)",
    ];

    [Fact]
    public async Task A_crafted_return_url_never_leads_off_the_dashboard_after_a_password_sign_in()
    {
        await using var api = await ApiFactory.StartAsync();
        var email = IdentityTestClient.NewEmail("phished");
        await IdentityTestClient.CreateUserWithKeyAsync(api, "admin", password: Password, email: email);
        using var apiClient = api.CreateClient(bearer: null);
        await using var admin = AdminFactory.Start(apiClient.BaseAddress!.ToString().TrimEnd('/'));
        var adminBase = new Uri(admin.BaseUrl);

        List<string> escaped = [];
        foreach (var returnUrl in HostileReturnUrls.Append("/providers"))
        {
            using var browser = new Browser(adminBase);
            // The page echoes only a local return URL into its form.
            var form = await browser.GetFormAsync($"/signin?returnUrl={Uri.EscapeDataString(returnUrl)}");
            Assert.True(IsLocal(adminBase, form.ReturnUrl), $"the sign-in page kept {Show(returnUrl)} as {Show(form.ReturnUrl)}");

            // The attacker posts the form with their own value.
            using var response = await browser.PostAsync("/auth/login", form.Token,
                ("email", email), ("password", Password), ("returnUrl", returnUrl));
            var location = response.Headers.Location?.OriginalString;
            if (response.StatusCode != HttpStatusCode.Redirect || location is null || !IsLocal(adminBase, location))
            {
                escaped.Add($"{Show(returnUrl)} → {(int)response.StatusCode} {Show(location)}");
            }
        }
        Assert.True(escaped.Count == 0, "left the dashboard or failed:\n" + string.Join('\n', escaped));

        // A legitimate deep link still works.
        using var again = new Browser(adminBase);
        var legit = await again.GetFormAsync("/signin?returnUrl=%2Fproviders");
        using var signedIn = await again.PostAsync("/auth/login", legit.Token, ("email", email), ("password", Password), ("returnUrl", "/providers"));
        Assert.Equal("/providers", signedIn.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Outside_development_cookies_are_secure_and_two_admin_replicas_share_sign_ins_through_redis()
    {
        await using var api = await ApiFactory.StartAsync();
        var email = IdentityTestClient.NewEmail("replicas");
        await IdentityTestClient.CreateUserWithKeyAsync(api, "admin", password: Password, email: email);
        using var apiClient = api.CreateClient(bearer: null);
        var production = new Dictionary<string, string?>
        {
            ["environment"] = "Production",
            ["ConnectionStrings:redis"] = api.RedisConnectionString,
        };
        await using var first = AdminFactory.Start(apiClient.BaseAddress!.ToString().TrimEnd('/'), production);
        await using var second = AdminFactory.Start(apiClient.BaseAddress!.ToString().TrimEnd('/'), production);

        using var browser = new Browser(new Uri(first.BaseUrl));
        var form = await browser.GetFormAsync("/signin");

        // Replica 2 accepts replica 1's antiforgery token, and replica 1 accepts replica 2's sign-in cookie, which is
        // Secure although the request came over plain http (as it does behind a TLS-terminating ingress).
        browser.BaseAddress = new Uri(second.BaseUrl);
        using var signIn = await browser.PostAsync("/auth/login", form.Token, ("email", email), ("password", Password), ("returnUrl", "/providers"));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        Assert.Equal("/providers", signIn.Headers.Location?.OriginalString);
        var session = Assert.Single(browser.SetCookies, c => c.StartsWith("aignehub.admin=", StringComparison.Ordinal));
        Assert.Contains("secure", session, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", session, StringComparison.OrdinalIgnoreCase);

        browser.BaseAddress = new Uri(first.BaseUrl);
        using var page = await browser.GetAsync("/providers");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        // The key ring they share is in Redis.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(api.RedisConnectionString);
        Assert.True(await redis.GetDatabase().ListLengthAsync(AdminDataProtectionExtensions.KeyRingKey) > 0);
    }

    /// <summary>Where a browser would go: it drops tabs and newlines and reads a backslash as a slash.</summary>
    private static bool IsLocal(Uri site, string location)
    {
        var cleaned = new string([.. location.Where(c => c is not ('\t' or '\r' or '\n'))]).Replace('\\', '/').Trim();
        return Uri.TryCreate(site, cleaned, out var target) && target.Scheme == site.Scheme && target.Authority == site.Authority;
    }

    private static string Show(string? text) => text is null ? "(none)" : "\"" + Regex.Escape(text) + "\"";

    /// <summary>
    /// A minimal browser: no automatic redirects, cookies kept by hand (a cookie container would withhold Secure cookies
    /// over the test's plain http, which a real browser behind TLS would send).
    /// </summary>
    private sealed partial class Browser(Uri baseAddress) : IDisposable
    {
        private readonly HttpClient _http = new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        private readonly Dictionary<string, string> _cookies = [];

        public Uri BaseAddress { get; set; } = baseAddress;

        /// <summary>The Set-Cookie headers of the last response.</summary>
        public List<string> SetCookies { get; } = [];

        public async Task<(string Token, string ReturnUrl)> GetFormAsync(string path)
        {
            using var response = await GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            var token = TokenField().Match(html);
            var returnUrl = ReturnUrlField().Match(html);
            Assert.True(token.Success && returnUrl.Success, "the sign-in form lacks its hidden fields");
            return (WebUtility.HtmlDecode(token.Groups[1].Value), WebUtility.HtmlDecode(returnUrl.Groups[1].Value));
        }

        public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path));

        public Task<HttpResponseMessage> PostAsync(string path, string token, params (string Name, string Value)[] fields) =>
            SendAsync(new HttpRequestMessage(HttpMethod.Post, path)
            {
                Content = new FormUrlEncodedContent([.. fields.Select(f => KeyValuePair.Create(f.Name, f.Value)), KeyValuePair.Create("__RequestVerificationToken", token)]),
            });

        private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
        {
            request.RequestUri = new Uri(BaseAddress, request.RequestUri!);
            if (_cookies.Count > 0)
            {
                request.Headers.Add("Cookie", string.Join("; ", _cookies.Select(c => $"{c.Key}={c.Value}")));
            }
            var response = await _http.SendAsync(request);
            SetCookies.Clear();
            if (response.Headers.TryGetValues("Set-Cookie", out var values))
            {
                foreach (var value in values)
                {
                    SetCookies.Add(value);
                    var pair = value.Split(';', 2)[0].Split('=', 2);
                    _cookies[pair[0]] = pair[1];
                }
            }
            return response;
        }

        public void Dispose() => _http.Dispose();

        [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
        private static partial Regex TokenField();

        [GeneratedRegex("name=\"returnUrl\"[^>]*value=\"([^\"]*)\"")]
        private static partial Regex ReturnUrlField();
    }
}
