using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AigneHub.Api.Providers;

/// <summary>
/// How much generated text a provider's raw JSON holds: the characters of the string values of the named
/// properties (a wire's text, tool-argument and reasoning fields), wherever they sit. A pass-through adapter uses it
/// so that a call whose usage never came is estimated from what was delivered, through the same
/// <see cref="TokenEstimator"/> as a translated call — never from the size of the JSON around it.
/// </summary>
public static class GeneratedText
{
    /// <summary>Chat completions: message or delta text, tool arguments, reasoning text, refusals.</summary>
    public static readonly string[] ChatCompletionsFields = ["content", "arguments", "reasoning_content", "refusal"];

    public static int Count(string json, string[] fields)
    {
        TryCount(json, fields, out var characters);
        return characters;
    }

    /// <summary>Counts as <see cref="Count(string, string[])"/>; false when the text is not one complete JSON value
    /// (a torn or garbled event), with what was read before the fault counted.</summary>
    public static bool TryCount(string json, string[] fields, out int characters)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, buffer);
            return TryCount(buffer.AsSpan(0, length), fields, out characters);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static int Count(ReadOnlySpan<byte> json, string[] fields)
    {
        TryCount(json, fields, out var characters);
        return characters;
    }

    private static bool TryCount(ReadOnlySpan<byte> json, string[] fields, out int characters)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        characters = 0;
        var counting = false;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        counting = Matches(ref reader, fields);
                        break;
                    case JsonTokenType.String when counting:
                        characters += reader.ValueIsEscaped ? reader.GetString()!.Length : Encoding.UTF8.GetCharCount(reader.ValueSpan);
                        counting = false;
                        break;
                    default:
                        counting = false;
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a provider's oddity): what was read so far counts.
            return false;
        }
        return reader.BytesConsumed > 0;
    }

    private static bool Matches(ref Utf8JsonReader reader, string[] fields)
    {
        foreach (var field in fields)
        {
            if (reader.ValueTextEquals(field))
            {
                return true;
            }
        }
        return false;
    }
}
