using System.Text.Json;
using System.Text.Json.Serialization;

namespace AigneHub.Contracts.Billing;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ModelRateResponse))]
[JsonSerializable(typeof(List<ModelRateResponse>))]
[JsonSerializable(typeof(List<ModelRateHistoryResponse>))]
[JsonSerializable(typeof(ModelRateRequest))]
[JsonSerializable(typeof(CreditsResponse))]
[JsonSerializable(typeof(PagedResponse<LedgerEntryResponse>))]
[JsonSerializable(typeof(GrantRequest))]
[JsonSerializable(typeof(GrantResponse))]
[JsonSerializable(typeof(List<DeadMeterEventResponse>))]
public sealed partial class BillingJsonContext : JsonSerializerContext;
