using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Usage;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(QuotaResponse))]
[JsonSerializable(typeof(TrendsResponse))]
[JsonSerializable(typeof(PagedResponse<ModelCallResponse>))]
[JsonSerializable(typeof(UsageBreakdownResponse))]
public sealed partial class UsageJsonContext : JsonSerializerContext;
