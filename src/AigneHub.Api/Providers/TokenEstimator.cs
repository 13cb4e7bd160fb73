using Microsoft.ML.Tokenizers;

namespace AigneHub.Api.Providers;

/// <summary>
/// Token estimates for credit reservations (an upper bound of what the provider will count) and for usage when a
/// provider reports none. Real usage always wins when known.
/// <list type="bullet">
/// <item>Text is counted with OpenAI's public <c>o200k_base</c> encoding (Microsoft.ML.Tokenizers): exact for
/// OpenAI's own models, plus the chat framing. Other providers' tokenizers are not public, so their bound is
/// 1.5 × that count plus one more token per CJK character (Chinese, Japanese and Korean text is where tokenizers
/// differ most; o200k spends 0.5–1 token per character, others up to two).</item>
/// <item>Tool definitions and a JSON-schema response format are part of the prompt and counted as text.</item>
/// <item>Media are priced per provider family from what the part says about its size (<see cref="MediaSize"/>):
/// image tiles or patches by dimensions, audio and video per second, documents per page — the family's published
/// rule, or its largest case when the size cannot be read.</item>
/// </list>
/// Neutral: the gateway reserves with it, adapters that count nothing themselves (the demo) report with it.
/// </summary>
public static class TokenEstimator
{
    /// <summary>OpenAI's chat framing: a few tokens per message and for the reply's priming.</summary>
    private const int TokensPerMessage = 4;
    private const int TokensPerRequest = 3;

    private static readonly Lazy<Tokenizer> O200k = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    /// <summary>Output (or other text) counted from characters when nothing better is known: about 3 per token.</summary>
    public static int FromCharacters(long characters) => characters <= 0 ? 0 : (int)Math.Min(int.MaxValue, (characters + 2) / 3);

    /// <summary>A text's bound for any provider (embeddings, image prompts): the pessimistic one.</summary>
    public static int Text(string text)
    {
        var tokens = Count(text, out var cjk);
        return Pessimistic(tokens, cjk);
    }

    /// <summary>A chat request's prompt, per provider family.</summary>
    public static PromptEstimate Prompt(ChatRequest request)
    {
        long tokens = TokensPerRequest;
        long cjk = 0;
        List<MediaSize>? media = null;
        foreach (var message in request.Messages)
        {
            tokens += TokensPerMessage;
            foreach (var part in message.Content)
            {
                switch (part)
                {
                    case TextPart text:
                        tokens += Count(text.Text, out var c);
                        cjk += c;
                        break;
                    case ImagePart image:
                        (media ??= []).Add(MediaSize.Of(image));
                        break;
                }
            }
            foreach (var toolCall in message.ToolCalls ?? [])
            {
                tokens += Count(toolCall.Name, out _) + Count(toolCall.Arguments, out var c);
                cjk += c;
            }
        }
        foreach (var tool in request.Tools ?? [])
        {
            tokens += TokensPerMessage + Count(tool.Name, out _) + Count(tool.Description, out var c) + Count(tool.Parameters?.GetRawText(), out _);
            cjk += c;
        }
        if (request.ResponseFormat?.Schema is { } schema)
        {
            tokens += TokensPerMessage + Count(schema.GetRawText(), out _);
        }
        return new PromptEstimate(Clamp(tokens), Clamp(cjk), media ?? []);
    }

    private static int Count(string? text, out int cjk)
    {
        cjk = 0;
        if (string.IsNullOrEmpty(text))
        {
            return 0;
        }
        foreach (var ch in text)
        {
            if (IsCjk(ch))
            {
                cjk++;
            }
        }
        return O200k.Value.CountTokens(text);
    }

    public static int Clamp(long value) => (int)Math.Clamp(value, 0, int.MaxValue);

    internal static int Pessimistic(long tokens, long cjk) => Clamp(tokens + (tokens + 1) / 2 + cjk);

    /// <summary>Han, kana, Hangul and their punctuation and full-width forms (a UTF-16 unit; surrogate pairs of the
    /// supplementary Han planes count twice, which only makes the bound higher).</summary>
    private static bool IsCjk(char ch) => ch switch
    {
        >= '\u3000' and <= '\u30FF' => true, // CJK punctuation, hiragana, katakana
        >= '\u3400' and <= '\u4DBF' => true, // Han extension A
        >= '\u4E00' and <= '\u9FFF' => true, // Han
        >= '\uAC00' and <= '\uD7AF' => true, // Hangul syllables
        >= '\uD800' and <= '\uDFFF' => true, // surrogates (supplementary Han and emoji)
        >= '\uF900' and <= '\uFAFF' => true, // compatibility ideographs
        >= '\uFF00' and <= '\uFFEF' => true, // full-width forms
        _ => false,
    };
}

/// <summary>How a provider family counts prompt tokens.</summary>
public enum TokenizerFamily
{
    /// <summary>OpenAI's own models: <c>o200k_base</c>, counted exactly.</summary>
    OpenAi,
    Anthropic,
    Gemini,
    /// <summary>Anything else (the OpenAI-compatible family: DeepSeek, xAI, OpenRouter's any-model, local models):
    /// the pessimistic text bound and, for media, the largest of the other families' rules.</summary>
    Other,
}

/// <summary>A chat prompt's size: its <c>o200k_base</c> tokens (framing, tools and schema included), how many
/// characters are CJK, and its media. <see cref="For"/> gives the bound for one provider.</summary>
public sealed record PromptEstimate(int O200kTokens, int CjkCharacters, IReadOnlyList<MediaSize> Media)
{
    public static TokenizerFamily FamilyOf(ProviderKind kind) =>
        string.Equals(kind.Name, ProviderKinds.OpenAI.Name, StringComparison.OrdinalIgnoreCase) ? TokenizerFamily.OpenAi
        : kind.Protocol switch
        {
            ProviderProtocol.Anthropic => TokenizerFamily.Anthropic,
            ProviderProtocol.Gemini => TokenizerFamily.Gemini,
            _ => TokenizerFamily.Other,
        };

    public int For(ProviderKind kind) => For(FamilyOf(kind));

    public int For(TokenizerFamily family)
    {
        long text = family == TokenizerFamily.OpenAi ? O200kTokens : TokenEstimator.Pessimistic(O200kTokens, CjkCharacters);
        long media = 0;
        foreach (var part in Media)
        {
            media += part.Tokens(family);
        }
        return TokenEstimator.Clamp(text + media);
    }

    /// <summary>The bound for any provider (rate limits, the record's estimate before a target is chosen): the
    /// <see cref="TokenizerFamily.Other"/> bound, which is the largest of every rule.</summary>
    public int Max => For(TokenizerFamily.Other);
}
