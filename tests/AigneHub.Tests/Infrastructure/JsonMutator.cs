using System.Text;
using System.Text.Json.Nodes;

namespace AigneHub.Tests.Infrastructure;

/// <summary>
/// Deterministic mutations of a valid JSON body for fuzz tests: the same seed gives the same bodies. Each body is
/// the valid one with one to three changes — a wrong type at some field, a nested wrong shape, a removed or unknown
/// field, deep nesting, a huge string, a truncated or byte-flipped text, a non-object root — or, as its only change,
/// a string (or property name) carrying NUL, a lone surrogate or bytes that are not UTF-8. For those the mutation
/// reports where it put the bad text, so a test can check the error names that field.
/// </summary>
public sealed class JsonMutator(int seed)
{
    /// <summary>How the injected text is spelled until the body is turned into bytes (JsonNode cannot hold it).</summary>
    private const string LoneSurrogateMark = "@@LONE@@";
    private const string InvalidUtf8Mark = "@@BYTES@@";

    private static readonly string[] Injections = ["nul", "high", "low", "bytes"];

    private readonly Random _random = new(seed);

    /// <param name="Body">The bytes to send.</param>
    /// <param name="Unstorable">Set when the only change is unstorable text: the param the error must name (null
    /// for the body as a whole), else null and <see cref="Injected"/> false.</param>
    public sealed record Mutation(byte[] Body, string Description, bool Injected, string? Unstorable);

    public Mutation Next(string validJson)
    {
        var root = JsonNode.Parse(validJson)!.AsObject();
        if (_random.Next(3) == 0)
        {
            return Inject(root);
        }
        var changes = new List<string>();
        JsonNode? body = root;
        var count = 1 + _random.Next(3);
        for (var i = 0; i < count; i++)
        {
            body = Mutate(body, changes);
        }
        var text = body?.ToJsonString() ?? "null";
        switch (_random.Next(12))
        {
            case 0:
                var cut = _random.Next(text.Length);
                changes.Add($"truncated at {cut}");
                text = text[..cut];
                break;
            case 1:
                var at = _random.Next(text.Length);
                var flipped = (char)_random.Next(32, 127);
                changes.Add($"char {at} → '{flipped}'");
                text = text[..at] + flipped + text[(at + 1)..];
                break;
        }
        return new Mutation(Encoding.UTF8.GetBytes(text), string.Join("; ", changes), false, null);
    }

    private Mutation Inject(JsonObject root)
    {
        var kind = Injections[_random.Next(Injections.Length)];
        var bad = kind switch
        {
            "nul" => "a\u0000b",
            "bytes" => InvalidUtf8Mark,
            _ => LoneSurrogateMark,
        };
        var strings = Paths(root).Where(p => p.Node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String).ToList();
        string? param;
        if (strings.Count > 0 && _random.Next(4) != 0)
        {
            var (path, node) = strings[_random.Next(strings.Count)];
            node!.ReplaceWith(JsonValue.Create(bad));
            param = path;
        }
        else
        {
            // A property name carrying it: the error can only point at the object holding the name.
            var objects = Paths(root).Where(p => p.Node is JsonObject).ToList();
            var (path, node) = objects[_random.Next(objects.Count)];
            node!.AsObject()[bad] = 1;
            param = path.Length == 0 ? null : path;
        }
        var text = root.ToJsonString();
        byte[] bytes;
        if (kind == "bytes")
        {
            bytes = Replace(Encoding.UTF8.GetBytes(text), Encoding.UTF8.GetBytes(InvalidUtf8Mark), [0xC3, 0x28]);
        }
        else
        {
            text = text.Replace(LoneSurrogateMark, kind == "high" ? @"\ud800x" : @"x\udfff", StringComparison.Ordinal);
            bytes = Encoding.UTF8.GetBytes(text);
        }
        return new Mutation(bytes, $"{kind} at {param ?? "(name at root)"}", true, param);
    }

