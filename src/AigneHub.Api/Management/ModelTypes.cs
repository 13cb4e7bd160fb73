using AigneHub.Data;

namespace AigneHub.Api.Management;

/// <summary>Model types as the wire spells them (chat, embedding, image, video, audio).</summary>
internal static class ModelTypes
{
    public static bool TryParse(string? text, out ModelType type) =>
        Enum.TryParse(text, ignoreCase: true, out type) && Enum.IsDefined(type) && !int.TryParse(text, out _);

    public static string Name(ModelType type) => type.ToString().ToLowerInvariant();
}
