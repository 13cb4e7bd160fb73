namespace AigneHub.Api.Providers;

/// <summary>The wire protocol a provider speaks.</summary>
public enum ProviderProtocol
{
    OpenAI,
    Anthropic,
    Gemini,
    /// <summary>The built-in development demo (no network).</summary>
    Demo,
}

/// <summary>A provider AigneHub knows: its name (as in <c>provider/model</c>), protocol and default base URL.</summary>
public sealed record ProviderKind(string Name, string DisplayName, ProviderProtocol Protocol, Uri DefaultBaseUrl, bool RequiresKey = true);

public static class ProviderKinds
{
    public static readonly ProviderKind OpenAI = new("openai", "OpenAI", ProviderProtocol.OpenAI, new("https://api.openai.com/v1/"));
    public static readonly ProviderKind Anthropic = new("anthropic", "Anthropic", ProviderProtocol.Anthropic, new("https://api.anthropic.com/v1/"));
    public static readonly ProviderKind Google = new("google", "Google Gemini", ProviderProtocol.Gemini, new("https://generativelanguage.googleapis.com/v1beta/"));
    public static readonly ProviderKind DeepSeek = new("deepseek", "DeepSeek", ProviderProtocol.OpenAI, new("https://api.deepseek.com/v1/"));
    public static readonly ProviderKind XAI = new("xai", "xAI", ProviderProtocol.OpenAI, new("https://api.x.ai/v1/"));
    public static readonly ProviderKind OpenRouter = new("openrouter", "OpenRouter", ProviderProtocol.OpenAI, new("https://openrouter.ai/api/v1/"));
    public static readonly ProviderKind Ollama = new("ollama", "Ollama", ProviderProtocol.OpenAI, new("http://localhost:11434/v1/"), RequiresKey: false);
    public static readonly ProviderKind Doubao = new("doubao", "Doubao (Volcengine Ark)", ProviderProtocol.OpenAI, new("https://ark.cn-beijing.volces.com/api/v3/"));
    public static readonly ProviderKind Poe = new("poe", "Poe", ProviderProtocol.OpenAI, new("https://api.poe.com/v1/"));
    public static readonly ProviderKind Demo = new("demo", "Demo (development only)", ProviderProtocol.Demo, new("http://demo.invalid/"), RequiresKey: false);

    /// <summary>Providers an admin can configure (the demo is built in and not among them).</summary>
    public static IReadOnlyList<ProviderKind> Configurable { get; } =
        [OpenAI, Anthropic, Google, DeepSeek, XAI, OpenRouter, Ollama, Doubao, Poe];

    public static ProviderKind? Find(string name) =>
        Configurable.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? (string.Equals(name, Demo.Name, StringComparison.OrdinalIgnoreCase) ? Demo : null);
}
