using System.Net;
using System.Net.Http.Json;
using System.Text;
using AigneHub.Api.Identity;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

/// <summary>
/// A key handed to a tool (a CLI, a notebook) leaks with the tool. An <c>inference</c> key — the default of
/// <i>My keys</i> and of the connect flow — must not manage keys or the hub even when its holder is the owner.
/// </summary>
public sealed class KeyScopeTests
{
    [Fact]
    public async Task A_leaked_inference_key_of_the_owner_is_refused_on_every_admin_and_key_management_route()
    {
        await using var api = await ApiFactory.StartAsync();
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var created = await owner.PostAsJsonAsync("/api/v2/access-keys", new { name = "notebook" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = await ReadJsonAsync(created);
        Assert.Equal("inference", body["scope"]!.GetValue<string>());
        using var leaked = api.CreateClient(body["key"]!.GetValue<string>());

        // Every route whose policy is not the inference one, found from the endpoint data source (new routes are
        // covered without editing this test); unknown ids and empty bodies, so nothing changes if one lets it in.
        var routes = api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null
                && e.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy is AuthorizationPolicies.Admin or AuthorizationPolicies.Owner or AuthorizationPolicies.Member))
            .ToList();
        var patterns = routes.Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/')).ToList();
        Assert.Contains("/api/admin/users/", patterns);
        Assert.Contains("/api/v2/access-keys", patterns);
        Assert.Contains("/api/v2/access-key/session/{id}/approve", patterns);

        var failures = new List<string>();
        foreach (var endpoint in routes)
        {
            var path = FillRouteValues("/" + endpoint.RoutePattern.RawText!.TrimStart('/'));
            foreach (var method in endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), path);
                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                }
                using var response = await leaked.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var message = response.StatusCode == HttpStatusCode.Forbidden ? (await ReadJsonAsync(response))["error"]!["message"]!.GetValue<string>() : "";
                if (!message.Contains("'inference' scope", StringComparison.Ordinal))
                {
                    failures.Add($"{method} {path}: {(int)response.StatusCode} {text}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));

        // What the scope is for still works: profile, credits, usage, model lists, AI calls (here: an unknown model,
        // refused by the gateway, not by authorization).
        foreach (var path in new[] { "/api/v2/me", "/api/v2/credits", "/api/v2/usage/quota", "/api/v2/models", "/api/v2/model-calls" })
        {
            var status = (await leaked.GetAsync(path)).StatusCode;
            Assert.True(status == HttpStatusCode.OK, $"{path}: {(int)status}");
        }
        var chat = await leaked.PostAsync("/api/v2/chat/completions", new StringContent(
            """{"model":"nobody/none","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.NotEqual(HttpStatusCode.Unauthorized, chat.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, chat.StatusCode);
    }

    [Fact]
    public async Task Scope_is_chosen_at_creation_and_shown_in_every_key_list()
    {
        await using var api = await ApiFactory.StartAsync();
        var (userId, memberFullKey) = await CreateUserWithKeyAsync(api, "member");
        using var member = api.CreateClient(memberFullKey);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);

        var full = await ReadJsonAsync(await member.PostAsJsonAsync("/api/v2/access-keys", new { name = "deploy", scope = "full" }));
        Assert.Equal("full", full["scope"]!.GetValue<string>());
        Assert.Contains("'scope'", await AssertErrorAsync(await member.PostAsJsonAsync("/api/v2/access-keys", new { scope = "admin" }), HttpStatusCode.BadRequest, "invalid_request_error"));
        var byAdmin = await ReadJsonAsync(await owner.PostAsJsonAsync($"/api/admin/users/{userId}/access-keys", new { name = "tool", scope = "inference" }));
        Assert.Equal("inference", byAdmin["scope"]!.GetValue<string>());

        var mine = (await ReadJsonAsync(await member.GetAsync("/api/v2/access-keys"))).AsArray();
        Assert.Equal("full", mine.Single(k => k!["id"]!.GetValue<Guid>() == full["id"]!.GetValue<Guid>())!["scope"]!.GetValue<string>());
        var listed = (await ReadJsonAsync(await owner.GetAsync($"/api/admin/users/{userId}/access-keys"))).AsArray();
        Assert.Equal("inference", listed.Single(k => k!["id"]!.GetValue<Guid>() == byAdmin["id"]!.GetValue<Guid>())!["scope"]!.GetValue<string>());
        // The bootstrap owner key is full: it is how the hub is administered before anyone signs in.
        var ownerKeys = (await ReadJsonAsync(await owner.GetAsync("/api/v2/access-keys"))).AsArray();
        Assert.Equal("full", ownerKeys.Single(k => k!["name"]!.GetValue<string>() == "bootstrap owner key")!["scope"]!.GetValue<string>());

        // A full key of a member manages their own keys; an inference one does not.
        using var inference = api.CreateClient(byAdmin["key"]!.GetValue<string>());
        await AssertErrorAsync(await inference.GetAsync("/api/v2/access-keys"), HttpStatusCode.Forbidden, "permission_error");
        using var fullClient = api.CreateClient(full["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await fullClient.GetAsync("/api/v2/access-keys")).StatusCode);
    }

    private static string FillRouteValues(string pattern)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '{')
            {
                var end = pattern.IndexOf('}', i);
                // A session-id-shaped value for the connect routes, a GUID for everything else.
                sb.Append(pattern[(i + 1)..end] == "id" && pattern.Contains("access-key/session", StringComparison.Ordinal)
                    ? new string('a', 32) : Guid.NewGuid().ToString());
                i = end;
            }
            else
            {
                sb.Append(pattern[i]);
            }
        }
        return sb.ToString();
    }
}
