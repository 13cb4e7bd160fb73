namespace AigneHub.Api.Providers;

/// <summary>The wire protocol a provider speaks.</summary>
public enum ProviderProtocol
{
    OpenAI,
    Anthropic,
    Gemini,
    /// <summary>Amazon Bedrock's Converse API, SigV4-signed.</summary>
    Bedrock,
    /// <summary>Ideogram's image API (no chat).</summary>
    Ideogram,
    /// <summary>The built-in development demo (no network).</summary>
    Demo,
}

/// <summary>
/// A provider AigneHub knows: its name (as in <c>provider/model</c>), protocol and default base URL, and the data
/// that tells its protocol's adapter how this member of the family differs (<see cref="OpenAi"/>).
/// </summary>
public sealed record ProviderKind(string Name, string DisplayName, ProviderProtocol Protocol, Uri DefaultBaseUrl, bool RequiresKey = true)
{
    /// <summary>For the OpenAI-compatible family: the fields and addressing this provider reads.</summary>
    public OpenAiDialect OpenAi { get; init; } = OpenAiDialect.Compatible;

    /// <summary>There is no default address (an Azure resource is the customer's own): a base URL must be configured.</summary>
    public bool RequiresBaseUrl { get; init; }

    /// <summary>The <see cref="ProviderSettings"/> members this kind takes (anything else is refused).</summary>
    public ProviderSettingNames Settings { get; init; }

    /// <summary>What of OpenAI's audio API the provider serves (its protocol's <see cref="IAudioAdapter"/> speaks it).</summary>
    public AudioOperations Audio { get; init; }

    /// <summary>Whether the provider generates video (its protocol's <see cref="IVideoAdapter"/> speaks its video API).</summary>
    public bool Video { get; init; }

    /// <summary>A default base URL per region (<c>{region}</c> in it), for providers addressed by region.</summary>
    public string? RegionalBaseUrl { get; init; }

    /// <summary>Where calls go when no base URL is configured.</summary>
    public Uri DefaultBaseUrlFor(ProviderSettings settings) =>
        RegionalBaseUrl is { } template && settings.Region is { } region ? new Uri(template.Replace("{region}", region, StringComparison.Ordinal)) : DefaultBaseUrl;
}

/// <summary>How one OpenAI-compatible provider's wire differs from OpenAI's own, as data.</summary>
/// <param name="OutputCapField">The one output-cap field it reads: OpenAI deprecated <c>max_tokens</c> for
/// <c>max_completion_tokens</c>; most compatible providers read only the old name (Mistral refuses the new one).</param>
/// <param name="StreamUsageOption">Whether it accepts <c>stream_options.include_usage</c>. Mistral refuses unknown
/// fields (422 <c>extra_forbidden</c>) and reports usage in the last chunk anyway.</param>
/// <param name="SeedField">Mistral calls the sampling seed <c>random_seed</c>.</param>
/// <param name="AcceptsEndUser">Whether it takes OpenAI's <c>user</c> field (Mistral does not).</param>
/// <param name="AzureDeployments">Azure OpenAI: <c>{base}openai/deployments/{deployment}/{operation}?api-version=…</c>
/// with an <c>api-key</c> header instead of a bearer token.</param>
public sealed record OpenAiDialect(
    string OutputCapField = "max_tokens",
    bool StreamUsageOption = true,
    string SeedField = "seed",
    bool AcceptsEndUser = true,
    bool AzureDeployments = false)
{
    /// <summary>How its <c>images/generations</c> differs from OpenAI's.</summary>
    public OpenAiImageDialect Images { get; init; } = OpenAiImageDialect.OpenAI;

    public static readonly OpenAiDialect Compatible = new();

    public static readonly OpenAiDialect OpenAI = new(OutputCapField: "max_completion_tokens");
}

/// <summary>How one OpenAI-compatible provider's <c>images/generations</c> differs from OpenAI's, as data.</summary>
/// <param name="QualityAndStyle">Whether it takes <c>quality</c> and <c>style</c> (Ark's Seedream refuses both).</param>
/// <param name="SequentialImages">Ark: no <c>n</c>; several images are one "group" generation,
/// <c>sequential_image_generation: "auto"</c> with <c>sequential_image_generation_options.max_images</c> (the model may
/// make fewer, and only those are counted), one image is <c>"disabled"</c>.</param>
/// <param name="Watermark">The <c>watermark</c> flag to send, if the provider takes one (Ark stamps a visible
/// "AI generated" mark unless told <c>false</c>; OpenAI's callers expect none).</param>
public sealed record OpenAiImageDialect(bool QualityAndStyle = true, bool SequentialImages = false, bool? Watermark = null)
{
    public static readonly OpenAiImageDialect OpenAI = new();

    /// <summary>Volcengine Ark (Seedream): <c>size</c> also takes <c>2K</c>/<c>4K</c>, passed as the caller wrote it.</summary>
    public static readonly OpenAiImageDialect Ark = new(QualityAndStyle: false, SequentialImages: true, Watermark: false);
}

public static class ProviderKinds
{
    private const AudioOperations AllAudio = AudioOperations.Speech | AudioOperations.Transcription | AudioOperations.Translation;

