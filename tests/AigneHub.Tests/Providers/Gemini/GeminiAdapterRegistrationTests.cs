using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Anthropic;
using AigneHub.Api.Providers.Gemini;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Providers.Gemini;

public sealed class GeminiAdapterRegistrationTests
{
    [Fact]
    public void The_adapters_are_keyed_by_the_gemini_protocol_and_share_one_provider_http()
    {
        using var services = new ServiceCollection().AddProviders().BuildServiceProvider();

        Assert.IsType<GeminiChatAdapter>(services.GetRequiredKeyedService<IChatAdapter>(ProviderProtocol.Gemini));
        Assert.IsType<GeminiEmbeddingAdapter>(services.GetRequiredKeyedService<IEmbeddingAdapter>(ProviderProtocol.Gemini));
        Assert.IsType<GeminiAudioAdapter>(services.GetRequiredKeyedService<IAudioAdapter>(ProviderProtocol.Gemini));
        Assert.IsType<AnthropicChatAdapter>(services.GetRequiredKeyedService<IChatAdapter>(ProviderProtocol.Anthropic));
        Assert.Single(services.GetServices<ProviderHttp>());
    }
}
