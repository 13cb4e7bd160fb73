using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Protocols;

/// <summary>Chat fields both protocols spell alike.</summary>
public static class ChatInput
{
    /// <summary><c>auto</c>, <c>none</c>, <c>required</c> or <c>{type:"function", function:{name}}</c>.</summary>
    public static ToolChoice? ReadToolChoice(JsonNode? node, string path)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return ReadToolChoiceMode(v, path);
            case JsonObject o when new JsonFields(o, path).Object("function")?.String("name") is { Length: > 0 } name:
                return new ToolChoice(ToolChoiceMode.Function, name);
            default:
                throw GatewayException.BadRequest($"'{path}' must be auto, none, required or {{type:'function', function:{{name}}}}.", path);
        }
    }

    /// <summary>The string form of an OpenAI-style tool choice (chat completions and Responses share it).</summary>
    public static ToolChoice ReadToolChoiceMode(JsonValue value, string path) => JsonFields.ReadString(value, path) switch
    {
        "auto" => new ToolChoice(ToolChoiceMode.Auto),
        "none" => new ToolChoice(ToolChoiceMode.None),
        "required" => new ToolChoice(ToolChoiceMode.Required),
        var other => throw GatewayException.BadRequest($"'{path}' has an unknown value '{other}'.", path),
    };

    /// <summary>Tool-call arguments as JSON text: a string as it is, anything else serialised, absent as <c>{}</c>.</summary>
    public static string ArgumentsText(JsonNode? node, string path) => node switch
    {
        null => "{}",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonFields.ReadText(v, path)!,
        _ => node.ToJsonString(),
    };

    /// <summary>A tool's JSON Schema as the neutral model keeps it.</summary>
    public static JsonElement? Schema(JsonNode? node) => node?.Deserialize<JsonElement>();
}

/// <summary>The embedding input both protocols take.</summary>
public static class EmbeddingInput
{
    public const int MaxInputs = 2048;

    /// <summary>A string or a non-empty array of strings (at most <see cref="MaxInputs"/>).</summary>
    public static List<string> Read(JsonNode? node, string path)
    {
        List<string> inputs;
        switch (node)
        {
            case null:
                throw GatewayException.BadRequest($"'{path}' is required.", path);
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                inputs = [JsonFields.ReadText(v, path)!];
                break;
            case JsonArray a when a.Count > 0 && a.All(x => x is JsonValue xv && xv.GetValueKind() == JsonValueKind.String):
                inputs = new List<string>(a.Count);
                for (var i = 0; i < a.Count; i++)
                {
                    inputs.Add(JsonFields.ReadText(a[i], $"{path}[{i}]")!);
                }
                break;
            default:
                throw GatewayException.BadRequest($"'{path}' must be a string or a non-empty array of strings.", path);
        }
        return inputs.Count <= MaxInputs ? inputs : throw GatewayException.BadRequest($"'{path}' may hold at most {MaxInputs} items.", path);
    }
}

/// <summary>The image request both protocols take, with one set of checks (the prompt, and 1 to 10 images).</summary>
public static class ImageInput
{
    public const int MaxImages = 10;

    /// <summary>Size and quality are kept on the call record, in columns of this width.</summary>
    private const int MaxOptionLength = 32;

    /// <param name="responseFormat">Reads the protocol's own format field (its name and values differ).</param>
    public static ImageRequest Read(JsonFields o, string model, Func<string> responseFormat)
    {
        var prompt = o.Text("prompt");
        if (string.IsNullOrWhiteSpace(prompt))
        {
            throw GatewayException.BadRequest($"'{o.PathOf("prompt")}' is required.", o.PathOf("prompt"));
        }
        var n = o.PositiveInt("n") ?? 1;
        if (n > MaxImages)
        {
            throw GatewayException.BadRequest($"'{o.PathOf("n")}' must be between 1 and {MaxImages}.", o.PathOf("n"));
        }
        var format = responseFormat();
        return new ImageRequest
        {
            Model = model,
            Prompt = prompt,
            N = n,
            Size = o.String("size", MaxOptionLength),
            Quality = o.String("quality", MaxOptionLength),
            Style = o.String("style"),
            ResponseFormat = format,
        };
    }
}
