using Microsoft.Extensions.Configuration;

namespace AigneHub.AppHost.Infrastructure;

/// <summary>Postgres database <c>aignehub</c> (on server <c>postgres</c>) and Redis <c>redis</c>, however they run.</summary>
internal sealed record InfrastructureResources(
    IResourceBuilder<IResourceWithConnectionString> Database,
    IResourceBuilder<IResourceWithConnectionString> Redis,
    InfrastructureMode Mode);

internal enum InfrastructureMode
{
    Containers,
    Local,
}

internal static class InfrastructureExtensions
{
    /// <summary>Configuration key (command line <c>--infra local|containers|auto</c>); default <c>auto</c>.</summary>
    public const string ModeKey = "infra";

    public static InfrastructureResources AddInfrastructure(this IDistributedApplicationBuilder builder)
    {
        var mode = ResolveMode(builder);

        if (mode == InfrastructureMode.Containers)
        {
            var postgres = builder.AddPostgres("postgres").WithDataVolume("aignehub-postgres");
            var redis = builder.AddRedis("redis");
            return new(postgres.AddDatabase("aignehub"), redis, mode);
        }

        var dataRoot = DataRoot.Resolve(builder.Configuration);
        var localPostgres = builder.AddLocalPostgres("postgres", dataRoot);
        var localRedis = builder.AddLocalRedis("redis");
        return new(localPostgres.AddDatabase("aignehub"), localRedis, mode);
    }

    private static InfrastructureMode ResolveMode(IDistributedApplicationBuilder builder)
    {
        // A published manifest must be deployable anywhere, so it always describes containers.
        if (builder.ExecutionContext.IsPublishMode)
        {
            return InfrastructureMode.Containers;
        }

        var setting = builder.Configuration[ModeKey]?.Trim().ToLowerInvariant() ?? "auto";
        return setting switch
        {
            "containers" => InfrastructureMode.Containers,
            "local" => InfrastructureMode.Local,
            "auto" => ContainerRuntimeProbe.Answers() ? InfrastructureMode.Containers : InfrastructureMode.Local,
            _ => throw new DistributedApplicationException(
                $"Unknown infrastructure mode '{setting}' (configuration '{ModeKey}'). Use --infra local, --infra containers or --infra auto."),
        };
    }
}
