using System.Diagnostics;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Management;

/// <summary>The outcome of a live test call with one credential.</summary>
public sealed record CredentialTestResult(bool Ok, long LatencyMs, string? Error = null, ProviderErrorClass? ErrorClass = null);

/// <summary>
/// Makes one tiny live call with a credential: the admin "test" button and the background re-check of a
/// deactivated credential both use it. A seam so tests can decide the outcome.
/// </summary>
public interface ICredentialTester
{
    Task<CredentialTestResult> TestAsync(ProviderKind kind, Uri baseUrl, ProviderSettings settings, string secret, string model, CancellationToken cancellationToken);
}

/// <summary>
/// Tests a credential with a one-token "ping" chat through the provider's chat adapter, taken from the
/// <see cref="ProviderAdapters"/> registry by protocol.
/// </summary>
public sealed class ChatCredentialTester(ProviderAdapters adapters, ProviderHttp http) : ICredentialTester
{
    /// <summary>A test is a tiny call; a provider that does not answer within this is as good as failed.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public async Task<CredentialTestResult> TestAsync(ProviderKind kind, Uri baseUrl, ProviderSettings settings, string secret, string model, CancellationToken cancellationToken)
    {
        var adapter = adapters.Chat(kind.Protocol);
        if (adapter is null)
        {
            // Ideogram: no chat, and no call that costs nothing. Not a verdict on the key (its first image call is one).
            return new CredentialTestResult(false, 0,
                $"{kind.DisplayName} serves no chat to test a key with; the key is checked by its first image call (a 401 deactivates it).", ProviderErrorClass.Unavailable);
        }
        var request = new ChatRequest
        {
            Model = model,
            Messages = [new ChatMessage { Role = ChatRole.User, Content = [new TextPart("ping")] }],
            MaxOutputTokens = 1,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await adapter.CompleteAsync(new ProviderEndpoint(kind.Name, baseUrl, secret, http.Client) { Settings = settings }, request, timeout.Token);
            return new CredentialTestResult(true, Elapsed(started));
        }
        catch (ProviderException ex)
        {
            return new CredentialTestResult(false, Elapsed(started), ex.Message, ex.ErrorClass);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new CredentialTestResult(false, Elapsed(started), $"{kind.Name} did not answer within {Timeout.TotalSeconds:0} s.", ProviderErrorClass.Timeout);
        }
        catch (HttpRequestException ex)
        {
            return new CredentialTestResult(false, Elapsed(started), $"{kind.Name} is unreachable: {ex.Message}", ProviderErrorClass.Unavailable);
        }

        // Real latency, whatever clock the rest of the app runs on.
        static long Elapsed(long start) => (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
}

/// <summary>The model a credential is re-checked with when the catalogue names none for its provider.</summary>
public static class CredentialTestModels
{
    private static readonly Dictionary<string, string> Defaults = new(StringComparer.OrdinalIgnoreCase)
    {
        [ProviderKinds.OpenAI.Name] = "gpt-4o-mini",
        [ProviderKinds.Anthropic.Name] = "claude-3-5-haiku-latest",
        [ProviderKinds.Google.Name] = "gemini-2.0-flash",
        [ProviderKinds.DeepSeek.Name] = "deepseek-chat",
        [ProviderKinds.XAI.Name] = "grok-3-mini",
        [ProviderKinds.OpenRouter.Name] = "openai/gpt-4o-mini",
        [ProviderKinds.Ollama.Name] = "llama3.2",
        [ProviderKinds.Doubao.Name] = "doubao-seed-1-6-flash-250828",
        [ProviderKinds.Poe.Name] = "GPT-4o-Mini",
        [ProviderKinds.Mistral.Name] = "mistral-small-latest",
        [ProviderKinds.Groq.Name] = "llama-3.1-8b-instant",
        [ProviderKinds.Azure.Name] = "gpt-4o-mini",
        [ProviderKinds.Bedrock.Name] = "amazon.nova-micro-v1:0",
    };

    /// <summary>The provider's first enabled chat model in the catalogue, else a small well-known one.</summary>
    public static string For(ProviderSnapshot snapshot, ProviderKind kind, Guid providerId) =>
        snapshot.Models.FirstOrDefault(m => m.ProviderId == providerId && m.Enabled && m.Type == Data.ModelType.Chat)?.Model
        ?? Defaults.GetValueOrDefault(kind.Name, "gpt-4o-mini");
}
