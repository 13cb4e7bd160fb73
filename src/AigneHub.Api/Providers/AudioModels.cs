namespace AigneHub.Api.Providers;

/// <summary>What a provider does with audio (<see cref="ProviderKind.Audio"/>): the three operations of OpenAI's audio API.</summary>
[Flags]
public enum AudioOperations
{
    None = 0,
    /// <summary>Text to speech (<c>audio/speech</c>).</summary>
    Speech = 1,
    /// <summary>Speech to text in its own language (<c>audio/transcriptions</c>).</summary>
    Transcription = 2,
    /// <summary>Speech to English text (<c>audio/translations</c>).</summary>
    Translation = 4,
}

/// <summary>Text to speak. <see cref="Voice"/> and <see cref="ResponseFormat"/> are the provider's own names.</summary>
public sealed record SpeechRequest
{
    public required string Model { get; init; }

    public required string Input { get; init; }

    public required string Voice { get; init; }

    public string? Instructions { get; init; }

    /// <summary><c>mp3</c>, <c>opus</c>, <c>aac</c>, <c>flac</c>, <c>wav</c> or <c>pcm</c>; null for the provider's default (mp3).</summary>
    public string? ResponseFormat { get; init; }

    public double? Speed { get; init; }
}

/// <summary>
/// The provider's speech as it arrives: its content type and body. Disposing it ends the provider call (a caller
/// that leaves stops the generation). <paramref name="response"/> is null when the audio was read whole (Gemini's
/// base64 answer) and <paramref name="body"/> holds it.
/// </summary>
public sealed class SpeechAudio(HttpResponseMessage? response, Stream body, string contentType) : IAsyncDisposable
{
    public string ContentType { get; } = contentType;

    /// <summary>The audio bytes; reads fail with a <see cref="ProviderException"/> when the provider stalls or cuts.</summary>
    public Stream Body { get; } = body;

    public async ValueTask DisposeAsync()
    {
        await Body.DisposeAsync();
        response?.Dispose();
    }
}

/// <summary>An uploaded file (audio to transcribe, an image to edit), whole in memory: a failover sends it again.</summary>
public sealed record UploadedFile(string FileName, string ContentType, ReadOnlyMemory<byte> Bytes);

/// <summary>
/// Audio to turn into text: <see cref="AudioOperations.Transcription"/> or <see cref="AudioOperations.Translation"/>.
/// <see cref="Fields"/> are the caller's other form fields (language, prompt, response_format, temperature,
/// timestamp_granularities[]…) in their order, passed to the provider as they came.
/// </summary>
public sealed record TranscriptionRequest
{
    public required AudioOperations Operation { get; init; }

    public required string Model { get; init; }

    public required UploadedFile File { get; init; }

    public IReadOnlyList<KeyValuePair<string, string>> Fields { get; init; } = [];
}

/// <summary>
/// The provider's answer as it came (JSON, or text, SRT or VTT by the requested format) and what it reported of
/// its metering: the audio's duration (<c>verbose_json</c>'s <c>duration</c>, or <c>usage.seconds</c>) or tokens.
/// </summary>
public sealed record TranscriptionResponse(ReadOnlyMemory<byte> Body, string ContentType)
{
    public double? Seconds { get; init; }

    public TokenUsage? Usage { get; init; }
}

/// <summary>
/// Why a provider cannot serve an audio call as asked (a format it cannot give, a voice that is another provider's,
/// an upload larger than its wire takes): <paramref name="Param"/> names the caller's field; <paramref name="TooLarge"/>
/// makes it a 413 rather than a 400.
/// </summary>
public sealed record AudioRefusal(string Message, string? Param = null, bool TooLarge = false);

/// <summary>
/// A provider's audio API. Errors are thrown as <see cref="ProviderException"/>, before anything is returned when the
/// provider refuses the call, so the gateway can still fail over.
/// </summary>
public interface IAudioAdapter
{
    /// <summary>Starts the speech; the answer's headers have arrived when this returns.</summary>
    Task<SpeechAudio> SpeakAsync(ProviderEndpoint endpoint, SpeechRequest request, CancellationToken cancellationToken);

    Task<TranscriptionResponse> TranscribeAsync(ProviderEndpoint endpoint, TranscriptionRequest request, CancellationToken cancellationToken);

    /// <summary>Why this speech cannot be served as asked, or null. Asked before admission: a refusal reserves nothing.</summary>
    AudioRefusal? Refusal(SpeechRequest request) => null;

    /// <summary>Why this transcription or translation cannot be served as asked, or null. Asked before admission.</summary>
    AudioRefusal? Refusal(TranscriptionRequest request) => null;
}
