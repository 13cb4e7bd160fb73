using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Admin.Api;

// What the Admin reads that is not a management contract: the gateway's OpenAI-shaped model list (the gateway's
// protocol, read only for the Playground's picker) and the framework's RFC 7807 problem details (a route that fails
// before reaching our error shape). The management wire types come from AigneHub.Contracts.

/// <summary><c>GET /api/v2/models</c> (OpenAI's list shape).</summary>
public sealed record ModelListDto(List<ModelListItem> Data);

public sealed record ModelListItem(string Id, [property: JsonPropertyName("owned_by")] string? OwnedBy);

public sealed record ProblemDto(string? Title, string? Detail, Dictionary<string, string[]>? Errors);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ModelListDto))]
[JsonSerializable(typeof(ProblemDto))]
public sealed partial class AdminJsonContext : JsonSerializerContext;
