using AigneHub.Api.Billing;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Gateway.Protocols.Responses;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Gateway;

/// <summary>What the gateway routes share: a runner per kind of call, the catalogue, the clock.</summary>
public sealed class GatewayServices(ChatRunner chat, EmbeddingRunner embeddings, ImageRunner images, AudioRunner audio, VideoRunner video, IModelCatalog catalog, TimeProvider time)
{
    public ChatRunner Chat { get; } = chat;

    public EmbeddingRunner Embeddings { get; } = embeddings;

    public ImageRunner Images { get; } = images;

    public AudioRunner Audio { get; } = audio;

    public VideoRunner Video { get; } = video;

    public IModelCatalog Catalog { get; } = catalog;

    public TimeProvider Time { get; } = time;
}

public static class GatewayExtensions
{
    /// <summary>
    /// The caller side: the pipeline, one runner per kind of call, telemetry, the Responses store. The provider adapters it calls are
    /// <see cref="ProviderRegistration.AddProviders(IHostApplicationBuilder)"/>.
    /// </summary>
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<GatewayTelemetry>();
        services.AddSingleton<GatewayPipeline>();
        services.AddSingleton<ChatRunner>();
        services.AddSingleton<EmbeddingRunner>();
        services.AddSingleton<ImageRunner>();
        services.AddSingleton<AudioRunner>();
        services.AddSingleton<VideoRunner>();
        services.AddSingleton<VideoJobs>();
        services.AddOptions<VideoOptions>().BindConfiguration(VideoOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<VideoOptions>, ValidateVideoOptions>();
        services.AddSingleton<TokenCountRunner>();
        services.AddSingleton<GatewayServices>();
        services.AddSingleton<ResponseStore>();
        services.AddOptions<GatewayShutdownOptions>().BindConfiguration(GatewayShutdownOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayShutdownOptions>, ValidateGatewayShutdownOptions>();
        // The host waits for the drain, then for the ended calls' settlements (their budget), then for the settlements
        // kept through a database outage to get their last try.
        services.AddOptions<HostOptions>().Configure<IOptions<GatewayShutdownOptions>, IOptions<BillingOptions>>((host, gateway, billing) =>
            host.ShutdownTimeout = TimeSpan.FromSeconds(gateway.Value.ShutdownDrainSeconds) + TimeSpan.FromSeconds(billing.Value.SettleSeconds) + PendingSettlements.ShutdownFlush);
        services.AddSingleton<GatewayShutdown>();
        return builder;
    }
}
