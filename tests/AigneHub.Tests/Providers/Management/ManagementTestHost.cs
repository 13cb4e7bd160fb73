using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Management;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AigneHub.Tests.Providers.Management;

/// <summary>The Api with a clock the test drives and a credential tester whose answers the test decides.</summary>
public sealed class ManagementApiFactory : ApiFactory
{
    /// <summary>Starts now, on a whole second (Postgres keeps microseconds, so exact comparisons stay exact).</summary>
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    public FakeCredentialTester Tester { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            services.AddSingleton<ICredentialTester>(Tester);
        });
    }
}

public sealed class FakeCredentialTester : ICredentialTester
{
    private readonly Lock _lock = new();
    private readonly List<(string Provider, string Secret, string Model)> _calls = [];

    /// <summary>What the next tests answer; a success by default.</summary>
    public CredentialTestResult Next { get; set; } = new(true, 7);

    public IReadOnlyList<(string Provider, string Secret, string Model)> Calls
    {
        get
        {
            lock (_lock)
            {
                return [.. _calls];
            }
        }
    }

    public Task<CredentialTestResult> TestAsync(ProviderKind kind, Uri baseUrl, string secret, string model, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _calls.Add((kind.Name, secret, model));
        }
        return Task.FromResult(Next);
    }
}

internal static class AdminClient
{
    public static async Task<Guid> CreateProviderAsync(this HttpClient client, string name, string? baseUrl = null, bool enabled = true)
    {
        var response = await client.PostAsJsonAsync("/api/admin/providers", new { name, baseUrl, enabled });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ReadAsync(response))["id"]!.GetValue<Guid>();
    }

    public static async Task<Guid> AddCredentialAsync(this HttpClient client, Guid providerId, string value, int? weight = null)
    {
        var response = await client.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { name = "k", value, weight });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ReadAsync(response))["id"]!.GetValue<Guid>();
    }

    public static async Task<Guid> AddModelAsync(this HttpClient client, string provider, string model, string type = "chat")
    {
        var response = await client.PostAsJsonAsync("/api/admin/models", new { provider, model, type });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await ReadAsync(response))["id"]!.GetValue<Guid>();
    }

    public static async Task<JsonNode> ReadAsync(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync()) ?? throw new InvalidOperationException("empty body");

    /// <summary>Asserts the status and the <c>{"error":{"message","type","param"}}</c> shape naming <paramref name="param"/>.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? param, string type = "invalid_request_error")
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {status}, got {response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.False(string.IsNullOrWhiteSpace(error["message"]!.GetValue<string>()));
        Assert.Equal(type, error["type"]!.GetValue<string>());
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }
}
