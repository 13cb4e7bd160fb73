using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Billing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Gateway;

/// <summary>One billing Api and one OpenAI fake for every image-pricing test; each test has its own member.</summary>
public sealed class ImagePricingHost : IAsyncLifetime
{
    internal BillingHost Host { get; private set; } = null!;

    public FakeOpenAI OpenAi { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        OpenAi = await FakeOpenAI.StartAsync();
        Host = await BillingHost.StartAsync();
        using var owner = Host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", OpenAi.BaseUrl, "sk-test-image-pricing-0123", "gpt-image-1:image", "dall-e-3:image");
        // The table the gateway tests price against (the plain per-image price is the output rate).
        using var response = await owner.PostAsync("/api/admin/model-rates", ImagePricingTests.Json($$"""
            {"provider":"openai","model":"gpt-image-1","type":"image","inputRate":0,"outputRate":"{{ImagePricingTests.Plain}}","imagePrices":[
              {"size":"1024x1024","quality":"hd","price":"{{ImagePricingTests.SizeAndQuality}}"},
              {"size":"1024x1024","price":"{{ImagePricingTests.SizeOnly}}"},
              {"quality":"HIGH","price":"{{ImagePricingTests.QualityOnly}}"}]}
            """));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await OpenAi.DisposeAsync();
    }
}

/// <summary>
/// Images priced per image by size and quality (<c>imagePrices</c> on an image rate): the most specific entry of the
/// table wins (size and quality, then size, then quality; case-insensitive), else the plain per-image price (the
/// output rate), × the number of images — at admission (the reservation) and at settlement alike. The expected
/// credits are the prices this test set, times n.
/// </summary>
public sealed class ImagePricingTests(ImagePricingHost fixture) : IClassFixture<ImagePricingHost>
{
    internal const string Plain = "0.01";
    internal const string SizeAndQuality = "0.08";
    internal const string SizeOnly = "0.04";
    internal const string QualityOnly = "0.06";

    private BillingHost Host => fixture.Host;

    internal static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static decimal D(string s) => decimal.Parse(s, CultureInfo.InvariantCulture);

    private async Task<(Guid Member, HttpClient Client)> MemberAsync(string grant)
    {
        using var owner = Host.Owner;
        var (member, key) = await owner.CreateMemberAsync();
        await Host.GrantAsync(member, grant);
        return (member, Host.Api.CreateClient(key));
    }

    private static Task<HttpResponseMessage> GenerateAsync(HttpClient client, string model, int n, string? size, string? quality)
    {
        var body = new JsonObject { ["model"] = model, ["prompt"] = "a calico cat", ["n"] = n };
        if (size is not null)
        {
            body["size"] = size;
        }
        if (quality is not null)
        {
            body["quality"] = quality;
        }
        return client.PostAsync("/api/v2/images/generations", Json(body.ToJsonString()));
    }

    [Theory]
    [InlineData("1024x1024", "hd", SizeAndQuality)]     // size and quality
    [InlineData("1024X1024", "HD", SizeAndQuality)]     // case-insensitive
    [InlineData("1024x1024", "standard", SizeOnly)]     // size only
    [InlineData("1024x1024", "high", SizeOnly)]         // size beats quality
    [InlineData("1536x1024", "high", QualityOnly)]      // quality only
    [InlineData("1536x1024", "standard", Plain)]        // no entry: the plain price
    [InlineData(null, null, Plain)]                     // nothing asked: the plain price
    public async Task Two_images_are_reserved_and_charged_twice_the_most_specific_price(string? size, string? quality, string price)
    {
        var (member, client) = await MemberAsync("10");
        using var _ = client;

        using var response = await GenerateAsync(client, "openai/gpt-image-1", 2, size, quality);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal(2, JsonNode.Parse(text)!["data"]!.AsArray().Count);

        var expected = 2 * D(price);
        var call = await Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(2, call.Images);
        Assert.Equal(size, call.ImageSize);
        Assert.Equal(quality, call.ImageQuality);
        Assert.Equal(expected, call.ReservedCredits);
        Assert.Equal(expected, call.Credits);
        Assert.Equal(expected, await Host.DebitsAsync(member));
        var account = await Host.AccountAsync(member);
        Assert.Equal(10m - expected, account.Balance);
        Assert.Equal(0m, account.Reserved);
    }

