using System.Globalization;
using System.Text.Json;
using AigneHub.Api.Infrastructure;

namespace AigneHub.Api.Billing;

/// <summary>
/// Reads admin request bodies by hand so that money never passes through a binary float: numbers are parsed from
/// their raw JSON text (or from a decimal string) straight into <see cref="decimal"/>. Problems are collected per
/// field and answered in the admin routes' common error shape (<see cref="ApiErrors.BadRequest(IReadOnlyDictionary{string, string[]})"/>).
/// </summary>
internal sealed class JsonBody(JsonElement root)
{
    public const int MaxBytes = 64 * 1024;

    public Dictionary<string, string[]> Errors { get; } = new(StringComparer.Ordinal);

    public JsonElement Root { get; } = root;

    public static async Task<(JsonBody? Body, Dictionary<string, string[]>? Errors)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, new() { [ApiErrors.WholeBody] = [$"The body must be at most {MaxBytes} bytes."] });
        }
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, new() { [ApiErrors.WholeBody] = ["The body must be a JSON object."] });
            }
            return (new JsonBody(doc.RootElement.Clone()), null);
        }
        catch (JsonException ex)
        {
            return (null, new() { [ApiErrors.WholeBody] = [$"The body is not valid JSON: {ex.Message}"] });
        }
    }

    public bool Has(string name) => Root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    public string? String(string name, bool required, int maxLength = 200)
    {
        if (!Root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(name, $"'{name}' is required.");
            }
            return null;
        }
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
        {
            Error(name, $"'{name}' must be a non-empty string.");
            return null;
        }
        var s = v.GetString()!.Trim();
        if (s.Length > maxLength)
        {
            Error(name, $"'{name}' must be at most {maxLength} characters.");
            return null;
        }
        return s;
    }

    /// <summary>A decimal from a JSON number or a decimal string, within [min, max] and at most <paramref name="maxScale"/> places.</summary>
    public decimal? Decimal(string name, bool required, decimal min, decimal max, int maxScale)
    {
        if (!Root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(name, $"'{name}' is required.");
            }
            return null;
        }
        if (!TryDecimal(v, out var value))
        {
            Error(name, $"'{name}' must be a decimal number or a decimal string.");
            return null;
        }
        if (value < min || value > max)
        {
            Error(name, $"'{name}' must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}.");
            return null;
        }
        if (value.Scale > maxScale && value != Math.Round(value, maxScale))
        {
            Error(name, $"'{name}' may have at most {maxScale} decimal places.");
            return null;
        }
        return value;
    }

    public bool? Bool(string name)
    {
        if (!Root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return v.GetBoolean();
        }
        Error(name, $"'{name}' must be true or false.");
        return null;
    }

    public DateTimeOffset? Timestamp(string name)
    {
        if (!Root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            return at.ToUniversalTime();
        }
        Error(name, $"'{name}' must be an ISO 8601 timestamp.");
        return null;
    }

    public JsonElement? Object(string name)
    {
        if (!Root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.Object)
        {
            return v;
        }
        Error(name, $"'{name}' must be a JSON object.");
        return null;
    }

    public void Error(string field, string message) =>
        Errors[field] = Errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];

    public static bool TryDecimal(JsonElement value, out decimal result)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.String => value.GetString(),
            _ => null,
        };
        result = 0;
        return text is { Length: > 0 and <= 64 }
            && decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out result);
    }
}
