using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Management;

// The model catalogue (/api/admin/models) and model status (/api/v2/status). Types on the wire: chat, embedding,
// image, video.

public sealed record ModelRequest(string? Provider, string? Model, string? Type, string? DisplayName, JsonElement? Metadata, bool? Enabled);

public sealed record ModelResponse(Guid Id, Guid ProviderId, string Provider, string Model, string Type, string? DisplayName,
    JsonElement? Metadata, bool Enabled, DateTimeOffset CreatedAt);

public sealed record ModelStatusResponse(
    bool Available,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error);
