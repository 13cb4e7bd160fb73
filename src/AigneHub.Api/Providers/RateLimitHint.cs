using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers;

/// <summary>
/// What a provider's 429 says about when to come back and what is limited, read from the signals the providers
/// actually send, first match wins:
/// <list type="number">
/// <item><c>retry-after-ms</c> (Azure OpenAI, OpenAI-compatible gateways): milliseconds.</item>
/// <item><c>retry-after</c> (OpenAI, Anthropic, RFC 9110): delta seconds or an HTTP date.</item>
/// <item>Gemini's error body: <c>google.rpc.RetryInfo.retryDelay</c> (<c>"29.7s"</c>); a
/// <c>google.rpc.QuotaFailure</c> violation with a <c>model</c> quota dimension means only that model is limited.</item>
/// <item>OpenAI's <c>x-ratelimit-reset-requests</c>/<c>-tokens</c> (<c>"1s"</c>, <c>"6m0s"</c>, <c>"20ms"</c>) of
/// whichever limit is exhausted (<c>x-ratelimit-remaining-…: 0</c>). Those headers describe the model's own
/// limit (OpenAI limits per model), so a 429 they explain cools only that model.</item>
/// </list>
/// </summary>
public readonly record struct RateLimitHint(TimeSpan? RetryAfter, bool ModelScoped)
{
    public static RateLimitHint Read(HttpResponseHeaders headers, JsonNode? errorBody, DateTimeOffset now)
    {
        var modelScoped = GeminiModelQuota(errorBody);
        if (First(headers, "retry-after-ms") is { } ms
            && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return new(TimeSpan.FromMilliseconds(Math.Min(millis, int.MaxValue)), modelScoped);
        }
        if (RetryAfterHeader(headers, now) is { } retryAfter)
        {
            return new(retryAfter, modelScoped);
        }
        if (GeminiRetryDelay(errorBody) is { } delay)
        {
            return new(delay, modelScoped);
        }
        if (OpenAiReset(headers) is { } reset)
        {
            return new(reset, true);
        }
        return new(null, modelScoped);
    }

    private static TimeSpan? RetryAfterHeader(HttpResponseHeaders headers, DateTimeOffset now)
    {
        if (First(headers, "retry-after") is not { } value)
        {
            return null;
        }
        // Delta seconds; some providers send a fraction ("1.5"), which RFC 9110 does not allow but means what it says.
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds >= 0 ? TimeSpan.FromSeconds(Math.Min(seconds, int.MaxValue)) : null;
        }
        return DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? date > now ? date - now : TimeSpan.Zero
            : null;
    }

    private static TimeSpan? GeminiRetryDelay(JsonNode? body)
    {
        foreach (var detail in Details(body))
        {
            if (detail["@type"]?.GetValueKind() == System.Text.Json.JsonValueKind.String
                && ((string)detail["@type"]!).EndsWith("google.rpc.RetryInfo", StringComparison.Ordinal)
                && detail["retryDelay"]?.GetValueKind() == System.Text.Json.JsonValueKind.String)
            {
                return GoDuration((string)detail["retryDelay"]!);
            }
        }
        return null;
    }

    private static bool GeminiModelQuota(JsonNode? body)
    {
        foreach (var detail in Details(body))
        {
            if (detail["violations"] is not JsonArray violations)
            {
                continue;
            }
            foreach (var violation in violations)
            {
                if (violation?["quotaDimensions"] is JsonObject dimensions && dimensions.ContainsKey("model"))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static IEnumerable<JsonObject> Details(JsonNode? body) =>
        (body is JsonArray { Count: > 0 } array ? array[0] : body) is JsonObject root
            && root["error"] is JsonObject error && error["details"] is JsonArray details
            ? details.OfType<JsonObject>()
            : [];

    private static TimeSpan? OpenAiReset(HttpResponseHeaders headers)
    {
        TimeSpan? longest = null;
        foreach (var limit in (ReadOnlySpan<string>)["requests", "tokens"])
        {
            if (First(headers, "x-ratelimit-remaining-" + limit) is "0"
                && First(headers, "x-ratelimit-reset-" + limit) is { } reset
                && GoDuration(reset) is { } wait
                && (longest is null || wait > longest))
            {
                longest = wait;
            }
        }
        return longest;
    }

    /// <summary>Go's duration notation (OpenAI and Google both print durations with it): "1h2m3.5s", "20ms", "29.7s".</summary>
    internal static TimeSpan? GoDuration(string text)
    {
        var total = 0.0;
        var i = 0;
        if (text.Length == 0)
        {
            return null;
        }
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            if (i == start || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }
            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }
            double? scale = text[unitStart..i] switch
            {
                "h" => 3600,
                "m" => 60,
                "s" => 1,
                "ms" => 0.001,
                "us" => 0.000001,
                "ns" => 0.000000001,
                _ => null,
            };
            if (scale is null)
            {
                return null;
            }
            total += number * scale.Value;
        }
        return TimeSpan.FromSeconds(Math.Min(total, int.MaxValue));
    }

    private static string? First(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) ? values.FirstOrDefault()?.Trim() : null;
}
