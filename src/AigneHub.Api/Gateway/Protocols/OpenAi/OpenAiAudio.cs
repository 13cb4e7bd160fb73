using System.Text.Json.Nodes;
using AigneHub.Api.Gateway.Pipeline;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Protocols.OpenAi;

/// <summary>OpenAI's audio requests: <c>audio/speech</c> (JSON), <c>audio/transcriptions</c> and <c>audio/translations</c> (multipart).</summary>
internal static class OpenAiAudio
{
    private static readonly string[] SpeechFormats = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

    private static readonly string[] TranscriptFormats = ["json", "text", "srt", "verbose_json", "vtt"];

    /// <summary>The form fields kept on the call record (the file and free text such as the prompt are not).</summary>
    private static readonly string[] KeptFields = ["response_format", "language", "temperature", "timestamp_granularities[]"];

    public static (SpeechRequest Request, JsonObject Parameters) ReadSpeech(JsonFields body)
    {
        var model = JsonFields.RequireModel(body["model"], "model");
        var input = body.Text("input") is { Length: > 0 } text ? text : throw GatewayException.BadRequest("'input' is required: the text to speak.", "input");
        var voice = body.String("voice", 200) ?? throw GatewayException.BadRequest("'voice' is required.", "voice");
        var speed = body.Number("speed");
        if (speed is < 0.25 or > 4)
        {
            throw JsonFields.Invalid("speed", "must be between 0.25 and 4");
        }
        if (body.OneOf("stream_format", "audio", "sse") == "sse")
        {
            throw GatewayException.BadRequest("'stream_format' sse is not offered: the audio is streamed as bytes as it arrives.", "stream_format");
        }
        var request = new SpeechRequest
        {
            Model = model,
            Input = input,
            Voice = voice,
            Instructions = body.Text("instructions"),
            ResponseFormat = body.OneOf("response_format", SpeechFormats),
            Speed = speed,
        };
        return (request, body.Kept("voice", "response_format", "speed"));
    }

    /// <summary>A transcription or translation form; its file must be in a container the family takes (400 naming it otherwise).</summary>
    public static TranscriptionCall ReadTranscription(UploadForm form, AudioOperations operation)
    {
        var model = JsonFields.RequireModel(form.Single("model") is { } m ? JsonValue.Create(m) : null, "model");
        var format = form.Single("response_format");
        if (format is not null && !TranscriptFormats.Contains(format, StringComparer.Ordinal))
        {
            throw JsonFields.Invalid("response_format", $"must be one of {string.Join(", ", TranscriptFormats)}");
        }
        if (form.Single("stream") is { } stream && !string.Equals(stream, "false", StringComparison.OrdinalIgnoreCase))
        {
            throw GatewayException.BadRequest("'stream' is not offered for transcriptions: the transcript is answered whole.", "stream");
        }
        var file = form.FilesOf("file") is [var upload] ? upload : throw GatewayException.BadRequest("'file' is required: the audio to transcribe.", "file");
        var container = AudioContainer.Read(file.Bytes.Span)
            ?? throw GatewayException.BadRequest(
                $"Unsupported audio container '{AudioContainer.Describe(file.Bytes.Span, file.FileName)}' (file '{file.FileName}'): send one of {AudioContainer.Supported}.", "file");

        var parameters = new JsonObject();
        foreach (var (name, value) in form.Fields)
        {
            if (KeptFields.Contains(name, StringComparer.Ordinal))
            {
                parameters[name] = parameters[name] is JsonNode earlier ? $"{earlier.GetValue<string>()},{value}" : value;
            }
        }
        var request = new TranscriptionRequest
        {
            Operation = operation,
            Model = model,
            File = file,
            Fields = [.. form.Fields.Where(f => f.Key is not ("model" or "stream"))],
        };
        return new TranscriptionCall(request, container, parameters);
    }
}

/// <summary>Speech: the provider's audio bytes and content type, as they arrive.</summary>
internal sealed class OpenAiSpeechWriter(HttpContext context) : ISpeechAnswerWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAudioAsync(string contentType, ReadOnlyMemory<byte> audio) => Caller.WriteChunkAsync(contentType, audio);

    /// <summary>Audio bytes have no error event: the transfer is cut so the caller cannot take truncated audio for whole.</summary>
    public Task WriteFailureAfterCommitAsync(string message)
    {
        Caller.Abort();
        return Task.CompletedTask;
    }
}

/// <summary>A transcription: the provider's answer with its content type (JSON, or text, SRT or VTT), as it came.</summary>
internal sealed class OpenAiTranscriptionWriter(HttpContext context) : ITranscriptionAnswerWriter
{
    public CallerResponse Caller { get; } = new(context);

    public Task WriteAsync(TranscriptionResponse response, ModelTarget target) => Caller.WriteBodyAsync(response.ContentType, response.Body);
}
