using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Gateway;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Providers;

/// <summary>
/// One billing Api (credits on) in front of the image providers' fakes, configured through the admin API: <c>google</c>
/// → <see cref="FakeGemini"/> (Imagen and a Gemini image model), <c>doubao</c> → <see cref="FakeOpenAI"/> speaking
/// Ark, <c>ideogram</c> → <see cref="FakeIdeogram"/>; every image model rated <see cref="ImageRate"/> credits an image
/// and nothing a token, so a call's charge is its image count × the rate.
/// </summary>
public sealed class ImageProvidersFixture : IAsyncLifetime
{
    public const string Imagen = "imagen-4.0-generate-001";
    public const string GeminiImage = "gemini-2.5-flash-image";
    public const string Seedream = "doubao-seedream-4-0-250828";
    public const string IdeogramModel = "ideogram-v3";
    public const string ImageRateText = "0.04";
    public static readonly decimal ImageRate = decimal.Parse(ImageRateText, CultureInfo.InvariantCulture);

    public const string GeminiKey = "gemini-test-images-0123456789";
    public const string ArkKey = "ark-test-images-0123456789";
    public const string IdeogramKey = "ideogram-test-images-0123456789";

    internal BillingHost Host { get; private set; } = null!;

    public FakeGemini Gemini { get; private set; } = null!;

    public FakeOpenAI Ark { get; private set; } = null!;

    public FakeIdeogram IdeogramFake { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Gemini = await FakeGemini.StartAsync();
        Gemini.ApiKey = GeminiKey;
        Ark = await FakeOpenAI.StartAsync(FakeOpenAiDialect.Ark);
        IdeogramFake = await FakeIdeogram.StartAsync(IdeogramKey);
        Host = await BillingHost.StartAsync();
        using var owner = Host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "google", Gemini.BaseUrl, GeminiKey, $"{Imagen}:image", $"{GeminiImage}:image");
        await GatewayFixture.AddProviderAsync(owner, "doubao", Ark.BaseUrl, ArkKey, $"{Seedream}:image");
        await GatewayFixture.AddProviderAsync(owner, "ideogram", IdeogramFake.BaseUrl, IdeogramKey, $"{IdeogramModel}:image");
        foreach (var (kind, baseUrl, model) in new[]
        {
            (ProviderKinds.Google, Gemini.BaseUrl, Imagen), (ProviderKinds.Google, Gemini.BaseUrl, GeminiImage),
            (ProviderKinds.Doubao, Ark.BaseUrl, Seedream), (ProviderKinds.Ideogram, IdeogramFake.BaseUrl, IdeogramModel),
        })
        {
            await Host.AddRateAsync(new ModelTarget(kind, null, baseUrl, model, ModelType.Image), "0", ImageRateText);
        }
    }

    /// <summary>A member with 100 credits and a client with their key.</summary>
    public async Task<(Guid Member, HttpClient Client)> MemberAsync()
    {
        using var owner = Host.Owner;
        var (member, key) = await owner.CreateMemberAsync();
        await Host.GrantAsync(member, "100");
        return (member, Host.Api.CreateClient(key));
    }

    public static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>An OpenAI-compatible <c>images/generations</c> body.</summary>
    public static StringContent OpenAiImages(string model, string prompt, int n, string? size = null, string? format = null, string? quality = null, string? style = null)
    {
        var body = new JsonObject { ["model"] = model, ["prompt"] = prompt, ["n"] = n };
        if (size is not null) { body["size"] = size; }
        if (format is not null) { body["response_format"] = format; }
        if (quality is not null) { body["quality"] = quality; }
        if (style is not null) { body["style"] = style; }
        return Json(body);
    }

    /// <summary>The AIGNE-native <c>/api/v2/image</c> body as the framework sends it.</summary>
    public static StringContent AigneImage(string model, string prompt, string? size = null, string? responseFormat = null)
    {
        var input = new JsonObject { ["prompt"] = prompt, ["modelOptions"] = new JsonObject { ["model"] = model } };
        if (size is not null) { input["size"] = size; }
        if (responseFormat is not null) { input["responseFormat"] = responseFormat; }
        return Json(new JsonObject { ["input"] = input });
    }

    public static async Task<JsonNode> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!;
    }

    /// <summary>A 400 before anything was reserved or recorded, saying <paramref name="says"/>.</summary>
    public async Task AssertRefusedUpFrontAsync(HttpResponseMessage response, Guid member, string says)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        Assert.Contains(says, text, StringComparison.Ordinal);
        Assert.Empty(await Host.CallsAsync(member));
        Assert.Equal(0m, (await Host.AccountAsync(member)).Reserved);
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Gemini.DisposeAsync();
        await Ark.DisposeAsync();
        await IdeogramFake.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ImageProvidersCollection : ICollectionFixture<ImageProvidersFixture>
{
    public const string Name = "Image providers";
}
