using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Abuse;

/// <summary>
/// Per-client-address limits on anonymous routes and on made-up credentials, through HTTP against a real Api
/// (Redis counters), each test from loopback addresses of its own.
/// </summary>
public sealed class ClientLimitTests
{
    /// <summary>Undoes the suite-wide relaxation (<see cref="ApiFactory.RelaxedClientLimits"/>): the shipped defaults apply.</summary>
    private static void Defaults(ApiFactory f)
    {
        foreach (var key in ApiFactory.RelaxedClientLimits.Keys)
        {
            f.Settings.Remove(key);
        }
    }

    private static Action<ApiFactory> Limits(int signIn = 1000, int reads = 1000, int unknownCredentials = 1000, Action<ApiFactory>? more = null) => f =>
    {
        f.Settings["AigneHub:ClientLimits:SignInPerMinute"] = signIn.ToString();
        f.Settings["AigneHub:ClientLimits:ReadsPerMinute"] = reads.ToString();
        f.Settings["AigneHub:ClientLimits:UnknownCredentialsPerMinute"] = unknownCredentials.ToString();
        more?.Invoke(f);
    };

    private static async Task AssertTooManyAsync(HttpResponseMessage response)
    {
        await AssertErrorAsync(response, HttpStatusCode.TooManyRequests, "rate_limit_error");
        var retryAfter = int.Parse(Assert.Single(response.Headers.GetValues("Retry-After")));
        Assert.InRange(retryAfter, 1, 60);
    }

    [Fact]
    public async Task Attack_login_flood_with_random_emails_from_one_address_is_refused_with_429_before_the_100th()
    {
        await using var api = await ApiFactory.StartAsync(configure: Defaults);
        using var attacker = LoopbackClients.From(LoopbackClients.NewAddress(), api);

        int? firstRefused = null;
        for (var i = 1; i <= 100; i++)
        {
            var response = await attacker.PostAsJsonAsync("/api/auth/login", new { email = NewEmail("flood"), password = "guess-" + i });
            if (firstRefused is null && response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                firstRefused = i;
                await AssertTooManyAsync(response);
            }
            else if (firstRefused is null)
            {
                // Until the limit, each attempt is an ordinary wrong-password answer (and costs a PBKDF2 run).
                await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error");
            }
            else
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
            }
        }
        Assert.NotNull(firstRefused);
        Assert.True(firstRefused < 100, $"first 429 at attempt {firstRefused}");

