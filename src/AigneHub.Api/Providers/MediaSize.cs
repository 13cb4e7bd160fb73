using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace AigneHub.Api.Providers;

/// <summary>What a media part says about its size, read from the bytes it carries (never fetched): image dimensions
/// from the PNG, GIF, WebP or JPEG header, audio's duration from its container (<see cref="AudioContainer"/>), a PDF's pages; for anything else its length. A URL
/// part knows only its type (from the extension). <see cref="Tokens"/> prices it per provider family by that
/// family's published rule, or its largest case when the size is unknown.</summary>
public sealed partial record MediaSize(string MediaType, long Bytes, bool Inline, string? Detail = null,
    int? Width = null, int? Height = null, double? Seconds = null, int? Pages = null)
{
    // Published per-family rules (docs of each provider, 2025): the largest case where a rule has variants.
    private const int OpenAiLowDetail = 85;
    private const int OpenAiLargestImage = 3779;        // patch models: 1536 patches × 2.46 (gpt-4.1-nano); tiles top out at 1445
    private const int AnthropicLargestImage = 1600;     // images are resized to ≤ ~1.15 MP: (w × h) / 750
    private const int GeminiTile = 258;                 // per 768 × 768 tile (images ≤ 384 px: one tile)
    private const int GeminiLargestUnknownImage = 16 * GeminiTile;
    private const int GeminiHighResolutionImage = 1120; // Gemini 3's default (high) media resolution
    private const int AudioTokensPerSecond = 32;        // Gemini; the highest published rate
    private const int VideoTokensPerSecond = 300;       // Gemini: 263 per second of frames + 32 of audio, rounded up
    private const int TextTokensPerPdfPage = 3000;      // Anthropic and OpenAI read a page's text as well as its image
    private const int GeminiTokensPerPdfPage = 560;     // a page is an image at the default resolution
    private const int OpenAiPdfPageLimit = 100;
    private const int AnthropicPdfPageLimit = 100;
    private const int GeminiPdfPageLimit = 1000;
    private const long LowestVideoBytesPerSecond = 6250;  // 50 kbit/s

    public static MediaSize Of(ImagePart part)
    {
        if (part.AsInlineData() is not var (mediaType, base64))
        {
            return new MediaSize(part.MediaType(), 0, Inline: false, part.Detail);
        }
        mediaType = mediaType.ToLowerInvariant();
        var bytes = (long)base64.Length * 3 / 4;
        if (mediaType.StartsWith("image/", StringComparison.Ordinal))
        {
            // The header is within the first kilobytes (a JPEG's frame header follows its metadata segments).
            var (width, height) = ImageDimensions(Decode(base64, 64 * 1024));
            return new MediaSize(mediaType, bytes, true, part.Detail, width, height);
        }
        if (mediaType.StartsWith("audio/", StringComparison.Ordinal))
        {
            // The container states the duration (an MP4's may be at its end, so the whole part is read).
            var container = AudioContainer.Read(Decode(base64, int.MaxValue));
            return new MediaSize(mediaType, bytes, true, Seconds: container?.UpperBoundSeconds(bytes) ?? bytes / (double)AudioContainer.LowestBytesPerSecond);
        }
        if (mediaType.StartsWith("video/", StringComparison.Ordinal))
        {
            return new MediaSize(mediaType, bytes, true, Seconds: bytes / (double)LowestVideoBytesPerSecond);
        }
        if (mediaType == "application/pdf")
        {
            return new MediaSize(mediaType, bytes, true, Pages: PdfPages(Decode(base64, int.MaxValue)));
        }
        return new MediaSize(mediaType, bytes, true);
    }

    /// <summary>Prompt tokens this part costs with one provider family (an upper bound).</summary>
    public long Tokens(TokenizerFamily family)
    {
        if (family == TokenizerFamily.Other)
        {
            return Math.Max(Tokens(TokenizerFamily.OpenAi), Math.Max(Tokens(TokenizerFamily.Anthropic), Tokens(TokenizerFamily.Gemini)));
        }
        if (MediaType == "application/pdf")
        {
            return family switch
            {
                TokenizerFamily.Gemini => (long)Math.Min(Pages ?? GeminiPdfPageLimit, GeminiPdfPageLimit) * GeminiTokensPerPdfPage,
                TokenizerFamily.Anthropic => (long)Math.Min(Pages ?? AnthropicPdfPageLimit, AnthropicPdfPageLimit) * (TextTokensPerPdfPage + AnthropicLargestImage),
                _ => (long)Math.Min(Pages ?? OpenAiPdfPageLimit, OpenAiPdfPageLimit) * (TextTokensPerPdfPage + OpenAiLargestImage),
            };
        }
        if (MediaType.StartsWith("image/", StringComparison.Ordinal) || !Inline)
        {
            return ImageTokens(family);
        }
        if (Seconds is { } seconds)
        {
            var perSecond = MediaType.StartsWith("video/", StringComparison.Ordinal) ? VideoTokensPerSecond : AudioTokensPerSecond;
            return (long)Math.Ceiling(seconds * perSecond);
        }
        return Bytes; // text or anything else: a token is at least one byte
    }

    private long ImageTokens(TokenizerFamily family)
    {
        if (Width is not { } w || Height is not { } h || w <= 0 || h <= 0)
        {
            return family switch
            {
                TokenizerFamily.OpenAi when string.Equals(Detail, "low", StringComparison.OrdinalIgnoreCase) => OpenAiLowDetail,
                TokenizerFamily.OpenAi => OpenAiLargestImage,
                TokenizerFamily.Anthropic => AnthropicLargestImage,
                _ => GeminiLargestUnknownImage,
            };
        }
        switch (family)
        {
            case TokenizerFamily.OpenAi:
                if (string.Equals(Detail, "low", StringComparison.OrdinalIgnoreCase))
                {
                    return OpenAiLowDetail;
                }
                // Tile models: fit in 2048², shortest side to 768, 170 per 512 tile + 85; patch models: 32 px
                // patches, at most 1536, times the model's multiplier (the largest published one).
                var fit = Math.Min(1.0, 2048.0 / Math.Max(w, h));
                var (tw, th) = (w * fit, h * fit);
                var shortest = Math.Min(1.0, 768.0 / Math.Min(tw, th));
                var tiles = (long)Math.Ceiling(tw * shortest / 512) * (long)Math.Ceiling(th * shortest / 512);
                var patches = Math.Min(1536L, (long)Math.Ceiling(w / 32.0) * (long)Math.Ceiling(h / 32.0));
                return Math.Max(85 + 170 * tiles, (long)Math.Ceiling(patches * 2.46));
            case TokenizerFamily.Anthropic:
                var scale = Math.Min(1.0, 1568.0 / Math.Max(w, h));
                return Math.Min(AnthropicLargestImage, (long)Math.Ceiling(w * scale * (h * scale) / 750));
            default:
                var geminiTiles = Math.Max(w, h) <= 384 ? 1 : (long)Math.Ceiling(w / 768.0) * (long)Math.Ceiling(h / 768.0);
                return Math.Max(geminiTiles * GeminiTile, GeminiHighResolutionImage);
        }
    }

    /// <summary>OpenAI's <c>{w}x{h}</c> image or video size as numbers; null for anything else (<c>auto</c>, <c>2K</c>, absent).</summary>
    public static (int Width, int Height)? Dimensions(string? size) =>
        size?.Split('x') is [var w, var h]
            && int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var width)
            && int.TryParse(h, NumberStyles.None, CultureInfo.InvariantCulture, out var height) && width > 0 && height > 0
            ? (width, height) : null;

    /// <summary>
    /// Of a provider's <paramref name="ratios"/> (written <c>16:9</c> or <c>16x9</c>, returned as written), the one
    /// nearest to a <c>{w}x{h}</c> <paramref name="size"/>, compared on a log scale so that 2:1 and 1:2 are as far
    /// from 1:1; the first of equals wins. Null when the size is not <c>{w}x{h}</c>.
    /// </summary>
    public static string? NearestAspectRatio(string? size, IReadOnlyList<string> ratios)
    {
        if (Dimensions(size) is not var (width, height))
        {
            return null;
        }
        var wanted = Math.Log((double)width / height);
        string? nearest = null;
        var distance = double.MaxValue;
        foreach (var ratio in ratios)
        {
            var parts = ratio.Split(':', 'x');
            var d = Math.Abs(Math.Log(double.Parse(parts[0], CultureInfo.InvariantCulture) / double.Parse(parts[1], CultureInfo.InvariantCulture)) - wanted);
            if (d < distance)
            {
                (nearest, distance) = (ratio, d);
            }
        }
        return nearest;
    }

    private static byte[] Decode(string base64, int maxBytes)
    {
        // Base64 decodes in groups of 4 characters; a prefix is enough for a header.
        var chars = maxBytes >= base64.Length ? base64.Length : Math.Min(base64.Length, maxBytes / 3 * 4);
        var span = base64.AsSpan(0, chars - chars % 4);
        var buffer = new byte[span.Length / 4 * 3];
        return Convert.TryFromBase64Chars(span, buffer, out var written) ? buffer[..written] : [];
    }

    internal static (int? Width, int? Height) ImageDimensions(ReadOnlySpan<byte> b)
    {
        if (b.Length >= 24 && b[0] == 0x89 && b[1..8].SequenceEqual("PNG\r\n\x1a\n"u8))
        {
            return (BinaryPrimitives.ReadInt32BigEndian(b[16..]), BinaryPrimitives.ReadInt32BigEndian(b[20..]));
        }
        if (b.Length >= 10 && b[..4].SequenceEqual("GIF8"u8))
        {
            return (BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), BinaryPrimitives.ReadUInt16LittleEndian(b[8..]));
        }
        if (b.Length >= 30 && b[..4].SequenceEqual("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8))
        {
            var chunk = b[12..16];
            if (chunk.SequenceEqual("VP8 "u8))
            {
                return (BinaryPrimitives.ReadUInt16LittleEndian(b[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(b[28..]) & 0x3FFF);
            }
            if (chunk.SequenceEqual("VP8L"u8))
            {
                var bits = BinaryPrimitives.ReadUInt32LittleEndian(b[21..]);
                return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
            }
            if (chunk.SequenceEqual("VP8X"u8))
            {
                return ((b[24] | b[25] << 8 | b[26] << 16) + 1, (b[27] | b[28] << 8 | b[29] << 16) + 1);
            }
        }
        if (b.Length >= 4 && b[0] == 0xFF && b[1] == 0xD8)
        {
            var i = 2;
            while (i + 9 < b.Length && b[i] == 0xFF)
            {
                var marker = b[i + 1];
                var length = BinaryPrimitives.ReadUInt16BigEndian(b[(i + 2)..]);
                if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                {
                    return (BinaryPrimitives.ReadUInt16BigEndian(b[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(i + 5)..]));
                }
                i += 2 + length;
            }
        }
        return (null, null);
    }

    /// <summary>The page objects a PDF shows; null when it hides them in compressed object streams (the family's
    /// page limit applies then).</summary>
    internal static int? PdfPages(byte[] pdf)
    {
        var text = Encoding.Latin1.GetString(pdf);
        var pages = PageObject().Count(text);
        return pages > 0 && !text.Contains("/ObjStm", StringComparison.Ordinal) ? pages : null;
    }

    [GeneratedRegex(@"/Type\s*/Page(?![a-zA-Z])")]
    private static partial Regex PageObject();
}