    private JsonNode? Mutate(JsonNode? body, List<string> changes)
    {
        if (body is not JsonObject root || _random.Next(20) == 0)
        {
            var replacement = WrongValue();
            changes.Add($"root → {replacement?.ToJsonString() ?? "null"}");
            return replacement;
        }
        var all = Paths(root).Where(p => p.Path.Length > 0).ToList();
        switch (_random.Next(6))
        {
            case 0 when all.Count > 0:
            case 1 when all.Count > 0:
            case 2 when all.Count > 0:
                var (path, node) = all[_random.Next(all.Count)];
                var value = WrongValue();
                changes.Add($"{path} → {Short(value)}");
                Replace(node!, value);
                return root;
            case 3 when all.Count > 0:
                var (removed, gone) = all[_random.Next(all.Count)];
                changes.Add($"removed {removed}");
                Remove(gone!);
                return root;
            case 4:
                var name = _random.Next(3) == 0 ? "" : $"extra{_random.Next(100)}";
                var extra = WrongValue();
                changes.Add($"added '{name}': {Short(extra)}");
                root[name] = extra;
                return root;
            default:
                var strings = all.Where(p => p.Node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String).ToList();
                if (strings.Count == 0)
                {
                    return root;
                }
                var (where, target) = strings[_random.Next(strings.Count)];
                var huge = new string((char)('a' + _random.Next(26)), _random.Next(2) == 0 ? 300 : 70_000);
                changes.Add($"{where} → {huge.Length} chars");
                target!.ReplaceWith(JsonValue.Create(huge));
                return root;
        }
    }

    /// <summary>A value of some other type or shape than most fields expect.</summary>
    private JsonNode? WrongValue() => _random.Next(16) switch
    {
        0 => null,
        1 => JsonValue.Create(true),
        2 => JsonValue.Create(0),
        3 => JsonValue.Create(-1),
        4 => JsonValue.Create(1.5),
        5 => JsonNode.Parse("1e400"),
        6 => JsonNode.Parse("123456789012345678901234567890123"),
        7 => JsonValue.Create(""),
        8 => JsonValue.Create("not-a-value"),
        9 => new JsonArray(),
        10 => new JsonObject(),
        11 => new JsonArray(1, "a", null, new JsonObject { ["x"] = new JsonArray() }),
        12 => new JsonObject { ["a"] = new JsonObject { ["b"] = JsonValue.Create(5) } },
        13 => Nested(10 + _random.Next(20)),
        14 => Nested(70 + _random.Next(60)),
        _ => JsonValue.Create("2099-13-45T99:00:00Z"),
    };

    private static JsonNode Nested(int depth)
    {
        JsonNode node = new JsonArray();
        for (var i = 0; i < depth; i++)
        {
            node = i % 2 == 0 ? new JsonArray(node) : new JsonObject { ["n"] = node };
        }
        return node;
    }

    private static string Short(JsonNode? value)
    {
        var text = value?.ToJsonString() ?? "null";
        return text.Length > 40 ? text[..40] + "…" : text;
    }

    private static void Replace(JsonNode node, JsonNode? value)
    {
        switch (node.Parent)
        {
            case JsonObject parent:
                parent[node.GetPropertyName()] = value;
                break;
            case JsonArray array:
                array[node.GetElementIndex()] = value;
                break;
        }
    }

    private static void Remove(JsonNode node)
    {
        switch (node.Parent)
        {
            case JsonObject parent:
                parent.Remove(node.GetPropertyName());
                break;
            case JsonArray array:
                array.RemoveAt(node.GetElementIndex());
                break;
        }
    }

    /// <summary>Every node with its path as the Api names fields (<c>a.b[1]</c>); the root has the empty path.
    /// Null values are left out: a null has no node to replace.</summary>
    private static List<(string Path, JsonNode? Node)> Paths(JsonNode root)
    {
        var all = new List<(string, JsonNode?)>();
        void Walk(JsonNode node, string path)
        {
            all.Add((path, node));
            switch (node)
            {
                case JsonObject o:
                    foreach (var (name, child) in o.ToList())
                    {
                        if (child is not null)
                        {
                            Walk(child, path.Length == 0 ? name : $"{path}.{name}");
                        }
                    }
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        if (a[i] is { } child)
                        {
                            Walk(child, $"{path}[{i}]");
                        }
                    }
                    break;
            }
        }
        Walk(root, "");
        return all;
    }

    private static byte[] Replace(byte[] text, byte[] mark, byte[] with)
    {
        var at = text.AsSpan().IndexOf(mark);
        return at < 0 ? text : [.. text.AsSpan(0, at), .. with, .. text.AsSpan(at + mark.Length)];
    }
}
