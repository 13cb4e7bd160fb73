using System.Collections.Frozen;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers.Anthropic;
using AigneHub.Api.Providers.Bedrock;
using AigneHub.Api.Providers.Demo;
using AigneHub.Api.Providers.Gemini;
using AigneHub.Api.Providers.Ideogram;
using AigneHub.Api.Providers.OpenAI;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AigneHub.Api.Providers;

/// <summary>The adapters by protocol, resolved once at start: what the gateway calls, and what each can do.</summary>
/// <param name="passthroughs">Pass-throughs that are not a protocol's chat adapter (a second wire of its family).</param>
public sealed class ProviderAdapters(
    IReadOnlyDictionary<ProviderProtocol, IChatAdapter> chat,
    IReadOnlyDictionary<ProviderProtocol, IEmbeddingAdapter> embedding,
    IReadOnlyDictionary<ProviderProtocol, IImageAdapter> image,
    IReadOnlyDictionary<ProviderProtocol, IAudioAdapter> audio,
    IReadOnlyDictionary<ProviderProtocol, IVideoAdapter> video,
    IEnumerable<IChatPassthrough> passthroughs)
{
    private readonly IChatPassthrough[] _passthroughs = [.. passthroughs];
    private readonly FrozenDictionary<ProviderProtocol, IChatAdapter> _chat = chat.ToFrozenDictionary();
    private readonly FrozenDictionary<ProviderProtocol, IEmbeddingAdapter> _embedding = embedding.ToFrozenDictionary();
    private readonly FrozenDictionary<ProviderProtocol, IImageAdapter> _image = image.ToFrozenDictionary();
    private readonly FrozenDictionary<ProviderProtocol, IAudioAdapter> _audio = audio.ToFrozenDictionary();
    private readonly FrozenDictionary<ProviderProtocol, IVideoAdapter> _video = video.ToFrozenDictionary();

    public IChatAdapter? Chat(ProviderProtocol protocol) => _chat.GetValueOrDefault(protocol);

    /// <summary>What passes <paramref name="wire"/> through untranslated to <paramref name="kind"/>: its protocol's chat
    /// adapter, or another pass-through of that family; null when the provider does not speak the wire.</summary>
    public IChatPassthrough? ChatPassthrough(ProviderKind kind, PassthroughWire wire) =>
        _chat.GetValueOrDefault(kind.Protocol) is IChatPassthrough own && own.Wire == wire && own.Serves(kind)
            ? own
            : Array.Find(_passthroughs, p => p.Wire == wire && p.Serves(kind));

    /// <summary>The protocol's chat adapter when its provider counts <paramref name="wire"/> requests' tokens itself.</summary>
    public IChatTokenCounter? TokenCounter(ProviderProtocol protocol, PassthroughWire wire) =>
        _chat.GetValueOrDefault(protocol) is IChatTokenCounter counter && counter.Wire == wire ? counter : null;

    public IEmbeddingAdapter? Embedding(ProviderProtocol protocol) => _embedding.GetValueOrDefault(protocol);

    public IImageAdapter? Image(ProviderProtocol protocol) => _image.GetValueOrDefault(protocol);

    public IImageEditAdapter? ImageEdit(ProviderProtocol protocol) => _image.GetValueOrDefault(protocol) as IImageEditAdapter;

    /// <summary>The adapter for <paramref name="operation"/> on <paramref name="kind"/>, when that provider offers it.</summary>
    public IAudioAdapter? Audio(ProviderKind kind, AudioOperations operation) =>
        kind.Audio.HasFlag(operation) ? _audio.GetValueOrDefault(kind.Protocol) : null;

    /// <summary>The video adapter of <paramref name="kind"/>, when that provider generates video.</summary>
    public IVideoAdapter? Video(ProviderKind kind) => kind.Video ? _video.GetValueOrDefault(kind.Protocol) : null;
}

public static class ProviderRegistration
{
    /// <summary>
    /// Every provider adapter (keyed by <see cref="ProviderProtocol"/>), the <see cref="ProviderAdapters"/> registry
    /// over them, and the one <see cref="ProviderHttp"/> they share, bound to <c>AigneHub:Providers:Http</c>. With
    /// <c>AigneHub:Providers:Demo:Enabled</c> the demo model also gets its zero rate seeded.
    /// </summary>
    public static IHostApplicationBuilder AddProviders(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProviders();
        builder.Services.Configure<ProviderHttpOptions>(builder.Configuration.GetSection(ProviderHttpOptions.Section));
        if (builder.Configuration.GetValue<bool>("AigneHub:Providers:Demo:Enabled"))
        {
            builder.Services.AddSingleton<IStartupSeeder, DemoRateSeeder>();
        }
        return builder;
    }

