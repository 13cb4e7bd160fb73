using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Anthropic;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Providers.Anthropic;

public sealed class AnthropicAdapterRegistrationTests
{
    [Fact]
    public void The_adapter_is_the_chat_adapter_for_the_anthropic_protocol()
    {
        using var services = new ServiceCollection().AddProviders().AddProviders().BuildServiceProvider();

        var adapter = services.GetRequiredKeyedService<IChatAdapter>(ProviderProtocol.Anthropic);

        Assert.IsType<AnthropicChatAdapter>(adapter);
        Assert.Same(services.GetRequiredService<AnthropicChatAdapter>(), adapter);
        Assert.Single(services.GetKeyedServices<IChatAdapter>(ProviderProtocol.Anthropic));
    }
}
