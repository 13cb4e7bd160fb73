using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using AigneHub.Data.Billing;

namespace AigneHub.Worker.Jobs;

/// <summary>Where settled charges are reported. Throws when the event was not accepted (it is retried later).</summary>
public interface IMeterSink
{
    Task DeliverAsync(ClaimedMeterEvent meterEvent, CancellationToken cancellationToken);
}

/// <summary>
/// AigneHub's built-in billing service: its ledger was debited in the same statement that settled the call, so
/// delivering the event only acknowledges it.
/// </summary>
internal sealed class LedgerMeterSink : IMeterSink
{
    public Task DeliverAsync(ClaimedMeterEvent meterEvent, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Forwards each event to an external billing system (<c>AigneHub:Billing:MeterSink:Url</c>) as a JSON POST with
/// <c>Idempotency-Key: &lt;model call id&gt;</c>: the receiver de-duplicates redeliveries after a crash. 2xx and
/// 409 (already recorded) count as delivered.
/// </summary>
internal sealed class HttpMeterSink(HttpClient http, Uri url) : IMeterSink
{
    public const string HttpClientName = "meter-sink";

    public async Task DeliverAsync(ClaimedMeterEvent meterEvent, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = JsonContent.Create(new MeterEventPayload(
                meterEvent.ModelCallId, meterEvent.UserId, BillingModel.Format(meterEvent.Credits), "credits", meterEvent.CreatedAt),
                MeterJsonContext.Default.MeterEventPayload),
        };
        request.Headers.Add("Idempotency-Key", meterEvent.ModelCallId.ToString());
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode && response.StatusCode != HttpStatusCode.Conflict)
        {
            throw new HttpRequestException($"Meter sink answered {(int)response.StatusCode} {response.ReasonPhrase}.", null, response.StatusCode);
        }
    }
}

internal sealed record MeterEventPayload(Guid Id, Guid UserId, string Credits, string Unit, DateTimeOffset CreatedAt);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(MeterEventPayload))]
internal sealed partial class MeterJsonContext : JsonSerializerContext;
