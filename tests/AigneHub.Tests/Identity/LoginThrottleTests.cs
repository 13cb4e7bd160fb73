using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using AigneHub.Tests.Infrastructure;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

/// <summary>
/// Item 9 of the security issue: six wrong passwords from anywhere used to lock the owner out for 15 minutes, even with
/// the right password. Each client here connects from its own loopback address (127.0.0.x), so the Api sees real,
/// distinct peer addresses; the clock is the test's, so the delays end exactly when the test advances it.
/// </summary>
public sealed class LoginThrottleTests
{
    private const string Right = "the right password";

    [Fact]
    public async Task The_owner_signs_in_from_a_second_address_while_a_guesser_at_the_first_waits_longer_each_time_on_every_replica()
    {
        await using var first = await ApiFactory.StartAsync<ClockedApiFactory>();
        await using var second = await ApiFactory.StartAsync<ClockedApiFactory>(first.DatabaseConnectionString, f =>
        {
            f.Settings["ConnectionStrings:redis"] = first.RedisConnectionString;
            f.Time = first.Time;
        });
        var email = NewEmail("owner");
        await CreateUserWithKeyAsync(first, "owner", password: Right, email: email);
        using var guesserA = From(first, "127.0.0.2");
        using var guesserB = From(second, "127.0.0.2");
        using var ownerElsewhere = From(second, "127.0.0.3");

        // Five free attempts from the guesser's address, on either replica.
        for (var i = 0; i < 5; i++)
        {
            await AssertErrorAsync(await Login(i % 2 == 0 ? guesserA : guesserB, email, "wrong " + i), HttpStatusCode.Unauthorized, "authentication_error");
        }
        // The sixth has to wait a second, even with the right password, on both replicas.
        foreach (var replica in new[] { guesserA, guesserB })
        {
            var slowed = await Login(replica, email, Right);
            Assert.Contains("Too many", await AssertErrorAsync(slowed, HttpStatusCode.TooManyRequests, "rate_limit_error"));
            Assert.Equal("1", Assert.Single(slowed.Headers.GetValues("Retry-After")));
        }

        // :: The owner, from another address, is not affected at all.
        Assert.Equal(HttpStatusCode.OK, (await Login(ownerElsewhere, email, Right)).StatusCode);

        // :: The guesser's waits double: 1 s, then 2 s, then 4 s.
        first.Time.Advance(TimeSpan.FromSeconds(1));
        await AssertErrorAsync(await Login(guesserA, email, "wrong 5"), HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Equal("2", Assert.Single((await Login(guesserB, email, Right)).Headers.GetValues("Retry-After")));
        first.Time.Advance(TimeSpan.FromSeconds(2));
        await AssertErrorAsync(await Login(guesserB, email, "wrong 6"), HttpStatusCode.Unauthorized, "authentication_error");
        Assert.Equal("4", Assert.Single((await Login(guesserA, email, Right)).Headers.GetValues("Retry-After")));

        // A success from that address, once it may try again, clears its count.
        first.Time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(HttpStatusCode.OK, (await Login(guesserA, email, Right)).StatusCode);
        for (var i = 0; i < 5; i++)
        {
            await AssertErrorAsync(await Login(guesserA, email, "wrong again"), HttpStatusCode.Unauthorized, "authentication_error");
        }
    }

    [Fact]
    public async Task Guessing_one_email_from_many_addresses_leaves_each_address_one_free_attempt_and_never_locks_out_the_right_password()
    {
        await using var api = await ApiFactory.StartAsync<ClockedApiFactory>(configure: f => f.Settings["AigneHub:Auth:MaxFailedLoginsPerEmail"] = "8");
        var email = NewEmail("target");
        var bystander = NewEmail("bystander");
        await CreateUserWithKeyAsync(api, "owner", password: Right, email: email);
        await CreateUserWithKeyAsync(api, "member", password: Right, email: bystander);

        // A botnet: eight addresses, one wrong guess each, reaches the email's ceiling.
        for (var host = 10; host < 18; host++)
        {
            using var bot = From(api, $"127.0.0.{host}");
            await AssertErrorAsync(await Login(bot, email, "guess " + host), HttpStatusCode.Unauthorized, "authentication_error");
        }

        // From now on a fresh address gets one free attempt, not five: its second one waits.
        using var nextBot = From(api, "127.0.0.18");
        await AssertErrorAsync(await Login(nextBot, email, "guess 18"), HttpStatusCode.Unauthorized, "authentication_error");
        await AssertErrorAsync(await Login(nextBot, email, "guess 18b"), HttpStatusCode.TooManyRequests, "rate_limit_error");

        // The right password from a new address still signs in at once; other emails are untouched.
        using var owner = From(api, "127.0.0.19");
        Assert.Equal(HttpStatusCode.OK, (await Login(owner, email, Right)).StatusCode);
        using var sameAddressAsABot = From(api, "127.0.0.10");
        Assert.Equal(HttpStatusCode.OK, (await Login(sameAddressAsABot, bystander, Right)).StatusCode);
    }

    private static Task<HttpResponseMessage> Login(HttpClient client, string email, string password) =>
        client.PostAsJsonAsync("/api/auth/login", new { email, password });

    /// <summary>A client whose connections leave from <paramref name="sourceAddress"/>, a loopback address of its own.</summary>
    private static HttpClient From(ApiFactory api, string sourceAddress)
    {
        using var probe = api.CreateClient(bearer: null);
        var baseAddress = probe.BaseAddress!;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress };
    }
}
