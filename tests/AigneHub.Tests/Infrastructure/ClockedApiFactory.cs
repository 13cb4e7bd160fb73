using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// The Api on a clock the test drives: windows, delays and pauses end only when the test says so. Replicas of one
/// deployment share a clock: set <see cref="Time"/> to the first one's in the second one's configure callback.
/// </summary>
public sealed class ClockedApiFactory : ApiFactory
{
    /// <summary>Starts now, on a whole second (Postgres keeps microseconds, so exact comparisons stay exact).</summary>
    public FakeTimeProvider Time { get; set; } = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Time));
    }
}
