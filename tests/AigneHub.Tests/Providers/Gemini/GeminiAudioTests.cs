using System.Buffers.Binary;
using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Gateway;
using AigneHub.Tests.Infrastructure;
using OpenAI;
using OpenAI.Audio;

namespace AigneHub.Tests.Providers.Gemini;

/// <summary>
/// One billing Api (credits on) in front of <see cref="FakeGemini"/> as <c>google</c>, a TTS model and an
/// audio-understanding model rated per character and per second of audio.
/// </summary>
public sealed class GeminiAudioFixture : IAsyncLifetime
{
    public const string Tts = "gemini-2.5-flash-preview-tts";
    public const string Listener = "gemini-2.5-flash";
    public const string Key = "gemini-test-audio-0123456789";
    public const string SecondRateText = "0.0123";
    public const string CharacterRateText = "0.0002";
    public static readonly decimal SecondRate = decimal.Parse(SecondRateText, CultureInfo.InvariantCulture);
    public static readonly decimal CharacterRate = decimal.Parse(CharacterRateText, CultureInfo.InvariantCulture);

    internal BillingHost Host { get; private set; } = null!;

    public FakeGemini Gemini { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Gemini = await FakeGemini.StartAsync();
        Gemini.ApiKey = Key;
        Host = await BillingHost.StartAsync();
        using var owner = Host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "google", Gemini.BaseUrl, Key, $"{Listener}:chat");
        foreach (var model in new[] { Tts, Listener })
        {
            await Host.AddRateAsync(new ModelTarget(ProviderKinds.Google, null, Gemini.BaseUrl, model, ModelType.Audio), "0", "0",
                $$""","characterRate":{{CharacterRateText}},"secondRate":{{SecondRateText}}""");
        }
    }

    /// <summary>A member with 100 credits, a client with their key, and the SDK's audio client for <paramref name="model"/>.</summary>
    public async Task<(Guid Member, HttpClient Client, AudioClient Sdk)> MemberAsync(string model)
    {
        using var owner = Host.Owner;
        var (member, key) = await owner.CreateMemberAsync();
        await Host.GrantAsync(member, "100");
        var client = Host.Api.CreateClient(key);
        var sdk = new AudioClient($"google/{model}", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(client.BaseAddress!, "api/v2/") });
        return (member, client, sdk);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Gemini.DisposeAsync();
    }
}

/// <summary>
/// Gemini speech (TTS through <c>generateContent</c> with the AUDIO modality, PCM answered as WAV or raw) and
/// transcription/translation (the upload as <c>inlineData</c>) through the hub's OpenAI audio routes, with the
/// official SDK's <see cref="AudioClient"/> where it can say what the test needs; charges worked out from the inputs.
/// </summary>
public sealed class GeminiAudioTests(GeminiAudioFixture hub) : IClassFixture<GeminiAudioFixture>
{
    private const string Tts = GeminiAudioFixture.Tts;
    private const string Listener = GeminiAudioFixture.Listener;

