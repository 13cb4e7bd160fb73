using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.AppHost.Infrastructure;

/// <summary>
/// A Redis server run as a local process, with the same name and connection-string shape as <c>AddRedis</c>
/// (<c>host:port,password=…</c>). Nothing is persisted: Redis holds only the hot path's caches and counters.
/// </summary>
internal sealed class LocalRedisResource(string name, string command, ParameterResource password)
    : ExecutableResource(name, command, Environment.CurrentDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";

    public ParameterResource Password { get; } = password;

    public EndpointReference PrimaryEndpoint => new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)},password={Password}");
}

internal static class LocalRedisExtensions
{
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(this IDistributedApplicationBuilder builder, string name)
    {
        var command = FindRedisServer(builder.Configuration["redis-server"]);
        var password = builder.AddParameter($"{name}-password", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), secret: true);
        var redis = new LocalRedisResource(name, command, password.Resource);

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, ct) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(ct));

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(
            _ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"),
            name: healthCheckKey);

        return builder.AddResource(redis)
            .WithEndpoint(name: LocalRedisResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var arg in ServerArguments(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort), password.Resource))
                {
                    context.Args.Add(arg);
                }
            })
            .WithIconName("Memory")
            .WithHealthCheck(healthCheckKey);
    }

    /// <summary>Loopback only, nothing on disk, a password. Shared with the test fixtures.</summary>
    public static List<object> ServerArguments(object port, object password) =>
        ["--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--requirepass", password];

    public static string FindRedisServer(string? configured)
    {
        if (configured is { Length: > 0 } && File.Exists(configured))
        {
            return configured;
        }
        var found = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin").Append("/usr/local/bin")
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);
        return found ?? throw new DistributedApplicationException(
            "No container runtime answered and redis-server was not found. Either start Docker/Podman, or install it " +
            "(Debian/Ubuntu: sudo apt-get install -y redis-server; ./run.sh does this for you), or point --redis-server at it.");
    }
}
