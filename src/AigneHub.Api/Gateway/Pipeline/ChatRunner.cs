using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>A chat request as a caller protocol read it.</summary>
public sealed record ChatCall
{
    /// <summary>The neutral request; its <see cref="ChatRequest.Model"/> is the model as the caller named it.</summary>
    public required ChatRequest Request { get; init; }

    public bool Streaming { get; init; }

    /// <summary>Model parameters to keep on the call record.</summary>
    public JsonObject? Parameters { get; init; }

    /// <summary>
    /// The caller's own body, when its wire is one a provider family speaks too: such providers are sent it as it
    /// came and their answer is forwarded untranslated (see <see cref="IChatPassthrough"/>).
    /// </summary>
    public ChatPassthroughBody? Passthrough { get; init; }
}

/// <summary>The caller's body, and the headers of its wire a provider of the same wire is sent too (none for OpenAI).</summary>
public sealed record ChatPassthroughBody(PassthroughWire Wire, JsonObject Body)
{
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>How a protocol writes a chat answer: whole, or as a stream of updates and an end.</summary>
public interface IChatAnswerWriter : IAnswerWriter
{
    Task WriteResponseAsync(ChatResponse response, ModelTarget target);

    Task WriteUpdateAsync(ChatStreamUpdate update, ModelTarget target);

    /// <summary>The end of a stream: final usage (real or estimated) and why it finished.</summary>
    Task WriteEndAsync(TokenUsage usage, FinishReason? finishReason, ModelTarget target);
}

/// <summary>A chat writer whose wire a provider family speaks: it can forward that provider's answer as it came.</summary>
public interface IRawChatAnswerWriter : IChatAnswerWriter
{
    Task WriteRawResponseAsync(RawChatAnswer answer);

    Task WriteRawEventAsync(RawChatEvent providerEvent);
}

/// <summary>
/// Chat calls, for every caller protocol: the estimate and record, then per attempt either a pass-through (the
/// caller's wire equals the provider's) or a translation through the neutral model.
/// </summary>
public sealed class ChatRunner(GatewayPipeline pipeline, ProviderAdapters adapters)
{
    public Task RunAsync(HttpContext context, ApiSurface surface, ChatCall chat, IChatAnswerWriter writer)
    {
        var prompt = TokenEstimator.Prompt(chat.Request);
        var estimate = new CallEstimate
        {
            PromptTokens = prompt.Max,
            Prompt = prompt,
            MaxOutputTokens = chat.Request.MaxOutputTokens,
            Parameters = chat.Parameters,
        };
        var call = pipeline.CreateContext(context, surface, chat.Request.Model, ModelType.Chat, chat.Streaming);
        return pipeline.RunAsync(context, call, estimate, writer, (attempt, cancellationToken) =>
            chat.Passthrough is { } raw && writer is IRawChatAnswerWriter rawWriter
                && adapters.ChatPassthrough(attempt.Target.Kind, raw.Wire) is { } passthrough
                ? PassThroughAsync(passthrough, raw, chat.Streaming, rawWriter, estimate, attempt, cancellationToken)
                : TranslateAsync(chat, writer, estimate, attempt, cancellationToken),
            target => adapters.Chat(target.Kind.Protocol) is null ? $"{target.Kind.DisplayName} does not serve chat." : null);
    }

