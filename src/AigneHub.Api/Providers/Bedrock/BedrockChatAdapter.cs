using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime.EventStreams;
using Amazon.Runtime.EventStreams.Internal;

namespace AigneHub.Api.Providers.Bedrock;

/// <summary>
/// Chat over Amazon Bedrock's Converse API: <c>POST {base}model/{modelId}/converse</c> and <c>/converse-stream</c>
/// (AWS event-stream binary framing, decoded by the AWS SDK), signed with SigV4 (<see cref="AwsSigV4"/>, service
/// <c>bedrock</c>, the provider's region). The base URL defaults to <c>https://bedrock-runtime.{region}.amazonaws.com/</c>;
/// the credential is an access key id and secret, optionally a session token (<see cref="AwsCredential"/>). Model ids
/// are Bedrock's own (<c>anthropic.claude-3-5-haiku-20241022-v1:0</c>, inference profiles such as <c>us.…</c>, ARNs).
/// <para>Carried: system messages (<c>system</c>), user/assistant turns (consecutive turns of one role merged, tool
/// results as <c>toolResult</c> blocks of a user turn), text, images as inline bytes (png, jpeg, gif, webp), tools
/// (<c>toolSpec</c> with the JSON schema) and tool choice (auto / any / one tool), assistant tool calls, max tokens,
/// temperature, top_p, stop sequences, usage with cache reads and writes (mapped once, see
/// <see cref="BedrockMapping.ReadUsage"/>).</para>
/// <para>Dropped: image links (Converse takes bytes only: a 400), tool choice "none" (the tools are left out instead),
/// frequency/presence penalties, seed, response format (no JSON mode in Converse), reasoning effort and reasoning
/// content, end-user id, model-specific <c>additionalModelRequestFields</c>, guardrails, documents and video.
/// There is no pass-through: no caller protocol speaks Converse.</para>
/// </summary>
public sealed class BedrockChatAdapter(ProviderHttp http, TimeProvider time) : IChatAdapter
{
    public const string SigningService = "bedrock";

    public async Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken)
    {
        using var message = Request(endpoint, request, "converse");
        var body = await http.PostJsonAsync(endpoint, message, cancellationToken);
        return BedrockMapping.ReadResponse(body, request.Model);
    }

    public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var message = Request(endpoint, request, "converse-stream");
        message.Headers.Accept.Clear();
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/vnd.amazon.eventstream"));
        // Throws before the first update when Bedrock refuses the call, so the gateway can still fail over.
        using var response = await http.SendAsync(endpoint, message, cancellationToken);
        await using var stream = http.OpenBody(endpoint, response);

        var id = $"bedrock-{Guid.NewGuid():N}";
        List<EventStreamMessage> received = [];
        using var decoder = new EventStreamDecoder();
        decoder.MessageReceived += (_, e) => received.Add(e.Message);
        Dictionary<int, int> toolIndexByBlock = [];
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            try
            {
                decoder.ProcessData(buffer, 0, read);
            }
            catch (Exception ex) when (ex is EventStreamParseException or EventStreamChecksumFailureException or EventStreamDecoderIllegalStateException)
            {
                throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                    $"{endpoint.Provider} sent a malformed event stream: {ex.Message}", ex);
            }
            foreach (var item in received)
            {
                if (Update(endpoint, id, request.Model, item, toolIndexByBlock) is { } update)
                {
                    yield return update;
                }
            }
            received.Clear();
        }
    }

    /// <summary>One decoded event as a neutral update (null for events that carry nothing the caller sees).</summary>
    private static ChatStreamUpdate? Update(ProviderEndpoint endpoint, string id, string model, EventStreamMessage message,
        Dictionary<int, int> toolIndexByBlock)
    {
        var messageType = Header(message, ":message-type");
        var payload = Parse(endpoint, message.Payload);
        if (messageType != "event")
        {
            // An exception event mid-stream (throttlingException, modelStreamErrorException, …).
            var type = Header(message, ":exception-type") ?? Header(message, ":error-code") ?? "error";
            throw new ProviderException(endpoint.Provider,
                type == "throttlingException" ? ProviderErrorClass.RateLimited : type == "validationException" ? ProviderErrorClass.BadRequest : ProviderErrorClass.Unavailable,
                null, $"{endpoint.Provider} failed mid-stream ({type}): {(string?)payload?["message"] ?? Header(message, ":error-message") ?? "no message"}");
        }
        var block = (int?)payload?["contentBlockIndex"] ?? 0;
        switch (Header(message, ":event-type"))
        {
            case "contentBlockStart" when (payload?["start"]?["toolUse"]) is JsonObject tool:
                var index = toolIndexByBlock.Count;
                toolIndexByBlock[block] = index;
                return new ChatStreamUpdate
                {
                    Id = id, Model = model,
                    ToolCalls = [new ToolCallDelta(index, (string?)tool["toolUseId"], (string?)tool["name"], null)],
                };
            case "contentBlockDelta" when (payload?["delta"]) is JsonObject delta:
                if (delta["text"] is JsonValue text)
                {
                    return new ChatStreamUpdate { Id = id, Model = model, TextDelta = (string?)text };
                }
                if (delta["toolUse"]?["input"] is JsonValue input && toolIndexByBlock.TryGetValue(block, out var toolIndex))
                {
                    return new ChatStreamUpdate { Id = id, Model = model, ToolCalls = [new ToolCallDelta(toolIndex, null, null, (string?)input)] };
                }
                return null;
            case "messageStop":
                return new ChatStreamUpdate { Id = id, Model = model, FinishReason = BedrockMapping.ReadStopReason((string?)payload?["stopReason"]) };
            case "metadata":
                return BedrockMapping.ReadUsage(payload?["usage"]) is { } usage ? new ChatStreamUpdate { Id = id, Model = model, Usage = usage } : null;
            default:
                return null;
        }
    }

    private static string? Header(EventStreamMessage message, string name) =>
        message.Headers.TryGetValue(name, out var header) && header.HeaderType == EventStreamHeaderType.String ? header.AsString() : null;

    private static JsonNode? Parse(ProviderEndpoint endpoint, byte[]? payload)
    {
        if (payload is not { Length: > 0 })
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(payload);
        }
        catch (JsonException ex)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                $"{endpoint.Provider} sent a malformed stream event: {ex.Message}", ex);
        }
    }

    /// <summary>The signed POST of <paramref name="operation"/> for the request's model.</summary>
    private HttpRequestMessage Request(ProviderEndpoint endpoint, ChatRequest request, string operation)
    {
        if (AwsCredential.TryParse(endpoint.ApiKey, out var problem) is not { } credential)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.InvalidCredential, null,
                $"{endpoint.Provider}'s credential {problem}.");
        }
        if (endpoint.Settings.Region is not { } region)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null, $"{endpoint.Provider} has no region configured.");
        }
        var payload = Encoding.UTF8.GetBytes(BedrockMapping.WriteRequest(endpoint, request).ToJsonString());
        var message = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUrl, $"model/{Uri.EscapeDataString(request.Model)}/{operation}"))
        {
            Content = new ByteArrayContent(payload) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        AwsSigV4.Sign(message, payload, credential, region, SigningService, time.GetUtcNow());
        return message;
    }
}
