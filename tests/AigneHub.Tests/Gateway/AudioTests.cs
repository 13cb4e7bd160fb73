using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using OpenAI;
using OpenAI.Audio;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// OpenAI's audio API through the hub (base URL <c>&lt;hub&gt;/api/v2</c>) to the fake's audio wire: the official
/// SDK's AudioClient for speech, transcription and translation, the formats and content types, and the refusals
/// (413, a provider without the modality, a body that is no upload, a container the family does not take).
/// </summary>
public sealed class AudioTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private OpenAIClientOptions Options => new() { Endpoint = new Uri(hub.HubBase, "api/v2/") };

    private AudioClient Audio(string model) => new(model, new ApiKeyCredential(Infrastructure.ApiFactory.OwnerKey), Options);

    /// <summary>A PCM WAV of <paramref name="frames"/> frames (canonical 44-byte header): its duration is frames ÷ rate.</summary>
    public static byte[] Wav(int sampleRate, int frames, short channels = 1, short bitsPerSample = 16)
    {
        var blockAlign = channels * bitsPerSample / 8;
        var data = frames * blockAlign;
        var wav = new byte[44 + data];
        var w = new BinaryWriter(new MemoryStream(wav));
        w.Write("RIFF"u8);
        w.Write(36 + data);
        w.Write("WAVEfmt "u8);
        w.Write(16);
        w.Write((short)1);
        w.Write(channels);
        w.Write(sampleRate);
        w.Write(sampleRate * blockAlign);
        w.Write((short)blockAlign);
        w.Write(bitsPerSample);
        w.Write("data"u8);
        w.Write(data);
        for (var i = 44; i < wav.Length; i++)
        {
            wav[i] = (byte)(i * 31);
        }
        return wav;
    }

    public static MultipartFormDataContent Upload(byte[] file, string fileName, string model, params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent { { new StringContent(model), "model" } };
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }
        var part = new ByteArrayContent(file);
        part.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
        form.Add(part, "file", fileName);
        return form;
    }

    [Fact]
    public async Task The_sdk_speaks_through_the_hub_and_gets_the_providers_audio_bytes()
    {
        const string input = "Hello from the hub.";
        var before = hub.Primary.Requests.Count;

        BinaryData speech = await Audio("openai/tts-1").GenerateSpeechAsync(input, GeneratedSpeechVoice.Alloy,
            new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav, SpeedRatio = 1.5f });

        Assert.Equal(FakeOpenAI.SpeechFor(input), speech.ToArray());
        var recorded = hub.Primary.Requests.Skip(before).Single();
        Assert.Equal("/v1/audio/speech", recorded.Path);
        Assert.Equal($"Bearer {GatewayFixture.ProviderKey}", recorded.Header("Authorization"));
        var body = recorded.RequiredBody;
        Assert.Equal("tts-1", (string?)body["model"]);
        Assert.Equal(input, (string?)body["input"]);
        Assert.Equal("alloy", (string?)body["voice"]);
        Assert.Equal("wav", (string?)body["response_format"]);
        Assert.Equal(1.5, (double?)body["speed"]);
    }

    [Fact]
    public async Task Speech_comes_back_in_the_providers_content_type_as_it_arrives()
    {
        var audio = Encoding.ASCII.GetBytes("RIFF-first|second|third");
        var reply = new FakeReply { Audio = audio, AudioChunkBytes = 11, DelayBetweenEvents = TimeSpan.FromSeconds(2) };
        hub.Primary.Enqueue(reply);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/audio/speech")
        {
            Content = new StringContent("""{"model":"openai/tts-1","input":"three pieces","voice":"nova","response_format":"wav"}""", Encoding.UTF8, "application/json"),
        };
        using var response = await hub.Owner.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
        await using var stream = await response.Content.ReadAsStreamAsync();
        var first = new byte[11];
        await stream.ReadExactlyAsync(first);
        // The first piece is here while the fake still holds the rest back: nothing was buffered on the way.
        Assert.False(reply.LastEventSent.Task.IsCompleted);
        Assert.Equal(audio[..11], first);
        using var rest = new MemoryStream();
        await stream.CopyToAsync(rest);
        Assert.Equal(audio[11..], rest.ToArray());
    }

    [Fact]
    public async Task The_sdk_transcribes_and_translates_a_wav_upload()
    {
        var wav = Wav(sampleRate: 16000, frames: 40000);
        var before = hub.Primary.Requests.Count;
        hub.Primary.Enqueue(new FakeReply { Text = "It is 2.5 seconds long." }, new FakeReply { Text = "In English." });

        AudioTranscription transcription = await Audio("openai/whisper-1").TranscribeAudioAsync(new MemoryStream(wav), "speech.wav",
            new AudioTranscriptionOptions { ResponseFormat = AudioTranscriptionFormat.Verbose, Language = "en" });
        AudioTranslation translation = await Audio("openai/whisper-1").TranslateAudioAsync(new MemoryStream(wav), "speech.wav");

        Assert.Equal("It is 2.5 seconds long.", transcription.Text);
        Assert.Equal(TimeSpan.FromSeconds(40000 / 16000.0), transcription.Duration);
        Assert.Equal("In English.", translation.Text);
        var requests = hub.Primary.Requests.Skip(before).ToList();
        Assert.Equal(["/v1/audio/transcriptions", "/v1/audio/translations"], requests.Select(r => r.Path));
        foreach (var recorded in requests)
        {
            Assert.Equal("whisper-1", (string?)recorded.RequiredBody["model"]);
            Assert.Equal("speech.wav", (string?)recorded.RequiredBody["file"]!["filename"]);
            Assert.Equal(wav, recorded.File);
        }
        Assert.Equal("en", (string?)requests[0].RequiredBody["language"]);
        Assert.Equal("verbose_json", (string?)requests[0].RequiredBody["response_format"]);
    }

    [Theory]
    [InlineData("text", "text/plain", "Plain words.")]
    [InlineData("srt", "text/plain", "00:00:00,000 --> 00:00:01,000")]
    [InlineData("vtt", "text/vtt", "WEBVTT")]
    [InlineData("json", "application/json", "\"text\":\"Plain words.\"")]
    [InlineData("verbose_json", "application/json", "\"duration\":")]
    public async Task Each_transcript_format_is_passed_through_with_the_providers_content_type(string format, string contentType, string contains)
    {
        hub.Primary.Enqueue(new FakeReply { Text = "Plain words." });
        using var response = await hub.Owner.PostAsync("/api/v2/audio/transcriptions",
            Upload(Wav(8000, 8000), "a.wav", "openai/whisper-1", ("response_format", format)));

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(contains, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upload_over_25_MiB_is_413_in_openais_error_shape()
    {
        var before = hub.Primary.Requests.Count;
        using var response = await hub.Owner.PostAsync("/api/v2/audio/transcriptions",
            Upload(new byte[25 * 1024 * 1024 + 1], "big.wav", "openai/whisper-1"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal("request_too_large", (string?)error["code"]);
        Assert.Equal(before, hub.Primary.Requests.Count);
    }

    [Theory]
    [InlineData("speech", "DeepSeek does not generate speech.")]
    [InlineData("transcriptions", "DeepSeek does not transcribe audio.")]
    [InlineData("translations", "DeepSeek does not translate audio.")]
    public async Task A_provider_without_the_modality_is_400_naming_it_and_is_never_called(string operation, string message)
    {
        var before = hub.Secondary.Requests.Count;
        using HttpContent content = operation == "speech"
            ? new StringContent("""{"model":"deepseek/deepseek-chat","input":"hi","voice":"alloy"}""", Encoding.UTF8, "application/json")
            : Upload(Wav(8000, 800), "a.wav", "deepseek/deepseek-chat");
        using var response = await hub.Owner.PostAsync($"/api/v2/audio/{operation}", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(message, (string?)error["message"]);
        Assert.Equal("model", (string?)error["param"]);
        Assert.Equal(before, hub.Secondary.Requests.Count);
    }

    public static TheoryData<string, Func<HttpContent>, string> BadUploads => new()
    {
        { "json", () => new StringContent("""{"model":"openai/whisper-1"}""", Encoding.UTF8, "application/json"), "multipart/form-data" },
        { "no boundary", () => new StringContent("x", Encoding.UTF8, "multipart/form-data"), "boundary" },
        { "torn", () => Torn(), "could not be read" },
        { "no file", () => new MultipartFormDataContent { { new StringContent("openai/whisper-1"), "model" } }, "'file' is required" },
        { "no model", () => WithoutModel(), "'model' is required" },
        { "bad format", () => Upload(Wav(8000, 800), "a.wav", "openai/whisper-1", ("response_format", "mp3")), "'response_format' must be one of" },
        { "aac", () => Upload([0xFF, 0xF1, 0x50, 0x80, 0x02, 0x1F, 0xFC, 0, 0, 0], "voice.aac", "openai/whisper-1"), "Unsupported audio container 'aac'" },
        { "text", () => Upload("just some text"u8.ToArray(), "notes.txt", "openai/whisper-1"), "Unsupported audio container 'txt'" },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task A_body_that_is_no_audio_upload_is_400_saying_why(string _, Func<HttpContent> content, string says)
    {
        var before = hub.Primary.Requests.Count;
        using var body = content();
        using var response = await hub.Owner.PostAsync("/api/v2/audio/transcriptions", body);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(says, (string?)JsonNode.Parse(text)!["error"]!["message"], StringComparison.Ordinal);
        Assert.Equal(before, hub.Primary.Requests.Count);
    }

    private static ByteArrayContent Torn()
    {
        var content = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nopenai/whisper-1\r\n--b\r\nContent-Disp"u8.ToArray());
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
        return content;
    }

    private static MultipartFormDataContent WithoutModel()
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(Wav(8000, 800)), "file", "a.wav");
        return form;
    }
}