    [Fact]
    public async Task A_balance_for_the_plain_price_but_not_the_table_price_is_refused_before_the_provider_is_called()
    {
        // 2 × 0.01 = 0.02 fits in 0.05; 2 × 0.08 = 0.16 does not.
        var (member, client) = await MemberAsync("0.05");
        using var _ = client;
        var before = fixture.OpenAi.Requests.Count;

        using var response = await GenerateAsync(client, "openai/gpt-image-1", 2, "1024x1024", "hd");

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.PaymentRequired, text);
        Assert.Equal("insufficient_quota", (string?)JsonNode.Parse(text)!["error"]!["type"]);
        Assert.Equal(before, fixture.OpenAi.Requests.Count);
        var call = await Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Failed, call.Status);
        Assert.Equal(0m, call.Credits);
        var account = await Host.AccountAsync(member);
        Assert.Equal(0.05m, account.Balance);
        Assert.Equal(0m, account.Reserved);

        // The same call at the plain price fits.
        using var plain = await GenerateAsync(client, "openai/gpt-image-1", 2, "1536x1024", "standard");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task The_table_is_returned_replaced_kept_in_history_and_carried_by_the_rate_catalog()
    {
        using var owner = Host.Owner;
        using var created = await owner.PostAsync("/api/admin/model-rates", Json("""
            {"provider":"openai","model":"dall-e-3","type":"image","inputRate":0,"outputRate":0.04,"imagePrices":[
              {"size":"1024x1024","quality":"hd","price":0.080000},{"size":"1792x1024","price":"0.12"},{"quality":"standard","price":"0"}]}
            """));
        var text = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Created, text);
        var rate = JsonNode.Parse(text)!;
        var table = rate["imagePrices"]!.AsArray();
        Assert.Equal(3, table.Count);
        Assert.Equal("1024x1024", (string?)table[0]!["size"]);
        Assert.Equal("hd", (string?)table[0]!["quality"]);
        Assert.Equal("0.08", table[0]!["price"]!.GetValue<string>());
        Assert.Null(table[1]!["quality"]);
        Assert.Equal("0.12", table[1]!["price"]!.GetValue<string>());
        Assert.Null(table[2]!["size"]);
        Assert.Equal("0", table[2]!["price"]!.GetValue<string>());
        var id = rate["id"]!.GetValue<Guid>();

        var catalog = Host.Api.Services.GetRequiredService<IRateCatalog>();
        var cached = (await catalog.GetAsync(CancellationToken.None)).Find("openai", "dall-e-3", ModelType.Image)!;
        Assert.Equal(0.12m, cached.ImagePrices!.Single(p => p.Size == "1792x1024").Price);

        using var put = await owner.PutAsync($"/api/admin/model-rates/{id}", Json("""
            {"provider":"openai","model":"dall-e-3","type":"image","inputRate":0,"outputRate":"0.04","imagePrices":[{"size":"auto","price":"0.05"}]}
            """));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var replaced = JsonNode.Parse(await put.Content.ReadAsStringAsync())!["imagePrices"]!.AsArray();
        Assert.Equal("auto", (string?)Assert.Single(replaced)!["size"]);
        cached = (await catalog.GetAsync(CancellationToken.None)).Find("openai", "dall-e-3", ModelType.Image)!;
        Assert.Equal(0.05m, Assert.Single(cached.ImagePrices!).Price);

        var listed = (await owner.GetFromJsonAsync<JsonArray>("/api/admin/model-rates?type=image"))!.Single(r => (string?)r!["model"] == "dall-e-3")!;
        Assert.Equal("0.05", listed["imagePrices"]![0]!["price"]!.GetValue<string>());
        var history = (await owner.GetFromJsonAsync<JsonArray>($"/api/admin/model-rates/{id}/history"))!;
        Assert.Equal("0.05", history[0]!["imagePrices"]![0]!["price"]!.GetValue<string>());
        Assert.Equal(3, history[1]!["imagePrices"]!.AsArray().Count);

        // Without the field the table is removed (a PUT replaces the whole rate).
        using var cleared = await owner.PutAsync($"/api/admin/model-rates/{id}", Json("""
            {"provider":"openai","model":"dall-e-3","type":"image","inputRate":0,"outputRate":"0.04"}
            """));
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Null(JsonNode.Parse(await cleared.Content.ReadAsStringAsync())!["imagePrices"]);
        Assert.Null((await catalog.GetAsync(CancellationToken.None)).Find("openai", "dall-e-3", ModelType.Image)!.ImagePrices);
    }

    [Theory]
    [InlineData("""[{"size":"1024x1024","price":"-0.01"}]""", "imagePrices[0].price")]
    [InlineData("""[{"size":"1024x1024","price":"abc"}]""", "imagePrices[0].price")]
    [InlineData("""[{"size":"1024x1024"}]""", "imagePrices[0].price")]
    [InlineData("""[{"size":"1024x1024","price":"0.0000000000000000001"}]""", "imagePrices[0].price")]
    [InlineData("""[{"size":"huge","price":"1"}]""", "imagePrices[0].size")]
    [InlineData("""[{"size":"1024x1024","quality":"h d","price":"1"}]""", "imagePrices[0].quality")]
    [InlineData("""[{"price":"1"}]""", "imagePrices[0]")]
    [InlineData("""[{"size":"1024x1024","price":"1"},{"size":"2K","price":"2"},{"size":"1024X1024","price":"3"}]""", "imagePrices[2]")]
    [InlineData("""[{"size":"1024x1024","quality":"hd","price":"1"},{"size":"1024x1024","quality":"HD","price":"3"}]""", "imagePrices[1]")]
    [InlineData("""[1]""", "imagePrices[0]")]
    [InlineData("""{"size":"1024x1024","price":"1"}""", "imagePrices")]
    public async Task A_bad_image_price_table_is_a_400_naming_the_entry(string table, string param)
    {
        using var owner = Host.Owner;
        using var response = await owner.PostAsync("/api/admin/model-rates", Json($$"""
            {"provider":"openai","model":"bad-table","type":"image","inputRate":0,"outputRate":"0.01","imagePrices":{{table}}}
            """));
        await BillingHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", param);
    }

    [Fact]
    public async Task An_image_price_table_on_a_rate_that_is_not_an_image_rate_is_a_400()
    {
        using var owner = Host.Owner;
        using var response = await owner.PostAsync("/api/admin/model-rates", Json("""
            {"provider":"openai","model":"gpt-test","type":"chat","inputRate":0,"outputRate":"0.01","imagePrices":[{"size":"1024x1024","price":"1"}]}
            """));
        await BillingHost.AssertErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error", "imagePrices");
    }
}
