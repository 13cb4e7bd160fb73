using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// OpenAI's Responses wire (<c>POST {baseUrl}responses</c>) as a pass-through: a Responses caller's body goes to
/// OpenAI as it came (the model replaced, the output cap added when the reservation set one) and the answer or
/// named events come back untouched. Only the events that end a response are parsed: <c>response.completed</c> and
/// <c>response.incomplete</c> carry the usage (and are the stream's end), <c>response.failed</c> and <c>error</c> are
/// thrown as mid-stream failures.
/// <para>
/// Only the <c>openai</c> provider kind is sent this wire. Other OpenAI-compatible providers publish Responses
/// endpoints of their own with differing coverage (stateless, fewer item types), so they get the Responses caller
/// translated through their chat-completions adapter, which every one of them speaks.
/// </para>
/// </summary>
public sealed class OpenAiResponsesPassthrough(ProviderHttp http) : IChatPassthrough
{
    private const string Path = "responses";

    /// <summary>Generated text in a stream: every <c>*.delta</c> event's <c>delta</c> (text, tool arguments, reasoning summary).</summary>
    private static readonly string[] DeltaFields = ["delta"];

    /// <summary>Generated text in a whole response: output text and tool arguments.</summary>
    private static readonly string[] AnswerFields = ["text", "arguments"];

    public PassthroughWire Wire => PassthroughWire.OpenAiResponses;

    public bool Serves(ProviderKind kind) => kind.Name == ProviderKinds.OpenAI.Name;

    public async Task<RawChatAnswer> CompleteRawAsync(ProviderEndpoint endpoint, PassthroughRequest call, CancellationToken cancellationToken)
    {
        using var request = OpenAiRequests.Post(endpoint, Path, Body(call.Model, call.Body, call.OutputTokenCap));
        using var response = await http.SendAsync(endpoint, request, cancellationToken);
        var bytes = await http.ReadAllAsync(endpoint, response, cancellationToken);
        TokenUsage? usage;
        try
        {
            usage = JsonNode.Parse(bytes.Span) is JsonObject o ? ReadUsage(o["usage"]) : null;
        }
        catch (System.Text.Json.JsonException)
        {
            usage = null;
        }
        return new RawChatAnswer(bytes, usage) { OutputCharacters = usage is null ? GeneratedText.Count(bytes.Span, AnswerFields) : 0 };
    }

    public async IAsyncEnumerable<RawChatEvent> StreamRawAsync(ProviderEndpoint endpoint, PassthroughRequest call,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = OpenAiRequests.Post(endpoint, Path, Body(call.Model, call.Body, call.OutputTokenCap));
        using var response = await http.SendAsync(endpoint, request, cancellationToken);
        await foreach (var item in http.ReadEventsAsync(endpoint, response, cancellationToken))
        {
            // OpenAI names every event; the parser reports an unnamed one as "message", whose type is in its data.
            var named = item.EventType != "message";
            var type = named ? item.EventType : (string?)OpenAiRequests.ParseEvent(endpoint, item.Data)["type"];
            if (type is not ("response.completed" or "response.incomplete" or "response.failed" or "error"))
            {
                yield return new RawChatEvent(item.Data, EventName: named ? type : null)
                {
                    OutputCharacters = type?.EndsWith(".delta", StringComparison.Ordinal) == true ? GeneratedText.Count(item.Data, DeltaFields) : 0,
                };
                continue;
            }
            var parsed = OpenAiRequests.ParseEvent(endpoint, item.Data);
            if (type is "response.failed" or "error")
            {
                var error = type == "error" ? parsed : parsed["response"]?["error"];
                throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, null,
                    $"{endpoint.Provider} failed mid-stream: {(error?["message"] is JsonValue m && m.TryGetValue<string>(out var text) ? text : item.Data)}");
            }
            yield return new RawChatEvent(item.Data, ReadUsage(parsed["response"]?["usage"]), End: true, EventName: named ? type : null);
            yield break;
        }
    }

    /// <summary>
    /// Responses usage in the neutral terms: <c>input_tokens</c> includes <c>input_tokens_details.cached_tokens</c>
    /// and <c>output_tokens</c> includes <c>output_tokens_details.reasoning_tokens</c>, as chat completions count them.
    /// </summary>
    public static TokenUsage? ReadUsage(JsonNode? usage) => usage is JsonObject u
        ? new TokenUsage
        {
            InputTokens = (int?)u["input_tokens"] ?? 0,
            OutputTokens = (int?)u["output_tokens"] ?? 0,
            CacheReadInputTokens = (int?)u["input_tokens_details"]?["cached_tokens"] ?? 0,
            ReasoningTokens = (int?)u["output_tokens_details"]?["reasoning_tokens"] ?? 0,
        }
        : null;

    /// <summary>The caller's body with the model replaced and one output cap: the caller's, or the reservation's
    /// when that is lower (it is set only when the caller gave none).</summary>
    private static JsonObject Body(string model, JsonObject callerBody, int? outputTokenCap)
    {
        var body = (JsonObject)callerBody.DeepClone();
        body["model"] = model;
        if (outputTokenCap is int cap && !(body["max_output_tokens"] is JsonValue v && v.TryGetValue<int>(out var own) && own <= cap))
        {
            body["max_output_tokens"] = cap;
        }
        return body;
    }
}