    private async Task<AttemptResult> TranslateAsync(ChatCall chat, IChatAnswerWriter writer, CallEstimate estimate, Attempt attempt, CancellationToken cancellationToken)
    {
        var target = attempt.Target;
        // Candidates without chat were dropped before admission (the unserved reason above).
        var adapter = adapters.Chat(target.Kind.Protocol)!;
        var request = chat.Request with { Model = target.Model, MaxOutputTokens = attempt.OutputTokenCap ?? chat.Request.MaxOutputTokens };
        var caller = writer.Caller;

        if (!chat.Streaming)
        {
            var response = await adapter.CompleteAsync(attempt.Endpoint, request, cancellationToken);
            attempt.MarkProviderFirstByte();
            await writer.WriteResponseAsync(response, target);
            return new AttemptResult
            {
                Usage = response.Usage ?? Estimate(estimate, attempt, (response.Text?.Length ?? 0) + (response.ToolCalls?.Sum(c => c.Arguments.Length + c.Name.Length) ?? 0)),
                UsageEstimated = response.Usage is null,
                CallerGone = caller.Gone || cancellationToken.IsCancellationRequested,
            };
        }

        TokenUsage? usage = null;
        FinishReason? finish = null;
        long outputCharacters = 0;
        var callerGone = false;
        ProviderException? cut = null;
        try
        {
            await foreach (var update in adapter.StreamAsync(attempt.Endpoint, request, cancellationToken))
            {
                attempt.MarkProviderFirstByte();
                usage = update.Usage ?? usage;
                finish = update.FinishReason ?? finish;
                if (update.TextDelta is { Length: > 0 } || update.ToolCalls is { Count: > 0 } || update.FinishReason is not null)
                {
                    await writer.WriteUpdateAsync(update, target);
                    outputCharacters += (update.TextDelta?.Length ?? 0) + (update.ToolCalls?.Sum(t => (t.ArgumentsDelta?.Length ?? 0) + (t.Name?.Length ?? 0)) ?? 0);
                }
                if (caller.Gone)
                {
                    // Leaving the loop disposes the provider stream, which cancels the provider's generation.
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && caller.Committed)
        {
            // The caller left mid-stream and took the provider call with it: what was generated is billed.
            callerGone = true;
        }
        catch (ProviderException ex) when (caller.Committed)
        {
            // The provider failed after the caller had part of the answer: that part is billed; the pipeline tells
            // the caller in-stream and records the provider's error.
            cut = ex;
        }

        callerGone |= caller.Gone;
        var usageEstimated = usage is null;
        usage ??= Estimate(estimate, attempt, outputCharacters);
        if (!callerGone && cut is null)
        {
            await writer.WriteEndAsync(usage, finish, target);
        }
        return new AttemptResult { Usage = usage, UsageEstimated = usageEstimated, CallerGone = callerGone || caller.Gone, ProviderCut = cut };
    }

    private static async Task<AttemptResult> PassThroughAsync(IChatPassthrough passthrough, ChatPassthroughBody raw, bool streaming, IRawChatAnswerWriter writer,
        CallEstimate estimate, Attempt attempt, CancellationToken cancellationToken)
    {
        var caller = writer.Caller;
        var request = new PassthroughRequest(attempt.Target.Model, raw.Body, attempt.OutputTokenCap, raw.Headers);
        if (!streaming)
        {
            var answer = await passthrough.CompleteRawAsync(attempt.Endpoint, request, cancellationToken);
            attempt.MarkProviderFirstByte();
            await writer.WriteRawResponseAsync(answer);
            return new AttemptResult
            {
                Usage = answer.Usage ?? Estimate(estimate, attempt, answer.OutputCharacters),
                UsageEstimated = answer.Usage is null,
                CallerGone = caller.Gone,
            };
        }

        TokenUsage? usage = null;
        long characters = 0;
        var callerGone = false;
        ProviderException? cut = null;
        try
        {
            await foreach (var providerEvent in passthrough.StreamRawAsync(attempt.Endpoint, request, cancellationToken))
            {
                attempt.MarkProviderFirstByte();
                // The end event may carry the usage (Responses' response.completed does, chat's [DONE] does not).
                usage = providerEvent.Usage ?? usage;
                await writer.WriteRawEventAsync(providerEvent);
                // Counted once written: only what reached the caller is billed when the usage never comes.
                characters += providerEvent.OutputCharacters;
                if (providerEvent.End || caller.Gone)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && caller.Committed)
        {
            // The caller left mid-stream and took the provider call with it: what was generated is billed.
            callerGone = true;
        }
        catch (ProviderException ex) when (caller.Committed)
        {
            // The provider failed after the caller had part of the answer: that part is billed (see TranslateAsync).
            cut = ex;
        }
        return new AttemptResult
        {
            Usage = usage ?? Estimate(estimate, attempt, characters),
            UsageEstimated = usage is null,
            CallerGone = callerGone || caller.Gone,
            ProviderCut = cut,
        };
    }

    /// <summary>Usage when the provider reported none: the prompt estimate plus the generated text that reached the
    /// caller (text and tool arguments, counted the same way on every path), never more than the call's output cap.</summary>
    private static TokenUsage Estimate(CallEstimate estimate, Attempt attempt, long outputCharacters) => new()
    {
        InputTokens = estimate.PromptTokensFor(attempt.Target.Kind),
        OutputTokens = Math.Min(TokenEstimator.FromCharacters(outputCharacters), attempt.OutputTokenCap ?? int.MaxValue),
    };
}