    public static readonly ProviderKind OpenAI = new("openai", "OpenAI", ProviderProtocol.OpenAI, new("https://api.openai.com/v1/"))
    {
        OpenAi = OpenAiDialect.OpenAI,
        Audio = AllAudio,
        Video = true,
    };
    public static readonly ProviderKind Anthropic = new("anthropic", "Anthropic", ProviderProtocol.Anthropic, new("https://api.anthropic.com/v1/"));
    public static readonly ProviderKind Google = new("google", "Google Gemini", ProviderProtocol.Gemini, new("https://generativelanguage.googleapis.com/v1beta/"))
    {
        Audio = AllAudio, // generateContent: TTS models speak, any audio-understanding model transcribes (GeminiAudioAdapter)
        Video = true,
    };
    public static readonly ProviderKind DeepSeek = new("deepseek", "DeepSeek", ProviderProtocol.OpenAI, new("https://api.deepseek.com/v1/"));
    public static readonly ProviderKind XAI = new("xai", "xAI", ProviderProtocol.OpenAI, new("https://api.x.ai/v1/"));
    public static readonly ProviderKind OpenRouter = new("openrouter", "OpenRouter", ProviderProtocol.OpenAI, new("https://openrouter.ai/api/v1/"));
    public static readonly ProviderKind Ollama = new("ollama", "Ollama", ProviderProtocol.OpenAI, new("http://localhost:11434/v1/"), RequiresKey: false);
    /// <summary>Volcengine Ark: chat completions as OpenAI's; Seedream images through its own dialect of
    /// <c>images/generations</c> (<see cref="OpenAiImageDialect.Ark"/>).</summary>
    public static readonly ProviderKind Doubao = new("doubao", "Doubao (Volcengine Ark)", ProviderProtocol.OpenAI, new("https://ark.cn-beijing.volces.com/api/v3/"))
    {
        OpenAi = OpenAiDialect.Compatible with { Images = OpenAiImageDialect.Ark },
    };
    public static readonly ProviderKind Poe = new("poe", "Poe", ProviderProtocol.OpenAI, new("https://api.poe.com/v1/"));

    /// <summary>Mistral's La Plateforme: strict about fields (see <see cref="OpenAiDialect"/>); Voxtral transcribes at
    /// <c>audio/transcriptions</c> (no translations endpoint).</summary>
    public static readonly ProviderKind Mistral = new("mistral", "Mistral AI", ProviderProtocol.OpenAI, new("https://api.mistral.ai/v1/"))
    {
        OpenAi = new OpenAiDialect(StreamUsageOption: false, SeedField: "random_seed", AcceptsEndUser: false),
        Audio = AudioOperations.Transcription,
    };

    /// <summary>Groq reads <c>max_completion_tokens</c> (<c>max_tokens</c> is deprecated there) and may report a stream's
    /// usage under <c>x_groq.usage</c>; it serves OpenAI's audio API (Whisper transcriptions and translations, and
    /// text to speech).</summary>
    public static readonly ProviderKind Groq = new("groq", "Groq", ProviderProtocol.OpenAI, new("https://api.groq.com/openai/v1/"))
    {
        OpenAi = new OpenAiDialect(OutputCapField: "max_completion_tokens"),
        Audio = AllAudio,
    };

    /// <summary>Azure OpenAI: the customer's resource URL (<c>https://{resource}.openai.azure.com/</c>), deployments
    /// named in the URL, the <c>api-version</c> and the deployment of each model in its settings.</summary>
    public static readonly ProviderKind Azure = new("azure", "Azure OpenAI", ProviderProtocol.OpenAI, new("https://your-resource.openai.azure.com/"))
    {
        OpenAi = new OpenAiDialect(OutputCapField: "max_completion_tokens", AzureDeployments: true),
        Audio = AllAudio,
        RequiresBaseUrl = true,
        Settings = ProviderSettingNames.ApiVersion | ProviderSettingNames.Deployments,
    };

    /// <summary>Amazon Bedrock: addressed by AWS region (<c>settings.region</c>), a base URL only to override it.</summary>
    public static readonly ProviderKind Bedrock = new("bedrock", "Amazon Bedrock", ProviderProtocol.Bedrock, new("https://bedrock-runtime.us-east-1.amazonaws.com/"))
    {
        RegionalBaseUrl = "https://bedrock-runtime.{region}.amazonaws.com/",
        Settings = ProviderSettingNames.Region,
    };

    /// <summary>Ideogram: image generation only (Ideogram 3.0), the key in an <c>Api-Key</c> header.</summary>
    public static readonly ProviderKind Ideogram = new("ideogram", "Ideogram", ProviderProtocol.Ideogram, new("https://api.ideogram.ai/"));

    public static readonly ProviderKind Demo = new("demo", "Demo (development only)", ProviderProtocol.Demo, new("http://demo.invalid/"), RequiresKey: false);

    /// <summary>Providers an admin can configure (the demo is built in and not among them).</summary>
    public static IReadOnlyList<ProviderKind> Configurable { get; } =
        [OpenAI, Anthropic, Google, DeepSeek, XAI, OpenRouter, Ollama, Doubao, Poe, Mistral, Groq, Azure, Bedrock, Ideogram];

    public static ProviderKind? Find(string name) =>
        Configurable.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? (string.Equals(name, Demo.Name, StringComparison.OrdinalIgnoreCase) ? Demo : null);
}
