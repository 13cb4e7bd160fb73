using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AigneHub.Api.Providers.OpenAI;

/// <summary>
/// OpenAI's audio API for the members of the family that serve it (<see cref="ProviderKind.Audio"/>: OpenAI, Azure
/// OpenAI and Groq all three operations, Mistral transcriptions): <c>{baseUrl}audio/speech</c> (JSON in, the audio
/// bytes back as they arrive, with the provider's content type), <c>audio/transcriptions</c> and
/// <c>audio/translations</c> (the caller's file and form fields as a multipart upload; the answer kept as it came).
/// Limitations: speech is asked for as bytes (<c>stream_format: sse</c>, which would carry gpt-4o-mini-tts's token
/// usage, is not offered); streamed transcriptions (<c>stream=true</c>) are not offered; a field a member does not
/// know (Mistral is strict) is its 4xx, passed on to the caller.
/// </summary>
public sealed class OpenAiAudioAdapter(ProviderHttp http) : IAudioAdapter
{
    public async Task<SpeechAudio> SpeakAsync(ProviderEndpoint endpoint, SpeechRequest request, CancellationToken cancellationToken)
    {
        var payload = new JsonObject
        {
            ["model"] = request.Model,
            ["input"] = request.Input,
            ["voice"] = request.Voice,
        };
        if (request.Instructions is not null) { payload["instructions"] = request.Instructions; }
        if (request.ResponseFormat is not null) { payload["response_format"] = request.ResponseFormat; }
        if (request.Speed is double speed) { payload["speed"] = speed; }
        using var message = OpenAiRequests.Post(endpoint, "audio/speech", payload);
        message.Headers.Accept.Clear();
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*"));
        var response = await http.SendAsync(endpoint, message, cancellationToken);
        var contentType = response.Content.Headers.ContentType?.ToString() ?? SpeechContentType(request.ResponseFormat);
        return new SpeechAudio(response, http.OpenBody(endpoint, response), contentType);
    }

    public async Task<TranscriptionResponse> TranscribeAsync(ProviderEndpoint endpoint, TranscriptionRequest request, CancellationToken cancellationToken)
    {
        var path = request.Operation == AudioOperations.Translation ? "audio/translations" : "audio/transcriptions";
        var form = new MultipartFormDataContent
        {
            { new StringContent(request.Model), "model" },
        };
        foreach (var (name, value) in request.Fields)
        {
            form.Add(new StringContent(value), name);
        }
        var file = new ReadOnlyMemoryContent(request.File.Bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.TryParse(request.File.ContentType, out var type) ? type : new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", request.File.FileName);
        using var message = OpenAiRequests.Post(endpoint, path, request.Model, form);
        message.Headers.Accept.Clear();
        message.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("*/*"));

        using var response = await http.SendAsync(endpoint, message, cancellationToken);
        var bytes = await http.ReadAllAsync(endpoint, response, cancellationToken);
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var contentType = response.Content.Headers.ContentType?.ToString() ?? "application/json";
        if (mediaType is not null && !mediaType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return new TranscriptionResponse(bytes, contentType); // text, SRT, VTT: no metering in the answer
        }
        JsonObject answer;
        try
        {
            answer = JsonNode.Parse(bytes.Span) as JsonObject
                ?? throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode, $"{endpoint.Provider} sent a JSON answer that is not an object.");
        }
        catch (JsonException ex)
        {
            throw new ProviderException(endpoint.Provider, ProviderErrorClass.Unavailable, (int)response.StatusCode, $"{endpoint.Provider} sent malformed JSON: {ex.Message}", ex);
        }
        // whisper-1 reports {"usage":{"type":"duration","seconds":N}}, the gpt-4o transcribers {"type":"tokens",…};
        // verbose_json also has the audio's "duration".
        var usage = answer["usage"] as JsonObject;
        var seconds = OpenAiRequests.Seconds(usage?["seconds"]) ?? OpenAiRequests.Seconds(answer["duration"]);
        TokenUsage? tokens = usage is not null && (string?)usage["type"] == "tokens"
            ? new TokenUsage { InputTokens = (int?)usage["input_tokens"] ?? 0, OutputTokens = (int?)usage["output_tokens"] ?? 0 }
            : null;
        return new TranscriptionResponse(bytes, contentType) { Seconds = seconds, Usage = tokens };
    }

    /// <summary>OpenAI's content types by speech format, for a provider that sends none.</summary>
    private static string SpeechContentType(string? format) => format switch
    {
        "opus" => "audio/opus",
        "aac" => "audio/aac",
        "flac" => "audio/flac",
        "wav" => "audio/wav",
        "pcm" => "audio/pcm",
        _ => "audio/mpeg",
    };
}
