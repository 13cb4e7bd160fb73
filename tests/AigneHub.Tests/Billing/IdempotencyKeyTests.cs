using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Billing;

/// <summary>
/// A credit grant sent twice (a retried POST, a double-submitted form) is applied once: <c>Idempotency-Key</c> with
/// Stripe's semantics — same key and body → the first answer replayed; same key, other body → 422.
/// </summary>
public sealed class IdempotencyKeyTests
{
    private static HttpRequestMessage Grant(Guid user, string amount, string key) => new(HttpMethod.Post, $"/api/admin/users/{user}/credits/grants")
    {
        Content = JsonContent.Create(new { amount, category = "paid" }),
        Headers = { { "Idempotency-Key", key } },
    };

    [Fact]
    public async Task A_grant_repeated_with_its_key_is_applied_once_and_the_first_answer_is_replayed()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        using var owner = host.Owner;

        using var first = await owner.SendAsync(Grant(user, "25", "grant-1"));
        using var second = await owner.SendAsync(Grant(user, "25", "grant-1"));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var a = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
        var b = JsonNode.Parse(await second.Content.ReadAsStringAsync())!;
        Assert.Equal((string?)a["id"], (string?)b["id"]);
        Assert.Equal(first.Headers.Location, second.Headers.Location);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(25m, (await host.AccountAsync(user)).Balance);
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.credit_grants WHERE user_id = @u", ("u", user)));
    }

    [Fact]
    public async Task The_same_key_with_another_body_is_refused_with_422_and_grants_nothing()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        using var owner = host.Owner;
        using (var first = await owner.SendAsync(Grant(user, "25", "grant-2")))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using var other = await owner.SendAsync(Grant(user, "2500", "grant-2"));

        Assert.Equal((HttpStatusCode)422, other.StatusCode);
        Assert.Equal("idempotency_error", (string?)JsonNode.Parse(await other.Content.ReadAsStringAsync())!["error"]!["type"]);
        Assert.Equal(25m, (await host.AccountAsync(user)).Balance);
    }

    [Fact]
    public async Task Concurrent_repeats_of_one_key_grant_once()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        using var owner = host.Owner;

        var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await owner.SendAsync(Grant(user, "5", "grant-3"));
            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Created or HttpStatusCode.Conflict, s.ToString()));
        Assert.Contains(HttpStatusCode.Created, statuses);
        Assert.Equal(5m, (await host.AccountAsync(user)).Balance);
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.credit_grants WHERE user_id = @u", ("u", user)));
    }

    [Fact]
    public async Task A_refused_request_keeps_nothing_so_its_key_can_carry_the_corrected_request()
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        using var owner = host.Owner;
        using (var refused = await owner.SendAsync(Grant(user, "0", "grant-4")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }

        using var corrected = await owner.SendAsync(Grant(user, "7", "grant-4"));

        Assert.Equal(HttpStatusCode.Created, corrected.StatusCode);
        Assert.Equal(7m, (await host.AccountAsync(user)).Balance);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    public async Task A_malformed_key_is_a_400_naming_the_header(string key)
    {
        await using var host = await BillingHost.StartAsync();
        var user = await host.CreateUserAsync();
        using var owner = host.Owner;
        using var request = Grant(user, "1", "x");
        request.Headers.Remove("Idempotency-Key");
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);

        using var response = await owner.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("Idempotency-Key", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["param"]);
        Assert.Equal(0, await host.ScalarAsync<int>("SELECT count(*) FROM aignehub.credit_grants WHERE user_id = @u", ("u", user)));
    }
}
