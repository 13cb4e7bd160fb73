using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Fakes;
using static AigneHub.Tests.Providers.ImageProvidersFixture;

namespace AigneHub.Tests.Providers.Gemini;

/// <summary>Image generation on Gemini through the hub's routes: Imagen (<c>:predict</c>) and a Gemini image model
/// (<c>:generateContent</c> asking for the IMAGE modality), against <see cref="FakeGemini"/>.</summary>
[Collection(ImageProvidersCollection.Name)]
public sealed class GeminiImageTests(ImageProvidersFixture hub)
{
    [Fact]
    public async Task Imagen_gets_the_prompt_the_count_and_the_nearest_aspect_ratio_and_the_caller_gets_each_image()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Gemini.Requests.Count;

        // 1792 / 1024 = 1.75: of Imagen's ratios 16:9 (1.78) is the nearest.
        using var response = await client.PostAsync("/api/v2/images/generations",
            OpenAiImages($"google/{Imagen}", "A lighthouse at dawn", n: 3, size: "1792x1024", format: "b64_json"));

        var body = await OkAsync(response);
        var sent = hub.Gemini.Requests.Skip(before).Single();
        Assert.Equal($"/v1beta/models/{Imagen}:predict", sent.Path);
        Assert.Equal(GeminiKey, sent.Header("x-goog-api-key"));
        Assert.Equal("A lighthouse at dawn", (string?)sent.RequiredBody["instances"]![0]!["prompt"]);
        Assert.Equal(3, (int?)sent.RequiredBody["parameters"]!["sampleCount"]);
        Assert.Equal("16:9", (string?)sent.RequiredBody["parameters"]!["aspectRatio"]);
        var data = body["data"]!.AsArray();
        Assert.Equal([.. Enumerable.Range(0, 3).Select(i => Convert.ToBase64String(FakeGemini.ImageBytes("imagen", i)))],
            data.Select(d => (string)d!["b64_json"]!).ToArray());

        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(ModelType.Image, call.Type);
        Assert.Equal(3, call.Images);
        Assert.Equal(3 * ImageRate, call.Credits);
        Assert.Equal(3 * ImageRate, await hub.Host.DebitsAsync(member));
    }

    [Fact]
    public async Task A_gemini_image_model_answers_the_aigne_envelope_with_its_inline_image_and_its_usage_counted_once()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Gemini.Requests.Count;
        hub.Gemini.Enqueue(new FakeReply { InputTokens = 9, OutputTokens = 1290 });

        // 1024 / 1536 = 2:3 exactly, one of the Gemini image models' ratios.
        using var response = await client.PostAsync("/api/v2/image", AigneImage($"google/{GeminiImage}", "A fox in the snow", size: "1024x1536"));

        var body = await OkAsync(response);
        var sent = hub.Gemini.Requests.Skip(before).Single();
        Assert.Equal($"/v1beta/models/{GeminiImage}:generateContent", sent.Path);
        Assert.Equal(GeminiKey, sent.Header("x-goog-api-key"));
        Assert.Equal("A fox in the snow", (string?)sent.RequiredBody["contents"]![0]!["parts"]![0]!["text"]);
        var config = sent.RequiredBody["generationConfig"]!;
        Assert.Equal(["IMAGE"], config["responseModalities"]!.AsArray().Select(m => (string)m!).ToArray());
        Assert.Equal("2:3", (string?)config["imageConfig"]!["aspectRatio"]);
        var image = body["images"]!.AsArray().Single()!;
        Assert.Equal("file", (string?)image["type"]);
        Assert.Equal(Convert.ToBase64String(FakeGemini.ImageBytes("gemini", 0)), (string?)image["data"]);
        Assert.Equal("image/jpeg", (string?)image["mimeType"]);
        Assert.Equal(9, (int?)body["usage"]!["inputTokens"]);
        Assert.Equal(1290, (int?)body["usage"]!["outputTokens"]);

        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(1, call.Images);
        Assert.Equal(9, call.PromptTokens);
        Assert.Equal(1290, call.CompletionTokens);
        Assert.Equal(ImageRate, call.Credits);
    }

    [Theory]
    [InlineData(Imagen, 5, "at most 4 images")]
    [InlineData(GeminiImage, 2, "one image")]
    [InlineData("gemini-2.5-flash", 1, "not a Gemini image model")]
    public async Task What_the_model_cannot_make_is_refused_before_anything_is_reserved(string model, int n, string says)
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Gemini.Requests.Count;

        using var response = await client.PostAsync("/api/v2/images/generations", OpenAiImages($"google/{model}", "Too many foxes", n));

        await hub.AssertRefusedUpFrontAsync(response, member, says);
        Assert.Equal(before, hub.Gemini.Requests.Count);
    }
}
