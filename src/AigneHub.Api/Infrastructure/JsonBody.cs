using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AigneHub.Api.Infrastructure;

/// <summary>
/// The one reader of every management and self-service request body (sign-in, users, keys, apps, providers,
/// credentials, catalogue, rates, grants). <see cref="ReadAsync"/> answers a 400 in the common error shape, never an
/// exception, for a body that is too large, not JSON, nested too deep or not an object, and for any string or
/// property name Postgres cannot store: one holding NUL (<c>\u0000</c>; <c>text</c> and <c>jsonb</c> both refuse it)
/// or one that is not valid Unicode (a lone surrogate escape, invalid UTF-8). What it hands on is then read either
/// into a source-generated contract (<see cref="As"/>, via <see cref="ApiErrors.ReadBodyAsync"/>) or field by field:
/// the field readers below parse money from the raw JSON text (or a decimal string) straight into
/// <see cref="decimal"/>, never through a binary float, and collect every problem per field for
/// <see cref="ApiErrors.BadRequest(IReadOnlyDictionary{string, string[]})"/>.
/// </summary>
internal sealed class JsonBody(JsonElement root)
{
    public const int MaxBytes = 64 * 1024;

    public const int MaxDepth = 64;

    public Dictionary<string, string[]> Errors { get; } = new(StringComparer.Ordinal);

    public JsonElement Root { get; } = root;

    public static async Task<(JsonBody? Body, JsonHttpResult<ErrorEnvelope>? Error)> ReadAsync(HttpRequest request)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }
        // Read at most one byte more than allowed: a chunked body has no Content-Length to refuse it by.
        var buffer = ArrayPool<byte>.Shared.Rent(MaxBytes + 1);
        ReadOnlyMemory<byte> json = default;
        try
        {
            var length = 0;
            int read;
            while (length <= MaxBytes && (read = await request.Body.ReadAsync(buffer.AsMemory(length, MaxBytes + 1 - length), request.HttpContext.RequestAborted)) > 0)
            {
                length += read;
            }
            if (length > MaxBytes)
            {
                return (null, TooLarge());
            }
            json = buffer.AsMemory(0, length);
            if (json.Span.StartsWith("\uFEFF"u8))
            {
                json = json[3..];
            }
            if (json.Span.Trim(" \t\r\n"u8).IsEmpty)
            {
                return (null, ApiErrors.BadRequest("The request body is required (JSON)."));
            }
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaxDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, ApiErrors.BadRequest("The request body must be a JSON object."));
            }
            if (FindUnstorableText(document.RootElement, "") is { } problem)
            {
                return (null, ApiErrors.BadRequest(problem.Message, problem.Param));
            }
            return (new JsonBody(document.RootElement.Clone()), null);
        }
        catch (JsonException ex)
        {
            var path = PathAtSyntaxError(json.Span);
            return (null, ApiErrors.BadRequest($"The request body is not valid JSON: {ex.Message}", path));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The body as its contract; a value of the wrong type is a 400 naming the field from the reader's path.</summary>
    public (T? Value, JsonHttpResult<ErrorEnvelope>? Error) As<T>(JsonTypeInfo<T> type) where T : class
    {
        try
        {
            return Root.Deserialize(type) is { } value ? (value, null) : (null, ApiErrors.BadRequest("The request body must be a JSON object."));
        }
        catch (JsonException ex)
        {
            var param = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            return (null, ApiErrors.BadRequest(param is null ? "The request body does not have the expected shape." : $"'{param}' has the wrong type or is malformed.", param));
        }
    }

    private static JsonHttpResult<ErrorEnvelope> TooLarge() => ApiErrors.BadRequest($"The request body must be at most {MaxBytes} bytes.");

    /// <summary>The first string or property name (depth first) that holds NUL or is not valid Unicode, with its path.</summary>
    private static (string? Param, string Message)? FindUnstorableText(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var where = path.Length == 0 ? "the body" : $"'{path}'";
                    if (TryGetText(() => property.Name) is not { } name)
                    {
                        return (NullIfRoot(path), $"A property name in {where} is not valid Unicode text (a lone surrogate or invalid UTF-8).");
                    }
                    if (name.Contains('\0', StringComparison.Ordinal))
                    {
                        return (NullIfRoot(path), $"A property name in {where} contains the NUL character (\\u0000), which cannot be stored.");
                    }
                    if (FindUnstorableText(property.Value, path.Length == 0 ? name : $"{path}.{name}") is { } problem)
                    {
                        return problem;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (FindUnstorableText(item, $"{path}[{index++}]") is { } problem)
                    {
                        return problem;
                    }
                }
                return null;
            case JsonValueKind.String:
                var text = TryGetText(element.GetString);
                if (text is null)
                {
                    return (path, $"'{path}' is not valid Unicode text (a lone surrogate or invalid UTF-8).");
                }
                return text.Contains('\0', StringComparison.Ordinal)
                    ? (path, $"'{path}' must not contain the NUL character (\\u0000), which cannot be stored.")
                    : null;
            default:
                return null;
        }
    }

    /// <summary>
    /// The field being read where the JSON text breaks off or goes wrong (<c>{"name":</c> → <c>name</c>), null when
    /// that is the body as a whole; the document parser reports only a byte position.
    /// </summary>
    private static string? PathAtSyntaxError(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        // One entry per open container: the property last named in an object, the element being read in an array.
        var path = new List<(string? Name, int Index)>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName when path.Count > 0:
                        string name;
                        try
                        {
                            name = reader.GetString() ?? "";
                        }
                        catch (InvalidOperationException)
                        {
                            name = "?";
                        }
                        path[^1] = (name, -1);
                        break;
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        path.Add((null, reader.TokenType == JsonTokenType.StartArray ? 0 : -1));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray when path.Count > 0:
                        path.RemoveAt(path.Count - 1);
                        Advance(path);
                        break;
                    default:
                        Advance(path);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            // Where it threw is the answer.
        }
        if (path.Count == 0 || path[0].Index >= 0)
        {
            return null;
        }
        var text = new System.Text.StringBuilder();
        foreach (var (name, index) in path)
        {
            if (index >= 0)
            {
                text.Append('[').Append(index).Append(']');
            }
            else if (name is not null)
            {
                text.Append(text.Length == 0 ? "" : ".").Append(name);
            }
        }
        return text.Length == 0 ? null : text.ToString();

        // A complete element of an array moves its index on, so the index names the element being read.
        static void Advance(List<(string? Name, int Index)> path)
        {
            if (path.Count > 0 && path[^1].Index >= 0)
            {
                path[^1] = (null, path[^1].Index + 1);
            }
        }
    }

    private static string? NullIfRoot(string path) => path.Length == 0 ? null : path;

    /// <summary>The decoded text, or null when the JSON holds a lone surrogate or invalid UTF-8 (the reader throws then).</summary>
    private static string? TryGetText(Func<string?> read)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException)
        {
            return null;
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
