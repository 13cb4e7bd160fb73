using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Aliases;

// Model aliases (/api/admin/aliases): a name callers send without a provider — exact (claude-sonnet-4-5) or a prefix
// pattern (claude-*, o[0-9]*) — and its provider/model targets in order of preference, '*' in a target standing for
// the requested name. On PUT an omitted (or null) field keeps its value.

public sealed record ModelAliasRequest(string? Alias, List<string>? Targets, bool? Enabled);

public sealed record ModelAliasResponse(Guid Id, string Alias, bool Pattern, List<string> Targets, bool Enabled,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ModelAliasRequest))]
[JsonSerializable(typeof(ModelAliasResponse))]
[JsonSerializable(typeof(List<ModelAliasResponse>))]
public sealed partial class AliasesJsonContext : JsonSerializerContext;