    [Fact]
    public async Task Speech_as_wav_is_the_providers_pcm_under_a_24_khz_mono_16_bit_header_charged_per_character()
    {
        var (member, client, sdk) = await hub.MemberAsync(Tts);
        using var _ = client;
        const string input = "Good morning from Gemini.";
        var before = hub.Gemini.Requests.Count;

        BinaryData speech = await sdk.GenerateSpeechAsync(input, new GeneratedSpeechVoice("Kore"),
            new SpeechGenerationOptions { ResponseFormat = GeneratedSpeechFormat.Wav, SpeedRatio = 1.25f });

        var pcm = FakeGemini.SpeechPcm(input);
        var wav = speech.ToArray();
        Assert.Equal(44 + pcm.Length, wav.Length);
        Assert.Equal("RIFF", Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal(36 + pcm.Length, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(4)));
        Assert.Equal("WAVEfmt ", Encoding.ASCII.GetString(wav, 8, 8));
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(20))); // PCM
        Assert.Equal(1, BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(22))); // mono
        Assert.Equal(24000, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(24)));
        Assert.Equal(24000 * 2, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(28)));
        Assert.Equal(16, BinaryPrimitives.ReadInt16LittleEndian(wav.AsSpan(34)));
        Assert.Equal("data", Encoding.ASCII.GetString(wav, 36, 4));
        Assert.Equal(pcm.Length, BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(40)));
        Assert.Equal(pcm, wav[44..]);

        var sent = hub.Gemini.Requests.Skip(before).Single();
        Assert.Equal($"/v1beta/models/{Tts}:generateContent", sent.Path);
        Assert.Equal(GeminiAudioFixture.Key, sent.Header("x-goog-api-key"));
        Assert.Equal(input, (string?)sent.RequiredBody["contents"]![0]!["parts"]![0]!["text"]);
        var config = sent.RequiredBody["generationConfig"]!;
        Assert.Equal("AUDIO", (string?)config["responseModalities"]![0]);
        Assert.Equal("Kore", (string?)config["speechConfig"]!["voiceConfig"]!["prebuiltVoiceConfig"]!["voiceName"]);
        Assert.DoesNotContain("speed", sent.RawBody, StringComparison.OrdinalIgnoreCase); // dropped: Gemini has none

        var call = await hub.Host.WaitForSettledAsync(member);
        var expected = input.Length * GeminiAudioFixture.CharacterRate; // ASCII: a character a code point
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(ModelType.Audio, call.Type);
        Assert.Equal("google", call.Provider);
        Assert.Equal(input.Length, call.Characters);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, call.ReservedCredits);
        Assert.Equal(expected, await hub.Host.DebitsAsync(member));
        Assert.Equal(0m, (await hub.Host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task Speech_as_pcm_is_the_raw_pcm_with_the_callers_instructions_as_the_style_prefix()
    {
        var (member, client, _) = await hub.MemberAsync(Tts);
        using var __ = client;
        const string input = "The train leaves at nine.";
        var before = hub.Gemini.Requests.Count;

        using var response = await client.PostAsync("/api/v2/audio/speech", ImageProvidersFixture.Json(new JsonObject
        {
            ["model"] = $"google/{Tts}", ["input"] = input, ["voice"] = "Puck", ["instructions"] = "Say cheerfully", ["response_format"] = "pcm",
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/pcm", response.Content.Headers.ContentType?.MediaType);
        const string spoken = "Say cheerfully: " + input;
        Assert.Equal(spoken, (string?)hub.Gemini.Requests.Skip(before).Single().RequiredBody["contents"]![0]!["parts"]![0]!["text"]);
        Assert.Equal(FakeGemini.SpeechPcm(spoken), await response.Content.ReadAsByteArrayAsync());
        // Billed on the caller's input, not on the instructions added to it.
        Assert.Equal(input.Length * GeminiAudioFixture.CharacterRate, (await hub.Host.WaitForSettledAsync(member)).Credits);
    }

    [Fact]
    public async Task Speech_with_no_format_is_wav()
    {
        var (_, client, _) = await hub.MemberAsync(Tts);
        using var __ = client;

        using var response = await client.PostAsync("/api/v2/audio/speech", ImageProvidersFixture.Json(new JsonObject { ["model"] = $"google/{Tts}", ["input"] = "Hi.", ["voice"] = "Zephyr" }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("audio/wav", response.Content.Headers.ContentType?.MediaType);
        var wav = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("RIFF", Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal(FakeGemini.SpeechPcm("Hi."), wav[44..]);
    }

    [Theory]
    [InlineData("mp3", "Kore", "response_format", "wav, pcm")]
    [InlineData("opus", "Kore", "response_format", "wav, pcm")]
    [InlineData("wav", "alloy", "voice", "Kore")]
    public async Task Speech_gemini_cannot_give_is_a_400_naming_what_it_can_with_nothing_reserved_or_recorded(string format, string voice, string param, string named)
    {
        var (member, client, _) = await hub.MemberAsync(Tts);
        using var __ = client;
        var before = hub.Gemini.Requests.Count;

        using var response = await client.PostAsync("/api/v2/audio/speech", ImageProvidersFixture.Json(new JsonObject
        {
            ["model"] = $"google/{Tts}", ["input"] = "Not spoken.", ["voice"] = voice, ["response_format"] = format,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Contains(named, (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal(before, hub.Gemini.Requests.Count);
        Assert.Empty(await hub.Host.CallsAsync(member));
        Assert.Equal(0m, (await hub.Host.AccountAsync(member)).Reserved);
        Assert.Equal(0m, await hub.Host.DebitsAsync(member));
    }

    [Fact]
    public async Task Transcription_of_a_wav_of_known_duration_is_charged_its_seconds_times_the_rate_and_verbose_json_states_them()
    {
        var (member, client, sdk) = await hub.MemberAsync(Listener);
        using var _ = client;
        const int sampleRate = 16000, frames = 40000; // 2.5 s
        var wav = AudioTests.Wav(sampleRate, frames);
        var before = hub.Gemini.Requests.Count;
        hub.Gemini.Enqueue(new FakeReply { Text = "Guten Morgen, Jürgen.\n", InputTokens = 80, OutputTokens = 6 });

        AudioTranscription transcription = await sdk.TranscribeAudioAsync(new MemoryStream(wav), "speech.wav", new AudioTranscriptionOptions
        {
            ResponseFormat = AudioTranscriptionFormat.Verbose, Language = "de", Prompt = "Names: Jürgen",
        });

        var seconds = (decimal)frames / sampleRate;
        Assert.Equal("Guten Morgen, Jürgen.", transcription.Text);
        Assert.Equal("de", transcription.Language);
        Assert.Equal(TimeSpan.FromSeconds((double)seconds), transcription.Duration);

        var sent = hub.Gemini.Requests.Skip(before).Single();
        Assert.Equal($"/v1beta/models/{Listener}:generateContent", sent.Path);
        Assert.Equal(GeminiAudioFixture.Key, sent.Header("x-goog-api-key"));
        var parts = sent.RequiredBody["contents"]![0]!["parts"]!.AsArray();
        var instruction = (string)parts[0]!["text"]!;
        Assert.Contains("Transcribe", instruction, StringComparison.Ordinal);
        Assert.Contains("verbatim", instruction, StringComparison.Ordinal);
        Assert.Contains("'de'", instruction, StringComparison.Ordinal);
        Assert.Contains("Names: Jürgen", instruction, StringComparison.Ordinal);
        Assert.Equal("audio/wav", (string?)parts[1]!["inlineData"]!["mimeType"]);
        Assert.Equal(Convert.ToBase64String(wav), (string?)parts[1]!["inlineData"]!["data"]);

        var call = await hub.Host.WaitForSettledAsync(member);
        var expected = seconds * GeminiAudioFixture.SecondRate;
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(seconds, call.AudioSeconds);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, call.ReservedCredits); // the container stated the duration: the reservation is the charge
        Assert.False(call.Estimated);
        Assert.Equal(expected, await hub.Host.DebitsAsync(member));
    }

    [Fact]
    public async Task Translation_asks_for_english_and_answers_json_and_text()
    {
        var (member, client, sdk) = await hub.MemberAsync(Listener);
        using var _ = client;
        const int sampleRate = 8000, frames = 12000; // 1.5 s each
        var before = hub.Gemini.Requests.Count;
        hub.Gemini.Enqueue(new FakeReply { Text = "Good morning." }, new FakeReply { Text = "Good evening." });

        AudioTranslation translation = await sdk.TranslateAudioAsync(new MemoryStream(AudioTests.Wav(sampleRate, frames)), "speech.wav");
        using var text = await client.PostAsync("/api/v2/audio/translations",
            AudioTests.Upload(AudioTests.Wav(sampleRate, frames), "speech.wav", $"google/{Listener}", ("response_format", "text")));

        Assert.Equal("Good morning.", translation.Text);
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        Assert.Equal("text/plain", text.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Good evening.", (await text.Content.ReadAsStringAsync()).TrimEnd('\n'));
        var sent = hub.Gemini.Requests.Skip(before).ToList();
        Assert.Equal(2, sent.Count);
        Assert.All(sent, s => Assert.Contains("into English", (string)s.RequiredBody["contents"]![0]!["parts"]![0]!["text"]!, StringComparison.Ordinal));

        var calls = await WaitForCallsAsync(member, 2);
        var expected = (decimal)frames / sampleRate * GeminiAudioFixture.SecondRate;
        Assert.All(calls, c => Assert.Equal(expected, c.Credits));
        Assert.Equal(2 * expected, await hub.Host.DebitsAsync(member));
    }

    [Theory]
    [InlineData("srt")]
    [InlineData("vtt")]
    public async Task Subtitle_formats_are_a_400_naming_the_formats_gemini_answers_with_nothing_recorded(string format)
    {
        var (member, client, _) = await hub.MemberAsync(Listener);
        using var _ = client;
        var before = hub.Gemini.Requests.Count;

        using var response = await client.PostAsync("/api/v2/audio/transcriptions",
            AudioTests.Upload(AudioTests.Wav(8000, 800), "a.wav", $"google/{Listener}", ("response_format", format)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("response_format", (string?)error["param"]);
        Assert.Contains("json, text, verbose_json", (string?)error["message"], StringComparison.Ordinal);
        Assert.Equal(before, hub.Gemini.Requests.Count);
        Assert.Empty(await hub.Host.CallsAsync(member));
        Assert.Equal(0m, (await hub.Host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task An_upload_larger_than_gemini_takes_inline_is_a_413_with_nothing_recorded()
    {
        var (member, client, _) = await hub.MemberAsync(Listener);
        using var _ = client;
        var before = hub.Gemini.Requests.Count;
        // 14 MiB of samples and the 44-byte header: over Gemini's inline limit (20 MB of base64), under the hub's 25 MiB.
        var wav = AudioTests.Wav(16000, 14 * 1024 * 1024 / 2);

        using var response = await client.PostAsync("/api/v2/audio/transcriptions", AudioTests.Upload(wav, "long.wav", $"google/{Listener}"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("request_too_large", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["code"]);
        Assert.Equal(before, hub.Gemini.Requests.Count);
        Assert.Empty(await hub.Host.CallsAsync(member));
    }

    private async Task<List<ModelCall>> WaitForCallsAsync(Guid member, int count)
    {
        for (var i = 0; i < 100; i++)
        {
            var calls = await hub.Host.CallsAsync(member);
            if (calls.Count == count && calls.All(c => c.Status != ModelCallStatus.Processing))
            {
                return calls;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"{count} settled calls did not appear.");
    }
}
