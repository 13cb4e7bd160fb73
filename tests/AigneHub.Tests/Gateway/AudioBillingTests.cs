using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Audio calls with credit billing on, through HTTP to the fake's audio wire: a transcription is charged seconds ×
/// the second rate (the seconds read from the WAV the test made, or the provider's reported duration when it gives
/// one), speech characters × the character rate; each is one call record, reserved before the call; a provider
/// without the modality is refused before anything is reserved or recorded.
/// </summary>
public sealed class AudioBillingTests
{
    private const string SecondRate = "0.0123";
    private const string CharacterRate = "0.0002";

    private static async Task<(BillingHost Host, FakeOpenAI Fake, Guid Member, HttpClient Client)> StartAsync()
    {
        var fake = await FakeOpenAI.StartAsync();
        var host = await BillingHost.StartAsync();
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", fake.BaseUrl, "sk-test-audio-0123456789", "gpt-4o-mini");
        await GatewayFixture.AddProviderAsync(owner, "deepseek", fake.BaseUrl, "sk-test-audio-deepseek-0123", "deepseek-chat");
        foreach (var model in new[] { "whisper-1", "tts-1" })
        {
            await host.AddRateAsync(new ModelTarget(ProviderKinds.OpenAI, null, fake.BaseUrl, model, ModelType.Audio), "0", "0",
                $$""","characterRate":{{CharacterRate}},"secondRate":{{SecondRate}}""");
        }
        await host.AddRateAsync(new ModelTarget(ProviderKinds.DeepSeek, null, fake.BaseUrl, "deepseek-chat", ModelType.Audio), "0", "0", $$""","secondRate":{{SecondRate}}""");
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "100");
        return (host, fake, member, host.Api.CreateClient(key));
    }

    [Fact]
    public async Task A_wav_of_known_duration_is_charged_its_seconds_times_the_second_rate()
    {
        var (host, fake, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        using var ___ = client;
        const int sampleRate = 16000, frames = 40000; // 2.5 s
        var wav = AudioTests.Wav(sampleRate, frames);

        // text: the provider's answer carries no duration, so the hub's reading of the WAV is what is charged.
        using var response = await client.PostAsync("/api/v2/audio/transcriptions",
            AudioTests.Upload(wav, "speech.wav", "openai/whisper-1", ("response_format", "text")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var call = await host.WaitForSettledAsync(member);
        var seconds = (decimal)frames / sampleRate;
        var expected = seconds * decimal.Parse(SecondRate, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(ModelType.Audio, call.Type);
        Assert.Equal(seconds, call.AudioSeconds);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, call.ReservedCredits); // the container stated the duration: the reservation is the charge
        Assert.False(call.Estimated);
        Assert.Equal(expected, await host.DebitsAsync(member));
        Assert.Equal("text", (string?)call.Parameters?["response_format"]);
    }

    [Fact]
    public async Task The_providers_reported_duration_is_what_is_charged()
    {
        var (host, fake, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        using var ___ = client;
        const double reported = 3.25;
        fake.Enqueue(new FakeReply { ReportedSeconds = reported });

        using var response = await client.PostAsync("/api/v2/audio/translations",
            AudioTests.Upload(AudioTests.Wav(8000, 24000), "speech.wav", "openai/whisper-1", ("response_format", "json")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var call = await host.WaitForSettledAsync(member);
        Assert.Equal((decimal)reported, call.AudioSeconds);
        Assert.Equal((decimal)reported * decimal.Parse(SecondRate, System.Globalization.CultureInfo.InvariantCulture), call.Credits);
    }

    [Fact]
    public async Task Speech_is_charged_its_input_characters_times_the_character_rate()
    {
        var (host, fake, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        using var ___ = client;
        const string input = "Read this aloud, please.";

        using var response = await client.PostAsync("/api/v2/audio/speech", new StringContent(
            new JsonObject { ["model"] = "openai/tts-1", ["input"] = input, ["voice"] = "alloy" }.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(FakeOpenAI.SpeechFor(input), await response.Content.ReadAsByteArrayAsync());

        var call = await host.WaitForSettledAsync(member);
        var expected = input.Length * decimal.Parse(CharacterRate, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(input.Length, call.Characters);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, call.ReservedCredits);
        Assert.Equal(expected, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task A_provider_without_the_modality_is_refused_before_anything_is_reserved_or_recorded()
    {
        var (host, fake, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = fake;
        using var ___ = client;

        using var response = await client.PostAsync("/api/v2/audio/transcriptions",
            AudioTests.Upload(AudioTests.Wav(8000, 800), "a.wav", "deepseek/deepseek-chat"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("DeepSeek does not transcribe audio.", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]);
        Assert.Empty(await host.CallsAsync(member));
        Assert.Empty(fake.Requests);
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task Groq_transcribes_and_mistral_which_only_transcribes_refuses_translation()
    {
        var groq = await FakeOpenAI.StartAsync(FakeOpenAiDialect.Groq);
        await using var _ = groq;
        var (host, fake, member, client) = await StartAsync();
        await using var __ = host;
        await using var ___ = fake;
        using var ____ = client;
        using (var owner = host.Owner)
        {
            await GatewayFixture.AddProviderAsync(owner, "groq", groq.BaseUrl, "gsk-test-audio-0123456789", "whisper-large-v3");
            await GatewayFixture.AddProviderAsync(owner, "mistral", groq.BaseUrl, "mistral-test-audio-0123456789", "voxtral-mini-latest");
        }
        await host.AddRateAsync(new ModelTarget(ProviderKinds.Groq, null, groq.BaseUrl, "whisper-large-v3", ModelType.Audio), "0", "0", $$""","secondRate":{{SecondRate}}""");
        groq.Enqueue(new FakeReply { Text = "Groq heard it." });

        using var heard = await client.PostAsync("/api/v2/audio/transcriptions",
            AudioTests.Upload(AudioTests.Wav(16000, 16000), "a.wav", "groq/whisper-large-v3"));
        using var refused = await client.PostAsync("/api/v2/audio/translations",
            AudioTests.Upload(AudioTests.Wav(16000, 16000), "a.wav", "mistral/voxtral-mini-latest"));

        Assert.Equal(HttpStatusCode.OK, heard.StatusCode);
        Assert.Equal("Groq heard it.", (string?)JsonNode.Parse(await heard.Content.ReadAsStringAsync())!["text"]);
        Assert.Equal("/v1/audio/transcriptions", groq.LastRequest.Path);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("Mistral AI does not translate audio.", (string?)JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["message"]);
        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(1m * decimal.Parse(SecondRate, System.Globalization.CultureInfo.InvariantCulture), call.Credits);
    }
}
