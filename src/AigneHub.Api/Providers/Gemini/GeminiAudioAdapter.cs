using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.Gemini;

/// <summary>
/// OpenAI's audio API served by the Gemini API (key in <c>x-goog-api-key</c>), both through
/// <c>POST models/{model}:generateContent</c>:
/// <list type="bullet">
/// <item><b>Speech</b> (a TTS model, <c>gemini-*-tts*</c>): <c>contents:[{role:user, parts:[{text}]}]</c> with
/// <c>generationConfig:{responseModalities:["AUDIO"], speechConfig:{voiceConfig:{prebuiltVoiceConfig:{voiceName}}}}</c>
/// → <c>candidates[0].content.parts[].inlineData</c> of <c>audio/L16;codec=pcm;rate=24000</c>: base64 signed 16-bit
/// little-endian mono PCM. <c>pcm</c> answers those bytes (the layout OpenAI's <c>pcm</c> has), <c>wav</c> — also
/// the default when the caller names no format, since Gemini makes no MP3 — wraps them in a WAV header at the rate the
/// mimeType states. mp3, opus, aac and flac are refused with a 400 before admission (no transcoding). The caller's
/// <c>instructions</c> become the style prefix Gemini's docs show (<c>"Say cheerfully: …"</c>).</item>
/// <item><b>Transcription and translation</b> (any audio-understanding model, e.g. <c>gemini-2.5-flash</c>): one user
/// turn of an instruction (verbatim in the spoken language, or into English; the caller's <c>language</c> and
/// <c>prompt</c> folded in) and the upload as <c>inlineData</c>, its mimeType from the container read from its bytes
/// (not the part's header, which SDKs often send as <c>application/octet-stream</c>). The transcript is answered as
/// <c>json</c> <c>{"text"}</c> (the default), <c>text</c>, or <c>verbose_json</c> <c>{task, language, duration,
/// text}</c> with the container's duration and the caller's <c>language</c> (<c>english</c> for a translation).</item>
/// </list>
/// Limitations: voices are Gemini's prebuilt ones (Kore, Puck, Zephyr, …) passed through as named; an OpenAI voice
/// name (alloy, nova, …) is refused with a 400 listing Gemini's, never mapped silently. <c>speed</c> is dropped (Gemini
/// has no rate control; ask for it in <c>instructions</c>). Speech is read whole before its first byte goes out (Gemini
/// answers one JSON document, not a stream); its <c>usageMetadata</c> is not reported (speech is billed per character).
/// Gemini gives no timestamps, so <c>srt</c>, <c>vtt</c> and <c>timestamp_granularities[]</c> are refused with a 400;
/// <c>verbose_json</c> has no <c>segments</c> or <c>words</c>. Uploads over <see cref="MaxInlineBytes"/> are refused with
/// a 413 (Gemini takes at most 20 MB of request inline, base64 inflating the file by a third; the Files API is not
/// used). The seconds billed are the container's: Gemini reports tokens (recorded, not priced), never a duration.
/// </summary>
public sealed class GeminiAudioAdapter(ProviderHttp http) : IAudioAdapter
{
    /// <summary>The largest upload sent inline: its base64 (4/3 of it) plus the instruction stays under Gemini's 20 MB request.</summary>
    public const int MaxInlineBytes = 14 * 1024 * 1024;

    /// <summary>The speech formats Gemini's PCM can be answered in.</summary>
    public const string SpeechFormats = "wav, pcm";

    /// <summary>The transcript formats Gemini can answer (it gives no timestamps).</summary>
    public const string TranscriptFormats = "json, text, verbose_json";

    private const int DefaultSampleRate = 24000;

    private static readonly string[] OpenAiVoices =
        ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar"];

    private const string SomeGeminiVoices = "Kore, Puck, Zephyr, Charon, Fenrir, Leda, Orus, Aoede";

    public AudioRefusal? Refusal(SpeechRequest request) =>
        request.ResponseFormat is not (null or "wav" or "pcm")
            ? new($"Gemini speech comes as PCM: 'response_format' must be one of {SpeechFormats}, not '{request.ResponseFormat}'.", "response_format")
        : OpenAiVoices.Contains(request.Voice, StringComparer.OrdinalIgnoreCase)
            ? new($"'{request.Voice}' is an OpenAI voice; Gemini's voices are its own, e.g. {SomeGeminiVoices}.", "voice")
        : null;

