using System.Diagnostics;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// OpenAI in, OpenAI-compatible out: the caller's body goes to the provider as it came (unknown fields kept), with
/// only the model name replaced and usage requested in streams; the answer comes back byte for byte, and the only
/// work done on it is to find the usage. No round trip through the neutral model.
/// </summary>
public static class OpenAiPassthrough
{
    public static Func<Attempt, CancellationToken, Task<AttemptResult>> Chat(
        ProviderHttp http, JsonObject callerBody, bool streaming, bool callerWantsUsage, HttpContext context, SseResponse sse, CallEstimate estimate) =>
        async (attempt, cancellationToken) =>
        {
            var body = (JsonObject)callerBody.DeepClone();
            body["model"] = attempt.Target.Model;
            if (attempt.OutputTokenCap is int cap && body["max_tokens"] is null && body["max_completion_tokens"] is null)
            {
                body[OpenAiChatAdapter.UsesMaxCompletionTokens(attempt.Endpoint.Provider) ? "max_completion_tokens" : "max_tokens"] = cap;
            }
            if (streaming)
            {
                // Always ask for usage: a streamed call must be billed from the provider's own count.
                body["stream_options"] = new JsonObject { ["include_usage"] = true };
            }
            using var request = OpenAiRequests.Post(attempt.Endpoint, "chat/completions", body);
            using var response = await http.SendAsync(attempt.Endpoint, request, cancellationToken);
            attempt.MarkProviderFirstByte();

            if (!streaming)
            {
                await using var providerBody = http.OpenBody(attempt.Endpoint, response);
                using var buffer = new MemoryStream();
                await providerBody.CopyToAsync(buffer, cancellationToken);
                var usage = TryReadUsage(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
                attempt.Committed = true;
                context.Response.StatusCode = StatusCodes.Status200OK;
                context.Response.ContentType = "application/json";
                buffer.Position = 0;
                var gone = false;
                try
                {
                    await buffer.CopyToAsync(context.Response.Body, context.RequestAborted);
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException)
                {
                    gone = true;
                }
                return new AttemptResult
                {
                    Usage = usage ?? ChatCalls.Estimate(estimate, buffer.Length),
                    UsageEstimated = usage is null,
                    CallerGone = gone,
                    CallerFirstByteAt = Stopwatch.GetTimestamp(),
                };
            }

            TokenUsage? streamedUsage = null;
            long characters = 0;
            var callerGone = false;
            try
            {
                await foreach (var item in http.ReadEventsAsync(attempt.Endpoint, response, cancellationToken))
                {
                    var data = item.Data;
                    if (data == "[DONE]")
                    {
                        attempt.Committed = true;
                        await sse.WriteDataAsync(data);
                        break;
                    }
                    if (data.Contains("\"error\"", StringComparison.Ordinal) && OpenAiRequests.ParseEvent(attempt.Endpoint, data)["error"] is JsonNode error)
                    {
                        throw new ProviderException(attempt.Endpoint.Provider, ProviderErrorClass.Unavailable, null,
                            $"{attempt.Endpoint.Provider} failed mid-stream: {(string?)error["message"] ?? error.ToJsonString()}");
                    }
                    characters += data.Length;
                    // Only chunks that carry a usage object are parsed; the rest are forwarded untouched.
                    if (data.Contains("\"usage\"", StringComparison.Ordinal) && OpenAiChatCodec.ReadUsage(OpenAiRequests.ParseEvent(attempt.Endpoint, data)["usage"]) is { } usage)
                    {
                        streamedUsage = usage;
                        if (!callerWantsUsage && data.Contains("\"choices\":[]", StringComparison.Ordinal))
                        {
                            continue; // the usage-only chunk the caller did not ask for
                        }
                    }
                    attempt.Committed = true;
                    await sse.WriteDataAsync(data);
                    if (sse.CallerGone)
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && attempt.Committed)
            {
                // The caller left mid-stream and took the provider call with it: what was generated is billed.
                callerGone = true;
            }
            return new AttemptResult
            {
                Usage = streamedUsage ?? ChatCalls.Estimate(estimate, characters / 4),
                UsageEstimated = streamedUsage is null,
                CallerGone = callerGone || sse.CallerGone,
                CallerFirstByteAt = sse.FirstWriteTimestamp,
            };
        };

    private static TokenUsage? TryReadUsage(ReadOnlyMemory<byte> json)
    {
        try
        {
            return OpenAiChatCodec.ReadUsage(JsonNode.Parse(json.Span)?["usage"]);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
