using System.Text.Json.Nodes;

namespace AigneHub.Tests.Gateway.Protocols;

/// <summary>
/// Deterministic (seeded) mutations of a valid JSON body: a wrong type at any field, nested wrong shapes, removed
/// and unknown members, <c>\u0000</c>, lone surrogates, deep nesting, huge strings, duplicate keys. Values are drawn
/// from a palette that also holds the protocols' own words ("tool", "json_schema", ...) so that mutations reach the
/// readers' branches, not only their first type check.
/// </summary>
internal sealed class BodyMutator(int seed, int hugeStringLength = 100_000)
{
    // System.Text.Json will not write a lone surrogate: it goes in as a marker, replaced in the text.
    private const string LoneSurrogateMarker = "__lone_surrogate__";

    private static readonly string[] Words =
    [
        "", " ", "x", "a\u0000b", LoneSurrogateMarker, "text", "image_url", "url", "file", "json_object", "json_schema",
        "tool", "user", "system", "agent", "assistant", "function", "router", "auto", "none", "required", "base64",
        "b64_json", "float", "openai/gpt-4o-mini", "nobody/none", "1024x1024",
    ];

    private readonly Random _random = new(seed);

    public string Mutate(string validJson)
    {
        var root = JsonNode.Parse(validJson)!;
        var mutations = 1 + _random.Next(3);
        for (var i = 0; i < mutations; i++)
        {
            root = MutateOnce(root);
        }
        var text = root.ToJsonString().Replace($"\"{LoneSurrogateMarker}\"", "\"\\ud800\"", StringComparison.Ordinal);
        if (text.StartsWith('{') && _random.Next(20) == 0)
        {
            // A duplicate of the first member, with a wrong type.
            text = "{\"model\":5," + text[1..];
        }
        return text;
    }

    private JsonNode MutateOnce(JsonNode root)
    {
        var slots = new List<(JsonNode Parent, string? Key, int Index)>();
        Collect(root, slots);
        if (slots.Count == 0 || _random.Next(25) == 0)
        {
            return Value(); // the whole body replaced
        }
        var (parent, key, index) = slots[_random.Next(slots.Count)];
        var current = key is not null ? parent[key] : parent[index];
        JsonNode? replacement = _random.Next(8) switch
        {
            0 => null,                                                                  // removed (or set to JSON null)
            1 => new JsonArray(current?.DeepClone()),                                   // wrapped in an array
            2 => new JsonObject { ["x"] = current?.DeepClone() },                       // wrapped in an object
            3 => Deep(_random.Next(2, 50)),                                            // nested deep (under the parser's limit)
            4 => new string('z', hugeStringLength),                                    // huge string
            _ => Value(),                                                              // a wrong value
        };
        switch (parent)
        {
            case JsonObject o when key is not null:
                if (replacement is null && _random.Next(2) == 0)
                {
                    o.Remove(key);
                }
                else
                {
                    o[key] = replacement;
                }
                if (_random.Next(6) == 0)
                {
                    o[$"unknown_{_random.Next(100)}"] = Value();
                }
                break;
            case JsonArray a:
                if (replacement is null && _random.Next(2) == 0)
                {
                    a.RemoveAt(index);
                }
                else
                {
                    a[index] = replacement;
                }
                break;
        }
        return root;
    }

    private static void Collect(JsonNode? node, List<(JsonNode Parent, string? Key, int Index)> slots)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    slots.Add((o, key, -1));
                    Collect(value, slots);
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    slots.Add((a, null, i));
                    Collect(a[i], slots);
                }
                break;
        }
    }

    private JsonNode Value() => _random.Next(14) switch
    {
        0 => 5,
        1 => -1,
        2 => 0.5,
        3 => 1e308,
        4 => 2147483648L,
        5 => true,
        6 => false,
        7 => new JsonArray(),
        8 => new JsonArray(5, "x", null),
        9 => new JsonObject(),
        10 => new JsonObject { ["type"] = 5, ["text"] = new JsonArray(), ["function"] = "f" },
        _ => Words[_random.Next(Words.Length)],
    };

    private JsonNode Deep(int depth)
    {
        JsonNode node = Value();
        for (var i = 0; i < depth; i++)
        {
            node = _random.Next(2) == 0 ? new JsonArray(node) : new JsonObject { ["content"] = node };
        }
        return node;
    }
}