        // Someone else, from another address, is not affected.
        using var bystander = LoopbackClients.From(LoopbackClients.NewAddress(), api);
        await AssertErrorAsync(await bystander.PostAsJsonAsync("/api/auth/login", new { email = NewEmail(), password = "whatever" }),
            HttpStatusCode.Unauthorized, "authentication_error");
    }

    [Fact]
    public async Task Attack_sign_in_writes_spread_over_replicas_and_routes_share_one_per_address_budget()
    {
        const int limit = 5;
        await using var first = await ApiFactory.StartAsync(configure: Limits(signIn: limit));
        await using var second = await ApiFactory.StartAsync(first.DatabaseConnectionString, Limits(signIn: limit,
            more: f => f.Settings["ConnectionStrings:redis"] = first.RedisConnectionString));
        var address = LoopbackClients.NewAddress();
        using var a = LoopbackClients.From(address, first);
        using var b = LoopbackClients.From(address, second);

        // Password sign-ins, wallet challenges (each a Redis key) and connect sessions (each a Redis key) alike.
        Func<HttpClient, Task<HttpResponseMessage>>[] writes =
        [
            c => c.PostAsJsonAsync("/api/auth/login", new { email = NewEmail(), password = "x" }),
            c => c.PostAsJsonAsync("/api/auth/wallet/challenge", new { did = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK" }),
            c => c.PostAsJsonAsync("/api/v2/access-key/session", new { }),
        ];
        for (var i = 0; i < limit; i++)
        {
            var response = await writes[i % writes.Length](i % 2 == 0 ? a : b);
            Assert.NotEqual(HttpStatusCode.TooManyRequests, response.StatusCode);
        }
        await AssertTooManyAsync(await writes[0](a));
        await AssertTooManyAsync(await writes[2](b));

        // Reads have their own budget: the sign-in page still learns which methods exist.
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("/api/auth/methods")).StatusCode);
    }

    [Fact]
    public async Task Attack_rotating_X_Forwarded_For_does_not_escape_the_limit_when_no_proxy_is_trusted()
    {
        const int limit = 3;
        await using var api = await ApiFactory.StartAsync(configure: Limits(signIn: limit));
        using var attacker = LoopbackClients.From(LoopbackClients.NewAddress(), api);

        for (var i = 0; i <= limit; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { email = NewEmail(), password = "x" }) };
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{i + 1}");
            var response = await attacker.SendAsync(request);
            if (i < limit)
            {
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }
            else
            {
                await AssertTooManyAsync(response);
            }
        }
    }

    [Fact]
    public async Task A_configured_proxy_such_as_the_Admin_gets_a_budget_per_forwarded_client_address()
    {
        const int limit = 2;
        await using var api = await ApiFactory.StartAsync(configure: Limits(signIn: limit,
            more: f => f.Settings["AigneHub:ForwardedHeaders:KnownNetworks:0"] = "127.0.0.0/8"));
        using var proxy = LoopbackClients.From(LoopbackClients.NewAddress(), api);
        var alice = $"203.0.113.{Random.Shared.Next(1, 255)}";
        var bob = "2001:db8:" + Random.Shared.Next(1, 0xffff).ToString("x") + "::1";

        Task<HttpResponseMessage> LoginFor(string client)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/login") { Content = JsonContent.Create(new { email = NewEmail(), password = "x" }) };
            request.Headers.Add("X-Forwarded-For", client);
            return proxy.SendAsync(request);
        }

        for (var i = 0; i < limit; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFor(alice)).StatusCode);
        }
        await AssertTooManyAsync(await LoginFor(alice));
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFor(bob)).StatusCode);
        // An IPv6 client is counted by its /64: another address in the same /64 is the same client.
        Assert.Equal(HttpStatusCode.Unauthorized, (await LoginFor(bob.Replace("::1", "::2"))).StatusCode);
        await AssertTooManyAsync(await LoginFor(bob.Replace("::1", "::3")));
    }

    [Fact]
    public async Task Every_anonymous_route_answers_429_with_retry_after_past_the_per_address_limit()
    {
        await using var api = await ApiFactory.StartAsync(configure: Limits(signIn: 1, reads: 1));
        var anonymous = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .ToList();
        // Health, OpenAPI, sign-in (5), connect (2), discovery, model directory: a route that drops out of this
        // list or stops being limited fails here.
        Assert.True(anonymous.Count >= 10, string.Join(", ", anonymous.Select(e => e.RoutePattern.RawText)));

        foreach (var endpoint in anonymous)
        {
            var method = endpoint.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods.FirstOrDefault() ?? "GET";
            var url = UrlOf(endpoint.RoutePattern);
            using var client = LoopbackClients.From(LoopbackClients.NewAddress(), api);
            HttpRequestMessage Request() => new(new HttpMethod(method), url)
            {
                Content = method == "GET" || method == "HEAD" ? null : new StringContent("{}", Encoding.UTF8, "application/json"),
            };
            var first = await client.SendAsync(Request());
            Assert.True(first.StatusCode != HttpStatusCode.TooManyRequests, $"{method} {url}: first request refused");
            var second = await client.SendAsync(Request());
            Assert.True(second.StatusCode == HttpStatusCode.TooManyRequests, $"{method} {url}: second request answered {(int)second.StatusCode}");
            await AssertTooManyAsync(second);
        }
    }

    private static string UrlOf(RoutePattern pattern)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternSeparatorPart separator => separator.Content,
                    RoutePatternParameterPart p when p.ParameterPolicies.Any(x => x.Content == "guid") => Guid.NewGuid().ToString(),
                    RoutePatternParameterPart p when p.Name == "documentName" => "v1",
                    _ => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
                });
            }
        }
        return path.Length == 0 ? "/" : path.ToString();
    }

    [Fact]
    public async Task Attack_random_bearer_tokens_from_one_address_are_refused_with_429_before_the_100th()
    {
        await using var api = await ApiFactory.StartAsync(configure: Defaults);
        var (_, key) = await CreateUserWithKeyAsync(api, "member");
        var address = LoopbackClients.NewAddress();
        using var attacker = LoopbackClients.From(address, api);

        int? firstRefused = null;
        for (var i = 1; i <= 100 && firstRefused is null; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v2/me");
            request.Headers.Authorization = new("Bearer", "ahk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
            var response = await attacker.SendAsync(request);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                firstRefused = i;
                await AssertTooManyAsync(response);
            }
            else
            {
                Assert.Contains("not valid", await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error"));
            }
        }
        Assert.NotNull(firstRefused);
        Assert.True(firstRefused < 100, $"first 429 at attempt {firstRefused}");

        // A real key from another address is unaffected.
        using var member = LoopbackClients.From(LoopbackClients.NewAddress(), api, key);
        Assert.Equal(HttpStatusCode.OK, (await member.GetAsync("/api/v2/me")).StatusCode);
    }

    [Fact]
    public async Task Repeating_one_unknown_token_is_answered_from_the_negative_cache_and_counts_once()
    {
        const int limit = 3;
        await using var api = await ApiFactory.StartAsync(configure: Limits(unknownCredentials: limit));
        using var client = LoopbackClients.From(LoopbackClients.NewAddress(), api);
        async Task<HttpResponseMessage> MeWith(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v2/me");
            request.Headers.Authorization = new("Bearer", token);
            return await client.SendAsync(request);
        }

        // A misconfigured client repeating its one stale token: remembered, counted once, never throttled.
        var stale = "ahk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        for (var i = 0; i < 4 * limit; i++)
        {
            await AssertErrorAsync(await MeWith(stale), HttpStatusCode.Unauthorized, "authentication_error");
        }
        // Distinct ones count: the stale token used 1 of the budget, so limit - 1 more pass and the next is refused.
        for (var i = 0; i < limit - 1; i++)
        {
            await AssertErrorAsync(await MeWith("ahk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))), HttpStatusCode.Unauthorized, "authentication_error");
        }
        await AssertTooManyAsync(await MeWith("ahk_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24))));
    }

    [Fact]
    public async Task Attack_random_x_app_id_signed_calls_from_one_address_are_refused_with_429()
    {
        const int limit = 3;
        await using var api = await ApiFactory.StartAsync(configure: Limits(unknownCredentials: limit));
        using var client = LoopbackClients.From(LoopbackClients.NewAddress(), api);

        for (var i = 0; i <= limit; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/chat/completions")
            {
                Content = new StringContent("""{"model":"x","messages":[]}""", Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("x-app-id", Guid.NewGuid().ToString());
            request.Headers.Add("x-timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString());
            request.Headers.Add("x-component-sig", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(64)));
            var response = await client.SendAsync(request);
            if (i < limit)
            {
                Assert.Contains("not registered", await AssertErrorAsync(response, HttpStatusCode.Unauthorized, "authentication_error"));
            }
            else
            {
                await AssertTooManyAsync(response);
            }
        }
    }

    [Fact]
    public async Task Attack_oversized_bodies_on_identity_and_management_routes_are_refused_but_prompts_are_not()
    {
        await using var api = await ApiFactory.StartAsync();
        using var anonymous = api.CreateClient(bearer: null);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var big = new string('a', 100 * 1024);
        var limit = (64 * 1024).ToString(CultureInfo.InvariantCulture);

        // With a Content-Length…
        Assert.Contains(limit, await AssertErrorAsync(await anonymous.PostAsJsonAsync("/api/auth/login", new { email = NewEmail(), password = big }),
            HttpStatusCode.BadRequest, "invalid_request_error"));
        Assert.Contains(limit, await AssertErrorAsync(await owner.PostAsJsonAsync("/api/admin/users", new { email = NewEmail(), role = "member", displayName = big }),
            HttpStatusCode.BadRequest, "invalid_request_error"));
        // …and chunked, without one: the reader stops at the limit, it does not trust the header alone.
        using var chunked = new HttpRequestMessage(HttpMethod.Post, "/api/admin/users")
        {
            Content = new PushStreamContent($$"""{"email":"{{NewEmail()}}","role":"member","displayName":"{{big}}"}"""),
        };
        Assert.Null(chunked.Content.Headers.ContentLength);
        Assert.Contains(limit, await AssertErrorAsync(await owner.SendAsync(chunked), HttpStatusCode.BadRequest, "invalid_request_error"));

        // The gateway keeps large bodies for prompts: refused for another reason, never for its size.
        var prompt = await owner.PostAsJsonAsync("/api/v2/chat/completions", new { model = "nobody/none", messages = new[] { new { role = "user", content = big } } });
        Assert.NotEqual(HttpStatusCode.RequestEntityTooLarge, prompt.StatusCode);
        Assert.DoesNotContain(limit, await prompt.Content.ReadAsStringAsync());
        Assert.True((int)prompt.StatusCode is >= 400 and < 500, $"{(int)prompt.StatusCode}");
    }

    /// <summary>A body written without a known length, so HttpClient sends it chunked.</summary>
    private sealed class PushStreamContent(string text) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text));

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
