using System.Text;
using AigneHub.Data.Billing;
using AigneHub.Tests.Fakes;
using static AigneHub.Tests.Providers.ImageProvidersFixture;

namespace AigneHub.Tests.Providers.Doubao;

/// <summary>Seedream on Volcengine Ark (<c>doubao</c>) through the hub's image routes, against <see cref="FakeOpenAI"/>
/// speaking Ark (which refuses <c>n</c>, <c>quality</c> and <c>style</c> as the real one does).</summary>
[Collection(ImageProvidersCollection.Name)]
public sealed class DoubaoImageTests(ImageProvidersFixture hub)
{
    [Fact]
    public async Task Several_images_are_one_sequential_generation_without_the_fields_ark_refuses()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Ark.Requests.Count;

        using var response = await client.PostAsync("/api/v2/images/generations",
            OpenAiImages($"doubao/{Seedream}", "Four seasons of one tree", n: 4, size: "2K", quality: "hd", style: "vivid"));

        var body = await OkAsync(response);
        var sent = hub.Ark.Requests.Skip(before).Single();
        Assert.Equal("/api/v3/images/generations", sent.Path);
        Assert.Equal($"Bearer {ArkKey}", sent.Header("Authorization"));
        var payload = sent.RequiredBody.AsObject();
        Assert.Equal(Seedream, (string?)payload["model"]);
        Assert.Equal("Four seasons of one tree", (string?)payload["prompt"]);
        Assert.Equal("2K", (string?)payload["size"]);
        Assert.Equal("auto", (string?)payload["sequential_image_generation"]);
        Assert.Equal(4, (int?)payload["sequential_image_generation_options"]!["max_images"]);
        Assert.False((bool)payload["watermark"]!);
        Assert.Equal("url", (string?)payload["response_format"]);
        Assert.All(FakeOpenAI.ArkRefusedImageFields, field => Assert.False(payload.ContainsKey(field), field));
        Assert.Equal([.. Enumerable.Range(0, 4).Select(i => $"https://ark-images.example/seedream-{i}.jpeg")],
            body["data"]!.AsArray().Select(d => (string)d!["url"]!).ToArray());

        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(4, call.Images);
        Assert.Equal(4 * FakeOpenAI.ArkTokensPerImage, call.CompletionTokens);
        Assert.Equal(4 * ImageRate, call.Credits);
    }

    [Fact]
    public async Task One_image_for_the_aigne_route_is_a_plain_generation_answered_as_a_file()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Ark.Requests.Count;

        using var response = await client.PostAsync("/api/v2/image", AigneImage($"doubao/{Seedream}", "A paper boat", size: "1024x1024"));

        var body = await OkAsync(response);
        var payload = hub.Ark.Requests.Skip(before).Single().RequiredBody.AsObject();
        Assert.Equal("disabled", (string?)payload["sequential_image_generation"]);
        Assert.False(payload.ContainsKey("sequential_image_generation_options"));
        Assert.Equal("1024x1024", (string?)payload["size"]);
        Assert.Equal("b64_json", (string?)payload["response_format"]);
        var image = body["images"]!.AsArray().Single()!;
        Assert.Equal("file", (string?)image["type"]);
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes("seedream-0")), (string?)image["data"]);

        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(1, call.Images);
        Assert.Equal(ImageRate, call.Credits);
    }
}
