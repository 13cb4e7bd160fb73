using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers;

/// <summary>
/// Where and how one call reaches a provider: its base URL, the secret of the credential chosen for this call,
/// and the shared provider <see cref="HttpClient"/> (long idle timeout, no retries, no redirects — see
/// <see cref="ProviderHttp"/>). Adapters never pick credentials or retry; the gateway does.
/// </summary>
public sealed record ProviderEndpoint(string Provider, Uri BaseUrl, string? ApiKey, HttpClient Http)
{
    /// <summary>The provider's own settings (a region, an API version, deployments), as configured.</summary>
    public ProviderSettings Settings { get; init; } = ProviderSettings.None;

    /// <summary>The kind named by <see cref="Provider"/>, for its dialect (an unknown name reads as the plain family).</summary>
    public ProviderKind? Kind => ProviderKinds.Find(Provider);
}

/// <summary>
/// A provider's chat protocol. Errors (any non-2xx answer, a transport failure, an idle timeout) are thrown as
/// <see cref="ProviderException"/>; a stream throws <em>before</em> its first update when the provider refuses
/// the call, so the gateway can still fail over.
/// </summary>
public interface IChatAdapter
{
    Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken);

    /// <summary>Streams the answer; adapters ask the provider for usage in the stream and yield it.</summary>
    IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken);
}

/// <summary>The wires a caller protocol and a provider family may share, so an answer can pass through untranslated.</summary>
public enum PassthroughWire
{
    /// <summary>OpenAI's <c>POST chat/completions</c>, JSON or SSE chunks ending in <c>[DONE]</c>.</summary>
    OpenAiChatCompletions,

    /// <summary>OpenAI's <c>POST responses</c>, a response object or named SSE events ending in <c>response.completed</c>.</summary>
    OpenAiResponses,

    /// <summary>Anthropic's <c>POST messages</c>, JSON or named SSE events ending in <c>message_stop</c>.</summary>
    AnthropicMessages,
}

