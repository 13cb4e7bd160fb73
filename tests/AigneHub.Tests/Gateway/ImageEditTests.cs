using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using OpenAI;
using OpenAI.Images;

namespace AigneHub.Tests.Gateway;

/// <summary>OpenAI's <c>images/edits</c> through the hub: the official SDK's ImageClient edit, with and without a mask.</summary>
public sealed class ImageEditTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private static readonly byte[] Png = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0, 0, 4, 0, 0, 0, 4, 0];

    private ImageClient Images(string model) =>
        new(model, new ApiKeyCredential(Infrastructure.ApiFactory.OwnerKey), new OpenAIClientOptions { Endpoint = new Uri(hub.HubBase, "api/v2/") });

    [Fact]
    public async Task The_sdk_edits_an_image_with_a_mask_and_the_provider_gets_both_files()
    {
        var before = hub.Primary.Requests.Count;

        GeneratedImage edited = await Images("openai/dall-e-2").GenerateImageEditAsync(new MemoryStream(Png), "cat.png", "add a hat",
            new MemoryStream(Png[..12]), "mask.png", new ImageEditOptions { ResponseFormat = GeneratedImageFormat.Bytes, Size = GeneratedImageSize.W256xH256 });

        Assert.Equal("edited-0", edited.ImageBytes.ToString());
        var recorded = hub.Primary.Requests.Skip(before).Single();
        Assert.Equal("/v1/images/edits", recorded.Path);
        var form = recorded.RequiredBody;
        Assert.Equal("dall-e-2", (string?)form["model"]);
        Assert.Equal("add a hat", (string?)form["prompt"]);
        Assert.Equal("256x256", (string?)form["size"]);
        Assert.Equal("b64_json", (string?)form["response_format"]);
        Assert.Equal("cat.png", (string?)form["image"]!["filename"]);
        Assert.Equal(Png.Length, (int?)form["image"]!["length"]);
        Assert.Equal(12, (int?)form["mask"]!["length"]);
        Assert.Equal(Png, recorded.File);
    }

    [Fact]
    public async Task Several_images_go_out_as_image_array_and_urls_come_back()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("openai/gpt-image-1"), "model" },
            { new StringContent("merge them"), "prompt" },
            { new StringContent("2"), "n" },
        };
        foreach (var name in new[] { "a.png", "b.png" })
        {
            var part = new ByteArrayContent(Png);
            part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(part, "image[]", name);
        }
        using var response = await hub.Owner.PostAsync("/api/v2/images/edits", form);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(2, JsonNode.Parse(text)!["data"]!.AsArray().Count);
        var recorded = hub.Primary.LastRequest.RequiredBody;
        Assert.Equal("2", (string?)recorded["n"]);
        Assert.Null(recorded["response_format"]); // gpt-image-1 refuses it
    }

    [Theory]
    [InlineData("no image", "'image' is required")]
    [InlineData("bad n", "'n' must be")]
    [InlineData("anthropic", "Anthropic does not edit images.")]
    public async Task An_edit_without_what_it_needs_is_400(string problem, string says)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(problem == "anthropic" ? "anthropic/claude-sonnet-4" : "openai/dall-e-2"), "model" },
            { new StringContent("a hat"), "prompt" },
        };
        if (problem == "bad n")
        {
            form.Add(new StringContent("many"), "n");
        }
        if (problem != "no image")
        {
            form.Add(new ByteArrayContent(Png), "image", "cat.png");
        }
        using var response = await hub.Owner.PostAsync("/api/v2/images/edits", form);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Contains(says, (string?)JsonNode.Parse(text)!["error"]!["message"], StringComparison.Ordinal);
    }
}