    /// <summary>The adapters and <see cref="ProviderHttp"/> without configuration binding; safe to call twice.</summary>
    public static IServiceCollection AddProviders(this IServiceCollection services)
    {
        services.AddOptions<ProviderHttpOptions>();
        services.TryAddSingleton<ProviderHttp>();
        services.TryAddSingleton(TimeProvider.System);

        Chat<OpenAiChatAdapter>(services, ProviderProtocol.OpenAI);
        Chat<AnthropicChatAdapter>(services, ProviderProtocol.Anthropic);
        Chat<GeminiChatAdapter>(services, ProviderProtocol.Gemini);
        Chat<BedrockChatAdapter>(services, ProviderProtocol.Bedrock);
        Chat<DemoChatAdapter>(services, ProviderProtocol.Demo);
        Embedding<OpenAiEmbeddingAdapter>(services, ProviderProtocol.OpenAI);
        Embedding<GeminiEmbeddingAdapter>(services, ProviderProtocol.Gemini);
        Image<OpenAiImageAdapter>(services, ProviderProtocol.OpenAI);
        Image<GeminiImageAdapter>(services, ProviderProtocol.Gemini);
        Image<IdeogramImageAdapter>(services, ProviderProtocol.Ideogram);
        Audio<OpenAiAudioAdapter>(services, ProviderProtocol.OpenAI);
        Audio<GeminiAudioAdapter>(services, ProviderProtocol.Gemini);
        Video<OpenAiVideoAdapter>(services, ProviderProtocol.OpenAI);
        Video<GeminiVideoAdapter>(services, ProviderProtocol.Gemini);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IChatPassthrough, OpenAiResponsesPassthrough>());

        services.TryAddSingleton(sp => new ProviderAdapters(
            Keyed<IChatAdapter>(sp), Keyed<IEmbeddingAdapter>(sp), Keyed<IImageAdapter>(sp), Keyed<IAudioAdapter>(sp), Keyed<IVideoAdapter>(sp), sp.GetServices<IChatPassthrough>()));
        return services;
    }

    private static void Chat<T>(IServiceCollection services, ProviderProtocol protocol) where T : class, IChatAdapter
    {
        services.TryAddSingleton<T>();
        services.TryAddKeyedSingleton<IChatAdapter>(protocol, (sp, _) => sp.GetRequiredService<T>());
    }

    private static void Embedding<T>(IServiceCollection services, ProviderProtocol protocol) where T : class, IEmbeddingAdapter
    {
        services.TryAddSingleton<T>();
        services.TryAddKeyedSingleton<IEmbeddingAdapter>(protocol, (sp, _) => sp.GetRequiredService<T>());
    }

    private static void Image<T>(IServiceCollection services, ProviderProtocol protocol) where T : class, IImageAdapter
    {
        services.TryAddSingleton<T>();
        services.TryAddKeyedSingleton<IImageAdapter>(protocol, (sp, _) => sp.GetRequiredService<T>());
    }

    private static void Audio<T>(IServiceCollection services, ProviderProtocol protocol) where T : class, IAudioAdapter
    {
        services.TryAddSingleton<T>();
        services.TryAddKeyedSingleton<IAudioAdapter>(protocol, (sp, _) => sp.GetRequiredService<T>());
    }

    private static void Video<T>(IServiceCollection services, ProviderProtocol protocol) where T : class, IVideoAdapter
    {
        services.TryAddSingleton<T>();
        services.TryAddKeyedSingleton<IVideoAdapter>(protocol, (sp, _) => sp.GetRequiredService<T>());
    }

    /// <summary>The composition root's one look-up per protocol, so nothing looks adapters up per call.</summary>
    private static Dictionary<ProviderProtocol, T> Keyed<T>(IServiceProvider services) where T : class =>
        Enum.GetValues<ProviderProtocol>()
            .Select(p => (Protocol: p, Adapter: services.GetKeyedService<T>(p)))
            .Where(x => x.Adapter is not null)
            .ToDictionary(x => x.Protocol, x => x.Adapter!);
}
