using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Gateway.Protocols;

/// <summary>
/// The one typed reader of caller JSON, shared by every protocol. A <see cref="JsonFields"/> is one JSON object of
/// the caller's body (parsed by <see cref="CallerBody"/>, so all its text is valid UTF-16) and the path it sits at
/// (<c>messages[2]</c>); each accessor reads one member and either returns it (null when absent or JSON null) or
/// throws a 400 <see cref="GatewayException"/> naming the member's full path. Nothing here can fail any other way:
/// no explicit casts on <see cref="JsonNode"/>, no indexing of a node that may not be an object, strings checked for
/// what the call record cannot store (<c>\u0000</c>), numbers checked to be finite.
/// </summary>
public readonly struct JsonFields(JsonObject node, string path)
{
    public JsonObject Node { get; } = node;

    /// <summary>Where this object sits in the body ("" for the body itself).</summary>
    public string Path { get; } = path;

    /// <summary>The raw member, for the few places that take any JSON (tool parameters, schemas).</summary>
    public JsonNode? this[string name] => Node[name];

    /// <summary>The full path of a member, for error messages.</summary>
    public string PathOf(string name) => Join(Path, name);

    public string? String(string name) => ReadString(Node[name], PathOf(name));

    /// <summary>A string of at most <paramref name="maxLength"/> characters (a column of the call record, say).</summary>
    public string? String(string name, int maxLength)
    {
        var value = String(name);
        return value?.Length > maxLength ? throw Invalid(PathOf(name), $"must be at most {maxLength} characters") : value;
    }

    /// <summary>Free text (message content, prompts, tool arguments): any string, <c>\u0000</c> included.</summary>
    public string? Text(string name) => ReadText(Node[name], PathOf(name));

    public double? Number(string name) => ReadNumber(Node[name], PathOf(name));

    /// <summary>A whole number of at least 1.</summary>
    public int? PositiveInt(string name) => ReadPositiveInt(Node[name], PathOf(name));

    /// <summary>A boolean; absent or JSON null is false.</summary>
    public bool Flag(string name) => Node[name] switch
    {
        null => false,
        JsonValue v when v.GetValueKind() is JsonValueKind.True => true,
        JsonValue v when v.GetValueKind() is JsonValueKind.False => false,
        _ => throw Invalid(PathOf(name), "must be a boolean"),
    };

    public JsonFields? Object(string name) => ReadObject(Node[name], PathOf(name));

    public JsonArray? Array(string name) => Node[name] switch
    {
        null => null,
        JsonArray a => a,
        _ => throw Invalid(PathOf(name), "must be an array"),
    };

    /// <summary>A required object member.</summary>
    public JsonFields RequireObject(string name) =>
        Object(name) ?? throw Invalid(PathOf(name), "must be an object");

    /// <summary>One of the named values, as the caller wrote it: <c>'{path}' must be one of a, b</c> otherwise.</summary>
    public string? OneOf(string name, params string[] allowed)
    {
        var value = String(name);
        return value is null || allowed.Contains(value, StringComparer.Ordinal)
            ? value
            : throw Invalid(PathOf(name), $"must be {Alternatives(allowed)}");
    }

    /// <summary>
    /// Copies of the named members for the call record (kept as <c>jsonb</c>), each checked to be storable.
    /// Absent members are left out.
    /// </summary>
    public JsonObject Kept(params string[] names)
    {
        var kept = new JsonObject();
        foreach (var name in names)
        {
            if (Node[name] is JsonNode value)
            {
                CheckStorable(value, PathOf(name));
                kept[name] = value.DeepClone();
            }
        }
        return kept;
    }

    /// <summary>A copy of this whole object for the call record, checked to be storable.</summary>
    public JsonObject KeptWhole()
    {
        CheckStorable(Node, Path);
        return (JsonObject)Node.DeepClone();
    }

    // :: Reading a node at a known path (array items, values in either of two shapes).

    public static string? ReadString(JsonNode? node, string path)
    {
        var text = ReadText(node, path);
        return text is not null && text.Contains('\0', StringComparison.Ordinal)
            ? throw Invalid(path, "must not contain \\u0000")
            : text;
    }

    public static string? ReadText(JsonNode? node, string path)
    {
        if (node is null)
        {
            return null;
        }
        return node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : throw Invalid(path, "must be a string");
    }

    public static double? ReadNumber(JsonNode? node, string path)
    {
        if (node is null)
        {
            return null;
        }
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<double>(out var d) && double.IsFinite(d))
        {
            return d;
        }
        throw Invalid(path, "must be a number");
    }

    public static int? ReadPositiveInt(JsonNode? node, string path)
    {
        var n = ReadNumber(node, path);
        if (n is null)
        {
            return null;
        }
        if (n < 1 || n > int.MaxValue || n != Math.Floor(n.Value))
        {
            throw Invalid(path, "must be a positive integer");
        }
        return (int)n;
    }

    public static JsonFields? ReadObject(JsonNode? node, string path) => node switch
    {
        null => null,
        JsonObject o => new JsonFields(o, path),
        _ => throw Invalid(path, "must be an object"),
    };

    /// <summary>Item <paramref name="index"/> of an array at <paramref name="path"/>, which must be an object.</summary>
    public static JsonFields ItemAt(JsonArray array, int index, string path) =>
        ReadObject(array[index], $"{path}[{index}]") ?? throw Invalid($"{path}[{index}]", "must be an object");

    /// <summary>A required model name: present, a string, sane length, nothing the call record cannot store.</summary>
    public static string RequireModel(JsonNode? node, string path)
    {
        if (node is null)
        {
            throw GatewayException.BadRequest($"'{path}' is required.", path);
        }
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String || ReadString(node, path) is not { Length: > 0 and <= 200 } model)
        {
            throw Invalid(path, "must be a non-empty string of at most 200 characters");
        }
        return model.Trim();
    }

    public static GatewayException Invalid(string path, string problem) => GatewayException.BadRequest($"'{path}' {problem}.", path);

    public static string Join(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";

    private static string Alternatives(string[] allowed) =>
        allowed.Length == 1 ? allowed[0] : $"{string.Join(", ", allowed[..^1])} or {allowed[^1]}";

    /// <summary>Postgres <c>jsonb</c> takes no <c>\u0000</c> (in values or member names) and no number beyond its range
    /// (anything a double cannot hold is refused).</summary>
    private static void CheckStorable(JsonNode? node, string path)
    {
        switch (node)
        {
            case null:
                return;
            case JsonObject o:
                foreach (var (key, value) in o)
                {
                    if (key.Contains('\0', StringComparison.Ordinal))
                    {
                        throw Invalid(path, "has a member name that cannot be stored");
                    }
                    CheckStorable(value, Join(path, key));
                }
                return;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    CheckStorable(a[i], $"{path}[{i}]");
                }
                return;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                ReadString(v, path);
                return;
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                ReadNumber(v, path);
                return;
        }
    }
}
