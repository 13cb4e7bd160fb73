using System.Buffers;
using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>How a protocol writes speech: the provider's audio bytes as they arrive, under its content type.</summary>
public interface ISpeechAnswerWriter : IAnswerWriter
{
    /// <summary>The next bytes of the audio (the first write commits the answer; an empty one only commits it).</summary>
    Task WriteAudioAsync(string contentType, ReadOnlyMemory<byte> audio);
}

/// <summary>How a protocol writes a transcription or translation.</summary>
public interface ITranscriptionAnswerWriter : IAnswerWriter
{
    Task WriteAsync(TranscriptionResponse response, ModelTarget target);

    Task IAnswerWriter.WriteFailureAfterCommitAsync(string message) => Task.CompletedTask;
}

/// <summary>A transcription or translation as a protocol read it, with what its upload's container says.</summary>
public sealed record TranscriptionCall(TranscriptionRequest Request, AudioContainer Container, JsonObject? Parameters);

/// <summary>
/// Audio calls, for every caller protocol: speech (metered per character of input, known before the call, so the
/// reservation is the charge) and transcription/translation (metered per second of audio: the provider's reported
/// duration, else the container's, else the bound from the upload's size — reserved as the container's duration or
/// that bound).
/// </summary>
public sealed class AudioRunner(GatewayPipeline pipeline, ProviderAdapters adapters)
{
    private const int ChunkBytes = 16 * 1024;

    /// <summary>Characters as billed: Unicode code points (a surrogate pair is one character).</summary>
    public static long Characters(string text)
    {
        long count = 0;
        foreach (var _ in text.EnumerateRunes())
        {
            count++;
        }
        return count;
    }

    public Task SpeakAsync(HttpContext context, ApiSurface surface, SpeechRequest request, JsonObject? parameters, ISpeechAnswerWriter writer)
    {
        var characters = Characters(request.Input);
        var estimate = new CallEstimate { PromptTokens = TokenEstimator.Text(request.Input), Characters = characters, Parameters = parameters };
        var call = pipeline.CreateContext(context, surface, request.Model, ModelType.Audio, streaming: true);
        return pipeline.RunAsync(context, call, estimate, writer, async (attempt, cancellationToken) =>
        {
            var target = attempt.Target;
            var caller = writer.Caller;
            await using var audio = await adapters.Audio(target.Kind, AudioOperations.Speech)!
                .SpeakAsync(attempt.Endpoint, request with { Model = target.Model }, cancellationToken);
            attempt.MarkProviderFirstByte();

            // :: Copy the audio Caller ◄-- Hub ◄-- Provider, one read at a time, flushed, until either side ends.
            var callerGone = false;
            ProviderException? cut = null;
            var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
            try
            {
                int read;
                while ((read = await audio.Body.ReadAsync(buffer.AsMemory(0, ChunkBytes), cancellationToken)) > 0)
                {
                    await writer.WriteAudioAsync(audio.ContentType, buffer.AsMemory(0, read));
                    if (caller.Gone)
                    {
                        break; // leaving disposes the provider's answer, which stops its generation
                    }
                }
                if (!caller.Committed)
                {
                    await writer.WriteAudioAsync(audio.ContentType, ReadOnlyMemory<byte>.Empty);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && caller.Committed)
            {
                callerGone = true;
            }
            catch (ProviderException ex) when (caller.Committed)
            {
                cut = ex;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            // The provider charges the whole input once it started speaking: so is the caller.
            return new AttemptResult { Characters = characters, CallerGone = callerGone || caller.Gone, ProviderCut = cut };
        }, refused: target => Refused(target, AudioOperations.Speech, adapter => adapter.Refusal(request)));
    }

    public Task TranscribeAsync(HttpContext context, ApiSurface surface, TranscriptionCall transcription, ITranscriptionAnswerWriter writer)
    {
        var request = transcription.Request;
        var bytes = request.File.Bytes.Length;
        var estimate = new CallEstimate
        {
            AudioSeconds = AttemptResult.BilledSeconds(transcription.Container.UpperBoundSeconds(bytes)),
            Parameters = transcription.Parameters,
        };
        var call = pipeline.CreateContext(context, surface, request.Model, ModelType.Audio, streaming: false);
        return pipeline.RunAsync(context, call, estimate, writer, async (attempt, cancellationToken) =>
        {
            var target = attempt.Target;
            var response = await adapters.Audio(target.Kind, request.Operation)!
                .TranscribeAsync(attempt.Endpoint, request with { Model = target.Model }, cancellationToken);
            attempt.MarkProviderFirstByte();
            await writer.WriteAsync(response, target);
            // The provider's own count wins; without one the container's duration, else the bound (an estimate).
            var seconds = response.Seconds ?? transcription.Container.Seconds;
            return new AttemptResult
            {
                AudioSeconds = AttemptResult.BilledSeconds(seconds ?? transcription.Container.UpperBoundSeconds(bytes)),
                Usage = response.Usage,
                UsageEstimated = seconds is null,
                CallerGone = writer.Caller.Gone,
            };
        }, refused: target => Refused(target, request.Operation, adapter => adapter.Refusal(request)));
    }

    /// <summary>Why <paramref name="target"/> cannot serve the call: it lacks the operation, or its adapter refuses
    /// the request as asked (asked before admission, so nothing is reserved).</summary>
    private GatewayException? Refused(ModelTarget target, AudioOperations operation, Func<IAudioAdapter, AudioRefusal?> refusal) =>
        adapters.Audio(target.Kind, operation) is { } adapter
            ? refusal(adapter) is { } refused ? GatewayErrors.Refused(refused) : null
            : GatewayErrors.Unserved(operation switch
            {
                AudioOperations.Speech => $"{target.Kind.DisplayName} does not generate speech.",
                AudioOperations.Translation => $"{target.Kind.DisplayName} does not translate audio.",
                _ => $"{target.Kind.DisplayName} does not transcribe audio.",
            });
}
