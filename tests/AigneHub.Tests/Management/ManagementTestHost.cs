using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AigneHub.Tests.Management;

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

    public Task<CredentialTestResult> TestAsync(ProviderKind kind, Uri baseUrl, ProviderSettings settings, string secret, string model, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _calls.Add((kind.Name, secret, model));
        }
        return Task.FromResult(Next);
    }
}
