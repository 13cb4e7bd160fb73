using System.Text.Json;

namespace AigneHub.Api.Providers;

// The provider-neutral model. Every inbound protocol (OpenAI, AIGNE native) is read into these types and every
// provider adapter (OpenAI-compatible, Anthropic, Gemini, ...) writes them in its own wire format and reads its
// answers back into them. Where inbound and provider protocols are both OpenAI, the gateway skips this model and
// passes the body through (see Providers/OpenAI).

public enum ChatRole
{
    System,
    User,
    Assistant,
    Tool,
}

/// <summary>A chat request, provider-neutral. <see cref="Model"/> is the provider's own model id.</summary>
public sealed record ChatRequest
{
    public required string Model { get; init; }

    public required IReadOnlyList<ChatMessage> Messages { get; init; }

    public double? Temperature { get; init; }

    public double? TopP { get; init; }

    public double? FrequencyPenalty { get; init; }

    public double? PresencePenalty { get; init; }

    /// <summary>Upper bound of generated tokens (OpenAI <c>max_tokens</c>/<c>max_completion_tokens</c>).</summary>
    public int? MaxOutputTokens { get; init; }

    public IReadOnlyList<string>? Stop { get; init; }

    public long? Seed { get; init; }

    public IReadOnlyList<ToolDefinition>? Tools { get; init; }

    public ToolChoice? ToolChoice { get; init; }

    public ResponseFormat? ResponseFormat { get; init; }

    /// <summary>Reasoning effort for models that take one (low|medium|high), passed on where supported.</summary>
    public string? ReasoningEffort { get; init; }

    /// <summary>End-user id for the provider's abuse monitoring (OpenAI <c>user</c>).</summary>
    public string? EndUser { get; init; }
}

public sealed record ChatMessage
{
    public required ChatRole Role { get; init; }

    /// <summary>Text and image parts in order. Empty for an assistant message that only calls tools.</summary>
    public IReadOnlyList<ContentPart> Content { get; init; } = [];

    /// <summary>Assistant messages: the tools it called.</summary>
    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }

    /// <summary>Tool messages: which call this is the result of.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>Tool messages: the tool's name, where the protocol carries it (Gemini needs it).</summary>
    public string? Name { get; init; }

    public string Text => string.Concat(Content.OfType<TextPart>().Select(p => p.Text));
}

public abstract record ContentPart;

public sealed record TextPart(string Text) : ContentPart;

/// <summary>An image by URL, or inline as a <c>data:</c> URL (base64).</summary>
public sealed record ImagePart(string Url, string? Detail = null) : ContentPart
{
    /// <summary>Splits a <c>data:image/png;base64,....</c> URL; null for a plain URL.</summary>
    public (string MediaType, string Base64)? AsInlineData()
    {
        if (!Url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var comma = Url.IndexOf(',');
        var header = comma > 5 ? Url[5..comma] : "";
        var mediaType = header.Split(';')[0];
        return (mediaType.Length == 0 ? "application/octet-stream" : mediaType, comma >= 0 ? Url[(comma + 1)..] : "");
    }

    /// <summary>The part's media type: an inline part's own, else guessed from the URL's extension (JPEG when none).</summary>
    public string MediaType()
    {
        if (AsInlineData() is var (mediaType, _))
        {
            return mediaType.ToLowerInvariant();
        }
        var path = Uri.TryCreate(Url, UriKind.Absolute, out var uri) ? uri.AbsolutePath : Url;
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".gif" => "image/gif",
            ".webp" => "image/webp",
            ".heic" => "image/heic",
            ".heif" => "image/heif",
            ".pdf" => "application/pdf",
            _ => "image/jpeg",
        };
    }
}

/// <summary>A function the model may call. <see cref="Parameters"/> is a JSON Schema object.</summary>
public sealed record ToolDefinition(string Name, string? Description, JsonElement? Parameters, bool? Strict = null);

/// <summary><c>auto</c>, <c>none</c>, <c>required</c>, or one named function.</summary>
public sealed record ToolChoice(ToolChoiceMode Mode, string? FunctionName = null);

public enum ToolChoiceMode
{
    Auto,
    None,
    Required,
    Function,
}

/// <summary>A call the model made. <see cref="Arguments"/> is the JSON text of the arguments.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);

public sealed record ResponseFormat(ResponseFormatKind Kind, string? SchemaName = null, JsonElement? Schema = null, bool? Strict = null);

public enum ResponseFormatKind
{
    Text,
    JsonObject,
    JsonSchema,
}

public enum FinishReason
{
    Stop,
    Length,
    ToolCalls,
    ContentFilter,
}

/// <summary>Token counts as the provider reported them. Input tokens include cached ones (OpenAI's convention).</summary>
public sealed record TokenUsage
{
    public int InputTokens { get; init; }

    public int OutputTokens { get; init; }

    /// <summary>Prompt tokens written to the provider's cache (Anthropic <c>cache_creation_input_tokens</c>).</summary>
    public int CacheCreationInputTokens { get; init; }

    /// <summary>Prompt tokens read from the cache (OpenAI <c>cached_tokens</c>, Anthropic <c>cache_read_input_tokens</c>).</summary>
    public int CacheReadInputTokens { get; init; }

    public int ReasoningTokens { get; init; }

    public int TotalTokens => InputTokens + OutputTokens;
}

public sealed record ChatResponse
{
    public required string Id { get; init; }

    public required string Model { get; init; }

    public string? Text { get; init; }

    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }

    public FinishReason? FinishReason { get; init; }

    public TokenUsage? Usage { get; init; }
}

/// <summary>
/// One piece of a streamed answer. Tool calls arrive as deltas keyed by <see cref="ToolCallDelta.Index"/>: the
/// first delta of a call carries its id and name, later ones append to its arguments.
/// </summary>
public sealed record ChatStreamUpdate
{
    public string? Id { get; init; }

    public string? Model { get; init; }

    public string? TextDelta { get; init; }

    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }

    public FinishReason? FinishReason { get; init; }

    /// <summary>Usage, usually on the last update only.</summary>
    public TokenUsage? Usage { get; init; }
}

public sealed record ToolCallDelta(int Index, string? Id, string? Name, string? ArgumentsDelta);

public sealed record EmbeddingRequest
{
    public required string Model { get; init; }

    public required IReadOnlyList<string> Inputs { get; init; }

    public int? Dimensions { get; init; }
}

public sealed record EmbeddingResponse(string Model, IReadOnlyList<float[]> Embeddings, TokenUsage Usage);

public sealed record ImageRequest
{
    public required string Model { get; init; }

    public required string Prompt { get; init; }

    public int N { get; init; } = 1;

    public string? Size { get; init; }

    public string? Quality { get; init; }

    public string? Style { get; init; }

    /// <summary><c>b64_json</c> or <c>url</c>.</summary>
    public string ResponseFormat { get; init; } = "url";
}

/// <summary>An image edit: <see cref="Image"/>'s prompt and options applied to the uploaded <see cref="Images"/>,
/// within the transparent area of <see cref="Mask"/> when there is one.</summary>
public sealed record ImageEditRequest(ImageRequest Image, IReadOnlyList<UploadedFile> Images, UploadedFile? Mask);

/// <summary>One image: a link or its bytes in base64, the prompt the provider drew from when it rewrote the caller's,
/// and the bytes' type when the provider said (null: PNG, OpenAI's).</summary>
public sealed record GeneratedImage(string? Url, string? Base64Json, string? RevisedPrompt, string? MediaType = null);

public sealed record ImageResponse(long Created, IReadOnlyList<GeneratedImage> Images, TokenUsage? Usage);