/// <summary>
/// A pass-through call: the caller's body as it came, the provider's model id to put in it, the output cap the call
/// was admitted with (the caller's, else the reserved default; the provider gets this one limit), and the few
/// headers of the caller's wire that a provider of the same wire honours (Anthropic's <c>anthropic-version</c> and
/// <c>anthropic-beta</c>), picked by the caller's protocol so that no adapter ever sees the caller's request.
/// </summary>
public sealed record PassthroughRequest(string Model, JsonObject Body, int? OutputTokenCap, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A capability of a chat adapter whose provider speaks a wire a caller protocol also speaks: the caller's body
/// goes out as it came (unknown fields kept; the model, the output cap and the usage request set by the adapter)
/// and the provider's answer comes back raw, with the usage it tapped. The adapter parses only what it must to find
/// usage and mid-stream errors; the gateway writes everything the caller receives. <c>outputTokenCap</c>, when set,
/// replaces every output cap the caller wrote: the provider receives exactly that one, in the field it reads.
/// </summary>
public interface IChatPassthrough
{
    PassthroughWire Wire { get; }

    /// <summary>Whether <paramref name="kind"/> speaks <see cref="Wire"/>: a protocol's providers may share one wire
    /// (chat completions) but not another (only OpenAI itself serves the Responses API).</summary>
    bool Serves(ProviderKind kind) => true;

    /// <summary>The provider's whole JSON answer, and its usage if it reported one.</summary>
    Task<RawChatAnswer> CompleteRawAsync(ProviderEndpoint endpoint, PassthroughRequest request, CancellationToken cancellationToken);

    /// <summary>The provider's events as they came. A provider error event is thrown as a <see cref="ProviderException"/>.</summary>
    IAsyncEnumerable<RawChatEvent> StreamRawAsync(ProviderEndpoint endpoint, PassthroughRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A chat adapter whose provider counts a request's prompt tokens itself (Anthropic's <c>messages/count_tokens</c>),
/// for a caller of the same wire. Not a billed call.
/// </summary>
public interface IChatTokenCounter
{
    PassthroughWire Wire { get; }

    /// <summary>The provider's answer as it came (e.g. <c>{"input_tokens":N}</c>).</summary>
    Task<ReadOnlyMemory<byte>> CountTokensRawAsync(ProviderEndpoint endpoint, PassthroughRequest request, CancellationToken cancellationToken);
}

/// <summary>A provider's whole answer as bytes, and the usage read from it (null when it reported none).</summary>
public sealed record RawChatAnswer(ReadOnlyMemory<byte> Body, TokenUsage? Usage)
{
    /// <summary>Characters of generated text in the answer (see <see cref="GeneratedText"/>), for an estimate when
    /// <see cref="Usage"/> is null.</summary>
    public int OutputCharacters { get; init; }
}

/// <summary>
/// One provider event, untouched. <see cref="Usage"/> is set on the event that carried it (for a wire that spreads
/// usage over several events, the usage so far); <see cref="UsageOnly"/> marks an event with nothing else in it
/// (sent because the adapter always asks for usage, whether or not the caller did); <see cref="End"/> marks the
/// wire's end-of-stream event; <see cref="EventName"/> is the event's <c>event:</c> line, for wires that name their
/// events (Responses, Anthropic Messages).
/// </summary>
public sealed record RawChatEvent(string Data, TokenUsage? Usage = null, bool UsageOnly = false, bool End = false, string? EventName = null)
{
    /// <summary>Characters of generated text the event carries (see <see cref="GeneratedText"/>): what the caller was
    /// delivered, should the provider's usage never come.</summary>
    public int OutputCharacters { get; init; }
}

public interface IEmbeddingAdapter
{
    Task<EmbeddingResponse> EmbedAsync(ProviderEndpoint endpoint, EmbeddingRequest request, CancellationToken cancellationToken);
}

public interface IImageAdapter
{
    Task<ImageResponse> GenerateAsync(ProviderEndpoint endpoint, ImageRequest request, CancellationToken cancellationToken);

    /// <summary>Why <paramref name="kind"/> cannot serve this request at all (more images than the model makes at
    /// once, a model that makes none), or null. Asked before the call is admitted, so a refusal reserves nothing.</summary>
    string? Refusal(ProviderKind kind, ImageRequest request) => null;
}

/// <summary>An image adapter whose provider also edits uploaded images.</summary>
public interface IImageEditAdapter
{
    Task<ImageResponse> EditAsync(ProviderEndpoint endpoint, ImageEditRequest request, CancellationToken cancellationToken);
}

/// <summary>Why a provider call failed, in the classes the model-health records and failover decisions use.</summary>
public enum ProviderErrorClass
{
    /// <summary>401: the credential is bad. Deactivate it.</summary>
    InvalidCredential,
    /// <summary>
    /// 403: the provider refused this call. The credential may be fine and the call's content the cause (a file the
    /// project may not read, a model the key may not use), so only a test call that is refused too deactivates it.
    /// </summary>
    Forbidden,
    /// <summary>429: slow down. Lower the credential's weight, cool the provider down.</summary>
    RateLimited,
    /// <summary>404 for the model, or the provider says the model does not exist.</summary>
    ModelNotFound,
    /// <summary>400/422: the provider rejected the request itself (the caller's fault, not the provider's).</summary>
    BadRequest,
    /// <summary>5xx, connection refused, reset.</summary>
    Unavailable,
    /// <summary>No byte for longer than the idle timeout.</summary>
    Timeout,
}

public sealed class ProviderException(
    string provider,
    ProviderErrorClass errorClass,
    int? providerStatus,
    string message,
    Exception? inner = null) : Exception(message, inner)
{
    public string Provider { get; } = provider;

    public ProviderErrorClass ErrorClass { get; } = errorClass;

    /// <summary>The provider's HTTP status, when it answered.</summary>
    public int? ProviderStatus { get; } = providerStatus;

    /// <summary>
    /// A 429's "come back after" (<see cref="RateLimitHint"/>), or, from the credential pool, how long until one of
    /// the provider's credentials may serve the model again. Null when nobody said.
    /// </summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>The provider said the limit is the model's own (the credential may serve other models).</summary>
    public bool ModelScoped { get; init; }

    /// <summary>Worth trying the next provider/credential for (never after a byte reached the caller).</summary>
    public bool IsRetryable => ErrorClass is ProviderErrorClass.InvalidCredential or ProviderErrorClass.Forbidden or ProviderErrorClass.RateLimited
        or ProviderErrorClass.Unavailable or ProviderErrorClass.Timeout;

    public static ProviderErrorClass Classify(int status) => status switch
    {
        401 => ProviderErrorClass.InvalidCredential,
        403 => ProviderErrorClass.Forbidden,
        429 => ProviderErrorClass.RateLimited,
        404 => ProviderErrorClass.ModelNotFound,
        408 or 504 => ProviderErrorClass.Timeout,
        >= 500 => ProviderErrorClass.Unavailable,
        _ => ProviderErrorClass.BadRequest,
    };
}
