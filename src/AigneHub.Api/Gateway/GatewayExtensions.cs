using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Anthropic;
using AigneHub.Api.Providers.Gemini;
using AigneHub.Api.Providers.Demo;
using AigneHub.Api.Providers.OpenAI;

namespace AigneHub.Api.Gateway;

public static class GatewayExtensions
{
    /// <summary>The request pipeline, the provider HTTP client and the protocol adapters (keyed by protocol).</summary>
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ProviderHttpOptions>().BindConfiguration(ProviderHttpOptions.Section);
        services.AddSingleton<ProviderHttp>();
        services.AddSingleton<GatewayTelemetry>();
        services.AddSingleton<GatewayPipeline>();
        services.AddSingleton<GatewayServices>();

        services.AddKeyedSingleton<IChatAdapter, OpenAiChatAdapter>(ProviderProtocol.OpenAI);
        services.AddKeyedSingleton<IEmbeddingAdapter, OpenAiEmbeddingAdapter>(ProviderProtocol.OpenAI);
        services.AddKeyedSingleton<IImageAdapter, OpenAiImageAdapter>(ProviderProtocol.OpenAI);
        services.AddKeyedSingleton<IChatAdapter, DemoChatAdapter>(ProviderProtocol.Demo);
        services.AddAnthropicAdapter();
        services.AddGeminiAdapter();
        return builder;
    }
}
