using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using AigneHub.Worker;
using AigneHub.Worker.Jobs;

namespace AigneHub.Tests.Worker;

/// <summary>
/// The Worker's data services and jobs wired exactly as its host wires them (<see cref="WorkerDataExtensions.AddWorkerData"/>,
/// <see cref="BillingJobsExtensions.AddBillingJobServices"/>) on a fake clock, without starting the jobs, so a test
/// runs single ticks. Disposing it is the Worker process going away.
/// </summary>
internal sealed class WorkerJobHost : IAsyncDisposable
{
    private readonly IHost _host;

    public WorkerJobHost(string databaseConnectionString, FakeTimeProvider time, Dictionary<string, string?>? settings = null)
    {
        Time = time;
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings ?? [])
        {
            ["ConnectionStrings:aignehub"] = databaseConnectionString,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<TimeProvider>(time);
        builder.AddWorkerData();
        builder.Services.AddBillingJobServices(builder.Configuration);
        builder.ConfigureContainer(new DefaultServiceProviderFactory(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true }));
        _host = builder.Build();
    }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _host.Services;

    public T Job<T>() where T : notnull => _host.Services.GetRequiredService<T>();

    /// <summary>The built host disposes asynchronously (its data source among its services).</summary>
    public ValueTask DisposeAsync() => ((IAsyncDisposable)_host).DisposeAsync();
}
