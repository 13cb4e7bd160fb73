using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using AigneHub.Worker.Jobs;

namespace AigneHub.Tests.Worker;

/// <summary>
/// The Worker's jobs wired exactly as its host wires them (<see cref="BillingJobsExtensions.AddBillingJobServices"/>),
/// on a fake clock, so a test runs single ticks. Disposing it is the Worker process going away.
/// </summary>
internal sealed class WorkerJobHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public WorkerJobHost(string databaseConnectionString, FakeTimeProvider time, Dictionary<string, string?>? settings = null)
    {
        Time = time;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>(settings ?? [])
            {
                ["ConnectionStrings:aignehub"] = databaseConnectionString,
            })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(time);
        services.AddBillingJobServices(configuration);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public FakeTimeProvider Time { get; }

    public T Job<T>() where T : notnull => _services.GetRequiredService<T>();

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