    public AudioRefusal? Refusal(TranscriptionRequest request) =>
        Field(request, "response_format") is { } format && format is not ("json" or "text" or "verbose_json")
            ? new($"Gemini gives no timestamps: 'response_format' must be one of {TranscriptFormats}, not '{format}'.", "response_format")
        : request.Fields.Any(f => f.Key.StartsWith("timestamp_granularities", StringComparison.Ordinal))
            ? new("Gemini gives no timestamps: 'timestamp_granularities[]' is not offered.", "timestamp_granularities[]")
        : request.File.Bytes.Length > MaxInlineBytes
            ? new($"Gemini takes audio inline up to {MaxInlineBytes / (1024 * 1024)} MiB; the upload is larger.", "file", TooLarge: true)
        : null;

    public async Task<SpeechAudio> SpeakAsync(ProviderEndpoint endpoint, SpeechRequest request, CancellationToken cancellationToken)
    {
        // :: Step 1: the text (with the caller's style instructions in front) and the AUDIO modality with the voice.
        var text = request.Instructions is { Length: > 0 } style ? $"{style.TrimEnd().TrimEnd(':')}: {request.Input}" : request.Input;
        var body = new JsonObject
        {
            ["contents"] = UserTurn(new JsonObject { ["text"] = text }),
            ["generationConfig"] = new JsonObject
            {
                ["responseModalities"] = new JsonArray("AUDIO"),
                ["speechConfig"] = new JsonObject
                {
                    ["voiceConfig"] = new JsonObject { ["prebuiltVoiceConfig"] = new JsonObject { ["voiceName"] = request.Voice } },
                },
            },
        };
        using var message = GeminiHttp.CreateRequest(endpoint, request.Model, "generateContent", body);
        var answer = await GeminiHttp.PostJsonAsync(http, endpoint, message, cancellationToken);

        // :: Step 2: the PCM from the inline part, answered raw or as a WAV.
        var (mimeType, pcm) = ReadAudio(endpoint, answer);
        if (!mimeType.StartsWith("audio/L16", StringComparison.OrdinalIgnoreCase))
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, 200, $"{endpoint.Provider} sent speech as '{mimeType}', not 16-bit PCM.");
        }
        return request.ResponseFormat == "pcm"
            ? new SpeechAudio(null, new MemoryStream(pcm, writable: false), "audio/pcm")
            : new SpeechAudio(null, new MemoryStream(Wav(pcm, SampleRate(mimeType)), writable: false), "audio/wav");
    }

    public async Task<TranscriptionResponse> TranscribeAsync(ProviderEndpoint endpoint, TranscriptionRequest request, CancellationToken cancellationToken)
    {
        var translate = request.Operation == AudioOperations.Translation;
        var language = Field(request, "language");
        var container = AudioContainer.Read(request.File.Bytes.Span);
        var body = new JsonObject
        {
            ["contents"] = UserTurn(
                new JsonObject { ["text"] = Instruction(translate, language, Field(request, "prompt")) },
                new JsonObject
                {
                    ["inlineData"] = new JsonObject
                    {
                        ["mimeType"] = MimeType(container?.Name, request.File.ContentType),
                        ["data"] = Convert.ToBase64String(request.File.Bytes.Span),
                    },
                }),
        };
        if (double.TryParse(Field(request, "temperature"), NumberStyles.Float, CultureInfo.InvariantCulture, out var temperature))
        {
            body["generationConfig"] = new JsonObject { ["temperature"] = temperature };
        }
        using var message = GeminiHttp.CreateRequest(endpoint, request.Model, "generateContent", body);
        var answer = await GeminiHttp.PostJsonAsync(http, endpoint, message, cancellationToken);

        var (text, _, finish) = GeminiMapping.ReadCandidate(answer);
        if (text is null && finish is not (null or "STOP"))
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.BadRequest, 200, $"{endpoint.Provider} gave no transcript: {finish}.");
        }
        text = text?.Trim() ?? "";
        var usage = GeminiMapping.ReadUsage(answer["usageMetadata"]);
        switch (Field(request, "response_format"))
        {
            case "text":
                return new TranscriptionResponse(Encoding.UTF8.GetBytes(text + "\n"), "text/plain; charset=utf-8") { Usage = usage };
            case "verbose_json":
                var verbose = new JsonObject
                {
                    ["task"] = translate ? "translate" : "transcribe",
                    ["language"] = translate ? "english" : language,
                    ["duration"] = container?.Seconds,
                    ["text"] = text,
                };
                return new TranscriptionResponse(Encoding.UTF8.GetBytes(verbose.ToJsonString()), "application/json") { Usage = usage };
            default:
                return new TranscriptionResponse(Encoding.UTF8.GetBytes(new JsonObject { ["text"] = text }.ToJsonString()), "application/json") { Usage = usage };
        }
    }

    /// <summary>What Gemini is asked to do with the audio; the caller's language and prompt (context, spellings) folded in.</summary>
    private static string Instruction(bool translate, string? language, string? prompt)
    {
        var instruction = new StringBuilder(translate
            ? "Translate the speech in this audio into English."
            : "Transcribe the speech in this audio verbatim, in the language in which it is spoken.");
        if (language is { Length: > 0 })
        {
            instruction.Append(CultureInfo.InvariantCulture, $" The speech is in the language '{language}'.");
        }
        instruction.Append(" Answer with the text only: no introduction, no comments, no timestamps, no speaker labels.");
        if (prompt is { Length: > 0 })
        {
            instruction.Append(CultureInfo.InvariantCulture, $" Context from the caller, for spellings and names (not to be transcribed): {prompt}");
        }
        return instruction.ToString();
    }

    /// <summary>The mimeType Gemini reads for a container (its list: wav, mp3, aiff, aac, ogg, flac); others go as
    /// their own type, and a refusal of Gemini's is passed on.</summary>
    private static string MimeType(string? container, string uploaded) => container switch
    {
        "wav" => "audio/wav",
        "mp3" => "audio/mp3",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "webm" => "audio/webm",
        "m4a" or "mp4" => "audio/mp4",
        _ => uploaded.StartsWith("audio/", StringComparison.OrdinalIgnoreCase) ? uploaded : "audio/wav",
    };

    private static JsonArray UserTurn(params JsonNode[] parts) => new(new JsonObject { ["role"] = "user", ["parts"] = new JsonArray(parts) });

    private static string? Field(TranscriptionRequest request, string name) =>
        request.Fields.LastOrDefault(f => f.Key == name).Value is { Length: > 0 } value ? value : null;

    private static (string MimeType, byte[] Data) ReadAudio(ProviderEndpoint endpoint, JsonNode answer)
    {
        foreach (var (mimeType, data) in GeminiMapping.InlineData(answer))
        {
            try
            {
                return (mimeType ?? "", Convert.FromBase64String(data));
            }
            catch (FormatException ex)
            {
                throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, 200, $"{endpoint.Provider} sent audio that is not base64.", ex);
            }
        }
        var reason = GeminiMapping.BlockedReason(answer);
        throw new ProviderException(endpoint.Provider, ProviderErrorClass.BadRequest, 200,
            reason is { Length: > 0 } ? $"{endpoint.Provider} made no speech: {reason}." : $"{endpoint.Provider} made no speech.");
    }

    /// <summary>The <c>rate=</c> parameter of <c>audio/L16;codec=pcm;rate=24000</c>.</summary>
    private static int SampleRate(string mimeType)
    {
        foreach (var parameter in mimeType.Split(';', StringSplitOptions.TrimEntries))
        {
            if (parameter.StartsWith("rate=", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(parameter.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out var rate) && rate > 0)
            {
                return rate;
            }
        }
        return DefaultSampleRate;
    }

    /// <summary>Mono 16-bit PCM in a canonical 44-byte WAV header.</summary>
    private static byte[] Wav(byte[] pcm, int sampleRate)
    {
        const short channels = 1, bitsPerSample = 16, blockAlign = channels * bitsPerSample / 8;
        var wav = new byte[44 + pcm.Length];
        var span = wav.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + pcm.Length);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1); // PCM
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], channels);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * blockAlign);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], blockAlign);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], bitsPerSample);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], pcm.Length);
        pcm.CopyTo(span[44..]);
        return wav;
    }
}
