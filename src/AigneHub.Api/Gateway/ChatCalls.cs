using System.Diagnostics;
using System.Text;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway;

/// <summary>How a protocol (OpenAI, AIGNE native) writes a chat answer to its caller.</summary>
public interface IChatAnswerWriter
{
    SseResponse Sse { get; }

    Task WriteResponseAsync(ChatResponse response, ModelTarget target);

    Task WriteUpdateAsync(ChatStreamUpdate update, ModelTarget target);

    /// <summary>The end of a stream: final usage (real or estimated) and why it finished.</summary>
    Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target);

    Task WriteStreamErrorAsync(string message);
}

/// <summary>The chat attempt for translated calls: neutral request → provider adapter → caller's protocol.</summary>
public static class ChatCalls
{
    public static Func<Attempt, CancellationToken, Task<AttemptResult>> Translated(
        IServiceProvider services, ChatRequest request, bool streaming, IChatAnswerWriter writer, CallEstimate estimate) =>
        async (attempt, cancellationToken) =>
        {
            var adapter = services.GetKeyedService<IChatAdapter>(attempt.Target.Kind.Protocol)
                ?? throw new ProviderException(attempt.Target.Kind.Name, ProviderErrorClass.BadRequest, null,
                    $"Provider '{attempt.Target.Kind.Name}' does not serve chat.");
            var providerRequest = request with { Model = attempt.Target.Model, MaxOutputTokens = request.MaxOutputTokens ?? attempt.OutputTokenCap };

            if (!streaming)
            {
                var response = await adapter.CompleteAsync(attempt.Endpoint, providerRequest, cancellationToken);
                attempt.MarkProviderFirstByte();
                attempt.Committed = true;
                await writer.WriteResponseAsync(response, attempt.Target);
                var estimated = response.Usage is null;
                return new AttemptResult
                {
                    Usage = response.Usage ?? Estimate(estimate, (response.Text?.Length ?? 0) + (response.ToolCalls?.Sum(c => c.Arguments.Length + c.Name.Length) ?? 0)),
                    UsageEstimated = estimated,
                    CallerFirstByteAt = Stopwatch.GetTimestamp(),
                    CallerGone = cancellationToken.IsCancellationRequested,
                };
            }

            TokenUsage? usage = null;
            FinishReason? finish = null;
            long outputCharacters = 0;
            var callerGone = false;
            try
            {
                await foreach (var update in adapter.StreamAsync(attempt.Endpoint, providerRequest, cancellationToken))
                {
                    attempt.MarkProviderFirstByte();
                    usage = update.Usage ?? usage;
                    finish = update.FinishReason ?? finish;
                    if (update.TextDelta is { Length: > 0 } || update.ToolCalls is { Count: > 0 } || update.FinishReason is not null)
                    {
                        outputCharacters += (update.TextDelta?.Length ?? 0) + (update.ToolCalls?.Sum(t => (t.ArgumentsDelta?.Length ?? 0) + (t.Name?.Length ?? 0)) ?? 0);
                        attempt.Committed = true;
                        await writer.WriteUpdateAsync(update, attempt.Target);
                    }
                    if (writer.Sse.CallerGone)
                    {
                        // Leaving the loop disposes the provider stream, which cancels the provider's generation.
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && attempt.Committed)
            {
                // The caller left mid-stream and took the provider call with it: what was generated is billed.
                callerGone = true;
            }

            callerGone |= writer.Sse.CallerGone;
            var usageEstimated = usage is null;
            usage ??= Estimate(estimate, outputCharacters);
            if (!callerGone)
            {
                attempt.Committed = true;
                await writer.WriteEndAsync(usage, finish, attempt.Target);
            }
            return new AttemptResult
            {
                Usage = usage,
                UsageEstimated = usageEstimated,
                CallerGone = callerGone,
                CallerFirstByteAt = writer.Sse.FirstWriteTimestamp,
            };
        };

    /// <summary>Usage when the provider reported none: the prompt estimate plus what was generated so far.</summary>
    public static TokenUsage Estimate(CallEstimate estimate, long outputCharacters) => new()
    {
        InputTokens = estimate.PromptTokens,
        OutputTokens = TokenEstimator.FromCharacters(outputCharacters),
    };

    /// <summary>Prompt size for the reservation: all text, tool definitions, and a flat cost per image.</summary>
    public static int EstimatePromptTokens(ChatRequest request)
    {
        const int tokensPerImage = 1000;
        long characters = 0;
        var images = 0;
        foreach (var message in request.Messages)
        {
            foreach (var part in message.Content)
            {
                if (part is TextPart text)
                {
                    characters += text.Text.Length;
                }
                else
                {
                    images++;
                }
            }
            characters += message.ToolCalls?.Sum(c => c.Arguments.Length + c.Name.Length) ?? 0;
        }
        characters += request.Tools?.Sum(t => t.Name.Length + (t.Description?.Length ?? 0) + (t.Parameters?.GetRawText().Length ?? 0)) ?? 0;
        return TokenEstimator.FromCharacters(characters) + images * tokensPerImage;
    }

    /// <summary>Joins streamed tool-call deltas into whole calls (the native protocol sends them complete).</summary>
    public sealed class ToolCallAccumulator
    {
        private readonly SortedDictionary<int, (string Id, string Name, StringBuilder Arguments)> _calls = [];

        public void Add(IEnumerable<ToolCallDelta> deltas)
        {
            foreach (var d in deltas)
            {
                if (!_calls.TryGetValue(d.Index, out var call))
                {
                    call = (d.Id ?? $"call_{d.Index}", d.Name ?? "", new StringBuilder());
                }
                call = (d.Id ?? call.Id, d.Name ?? call.Name, call.Arguments.Append(d.ArgumentsDelta));
                _calls[d.Index] = call;
            }
        }

        public IReadOnlyList<ToolCall> Calls =>
            _calls.Values.Select(c => new ToolCall(c.Id, c.Name, c.Arguments.Length == 0 ? "{}" : c.Arguments.ToString())).ToList();
    }
}
