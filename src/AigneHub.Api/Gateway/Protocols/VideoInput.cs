using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;

namespace AigneHub.Api.Gateway.Protocols;

/// <summary>A video request's fields as every protocol spells them: <c>prompt</c>, <c>seconds</c> (a string, as
/// OpenAI and the AIGNE SDK send it, or a number), <c>size</c> (<c>{width}x{height}</c>).</summary>
public static class VideoInput
{
    /// <summary>The model when the caller names none: OpenAI's default, and the AIGNE SDK's <c>AIGNE_HUB_VIDEO_MODEL</c>.</summary>
    public const string DefaultModel = "openai/sora-2";

    /// <summary>Longer than any provider makes in one job.</summary>
    public const int MaxSeconds = 600;

    /// <param name="options">Where fields absent from <paramref name="fields"/> are looked up (AIGNE's <c>modelOptions</c>).</param>
    public static VideoRequest Read(JsonFields fields, string model, JsonFields? options = null)
    {
        var prompt = fields.String("prompt") is { Length: > 0 } p ? p : throw GatewayException.BadRequest($"'{fields.PathOf("prompt")}' is required.", fields.PathOf("prompt"));
        var (secondsNode, secondsPath) = Pick(fields, options, "seconds");
        var (sizeNode, sizePath) = Pick(fields, options, "size");
        return new VideoRequest { Model = model, Prompt = prompt, Seconds = Seconds(secondsNode, secondsPath), Size = Size(sizeNode, sizePath) };
    }

    /// <summary>The parameters kept on the call record.</summary>
    public static JsonObject Parameters(VideoRequest request) => new()
    {
        ["seconds"] = request.Seconds,
        ["size"] = request.Size,
    };

    private static (JsonNode? Node, string Path) Pick(JsonFields fields, JsonFields? options, string name) =>
        fields[name] is not null || options is not { } o || o[name] is not { } other ? (fields[name], fields.PathOf(name)) : (other, o.PathOf(name));

    private static int? Seconds(JsonNode? node, string path)
    {
        int? seconds = node is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? int.TryParse(v.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0 ? parsed
                : throw JsonFields.Invalid(path, "must be a whole number of seconds")
            : JsonFields.ReadPositiveInt(node, path);
        return seconds > MaxSeconds ? throw JsonFields.Invalid(path, $"must be at most {MaxSeconds}") : seconds;
    }

    private static string? Size(JsonNode? node, string path)
    {
        var size = JsonFields.ReadString(node, path);
        return size is null || (size.Split('x') is [var w, var h] && int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var width)
            && int.TryParse(h, NumberStyles.None, CultureInfo.InvariantCulture, out var height) && width is > 0 and <= 8192 && height is > 0 and <= 8192)
            ? size
            : throw JsonFields.Invalid(path, "must be {width}x{height}, e.g. 1280x720");
    }
}
