using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Audit;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(AuditPageResponse))]
public sealed partial class AuditJsonContext : JsonSerializerContext;
