using System.Net;
using System.Text;
using AigneHub.Api.Identity;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static AigneHub.Tests.Identity.IdentityTestClient;

namespace AigneHub.Tests.Identity;

public sealed class RbacTests
{
    [Fact]
    public async Task Every_endpoint_declares_a_policy_or_allows_anonymous_explicitly_and_admin_routes_need_admin()
    {
        await using var api = await ApiFactory.StartAsync();
        var endpoints = Endpoints(api);
        Assert.NotEmpty(endpoints);

        var undeclared = new List<string>();
        var openAdmin = new List<string>();
        foreach (var (endpoint, pattern, methods) in endpoints)
        {
            var anonymous = endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null;
            var authorize = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>();
            var declared = anonymous || authorize.Any(a => !string.IsNullOrEmpty(a.Policy) || !string.IsNullOrEmpty(a.Roles));
            if (!declared)
            {
                undeclared.Add($"{methods} {pattern}");
            }
            if (pattern.StartsWith("/api/admin", StringComparison.OrdinalIgnoreCase)
                && (anonymous || !authorize.Any(a => a.Policy is AuthorizationPolicies.Admin or AuthorizationPolicies.Owner)))
            {
                openAdmin.Add($"{methods} {pattern}");
            }
        }
        Assert.True(undeclared.Count == 0, "Endpoints without an explicit policy or AllowAnonymous:\n" + string.Join('\n', undeclared));
        Assert.True(openAdmin.Count == 0, "Admin endpoints not restricted to owners/admins:\n" + string.Join('\n', openAdmin));
    }

    /// <summary>
    /// Every <c>/api/admin</c> route (found from the endpoint data source, so new routes are covered without editing
    /// this test), called as each role: anonymous → 401, guest and member → 403, admin → 403 only on owner-only
    /// routes, owner → never 401/403. Route values are unknown ids and bodies are empty objects, so allowed calls end
    /// in 400/404 without changing anything.
    /// </summary>
    [Fact]
    public async Task Admin_routes_answer_each_role_as_declared()
    {
        await using var api = await ApiFactory.StartAsync();
        var (_, guestKey) = await CreateUserWithKeyAsync(api, "guest");
        var (_, memberKey) = await CreateUserWithKeyAsync(api, "member");
        var (_, adminKey) = await CreateUserWithKeyAsync(api, "admin");
        var callers = new (string Role, string? Key)[]
        {
            ("anonymous", null), ("guest", guestKey), ("member", memberKey), ("admin", adminKey), ("owner", ApiFactory.OwnerKey),
        };

        var admin = Endpoints(api).Where(e => e.Pattern.StartsWith("/api/admin", StringComparison.OrdinalIgnoreCase)).ToList();
        Assert.Contains(admin, e => e.Pattern == "/api/admin/users/");
        var failures = new List<string>();
        foreach (var (endpoint, pattern, methods) in admin)
        {
            var ownerOnly = endpoint.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == AuthorizationPolicies.Owner);
            var path = FillRouteValues(pattern);
            foreach (var method in methods.Split(','))
            {
                foreach (var (role, key) in callers)
                {
                    using var client = api.CreateClient(key);
                    using var request = new HttpRequestMessage(new HttpMethod(method), path);
                    if (method is "POST" or "PUT" or "PATCH")
                    {
                        request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
                    }
                    var status = (await client.SendAsync(request)).StatusCode;
                    var expected = role switch
                    {
                        "anonymous" => HttpStatusCode.Unauthorized,
                        "guest" or "member" => HttpStatusCode.Forbidden,
                        "admin" when ownerOnly => HttpStatusCode.Forbidden,
                        _ => (HttpStatusCode?)null,
                    };
                    var ok = expected is { } e ? status == e : status is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && (int)status < 500;
                    if (!ok)
                    {
                        failures.Add($"{method} {path} as {role}: {(int)status}, expected {(expected is null ? "allowed (not 401/403/5xx)" : ((int)expected).ToString())}");
                    }
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    private static List<(RouteEndpoint Endpoint, string Pattern, string Methods)> Endpoints(ApiFactory api) =>
        api.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (e, "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'),
                string.Join(',', e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])))
            .ToList();

    private static string FillRouteValues(string pattern)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '{')
            {
                var end = pattern.IndexOf('}', i);
                sb.Append(Guid.NewGuid());
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
