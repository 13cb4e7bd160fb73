using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Data.Billing;
using AigneHub.Tests.Fakes;
using static AigneHub.Tests.Providers.ImageProvidersFixture;

namespace AigneHub.Tests.Providers.Ideogram;

/// <summary>Ideogram 3.0 through the hub's image routes against <see cref="FakeIdeogram"/> (multipart, <c>Api-Key</c>),
/// and a chat call to an Ideogram model refused in the caller's protocol before anything is reserved.</summary>
[Collection(ImageProvidersCollection.Name)]
public sealed class IdeogramImageTests(ImageProvidersFixture hub)
{
    [Fact]
    public async Task The_form_carries_the_prompt_the_count_and_the_nearest_ratio_and_the_caller_gets_the_urls()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.IdeogramFake.Requests.Count;

        // 1024 / 1792 = 0.571: of Ideogram's ratios 9x16 (0.5625) is the nearest (10x16 is 0.625, 1x2 0.5).
        using var response = await client.PostAsync("/api/v2/images/generations",
            OpenAiImages($"ideogram/{IdeogramModel}", "A neon sign reading OPEN", n: 2, size: "1024x1792", quality: "hd"));

        var body = await OkAsync(response);
        var sent = hub.IdeogramFake.Requests.Skip(before).Single();
        Assert.Equal("/v1/ideogram-v3/generate", sent.Path);
        Assert.StartsWith("multipart/form-data", sent.Header("Content-Type"), StringComparison.Ordinal);
        Assert.Equal(IdeogramKey, sent.Header("Api-Key"));
        Assert.Null(sent.Header("Authorization"));
        var form = sent.RequiredBody;
        Assert.Equal("A neon sign reading OPEN", (string?)form["prompt"]);
        Assert.Equal("2", (string?)form["num_images"]);
        Assert.Equal("9x16", (string?)form["aspect_ratio"]);
        Assert.Equal("QUALITY", (string?)form["rendering_speed"]);
        var data = body["data"]!.AsArray();
        Assert.Equal(2, data.Count);
        Assert.All(data, d => Assert.StartsWith(hub.IdeogramFake.BaseUrl + "images/", (string?)d!["url"], StringComparison.Ordinal));
        Assert.All(data, d => Assert.Equal(FakeIdeogram.Rewritten("A neon sign reading OPEN"), (string?)d!["revised_prompt"]));
        Assert.Equal(DateTimeOffset.Parse("2025-08-27T10:23:28.806107+00:00", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds(),
            (long?)body["created"]);

        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal("ideogram", call.Provider);
        Assert.Equal(2, call.Images);
        Assert.Equal(2 * ImageRate, call.Credits);
    }

    [Fact]
    public async Task Base64_asked_for_is_fetched_from_ideograms_link_for_the_caller()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.IdeogramFake.Requests.Count;

        using var response = await client.PostAsync("/api/v2/image", AigneImage($"ideogram/{IdeogramModel}", "A square logo"));

        var body = await OkAsync(response);
        var form = hub.IdeogramFake.Requests.Skip(before).Single().RequiredBody;
        Assert.Equal("1", (string?)form["num_images"]);
        var image = body["images"]!.AsArray().Single()!;
        Assert.Equal("file", (string?)image["type"]);
        var bytes = Convert.FromBase64String((string)image["data"]!);
        Assert.StartsWith("ideogram-", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.EndsWith("-0.png", Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
        Assert.Equal(1, (await hub.Host.WaitForSettledAsync(member)).Images);
    }

    [Fact]
    public async Task More_than_eight_images_are_refused_before_anything_is_reserved()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.IdeogramFake.Requests.Count;

        using var response = await client.PostAsync("/api/v2/images/generations", OpenAiImages($"ideogram/{IdeogramModel}", "Many signs", n: 9));

        await hub.AssertRefusedUpFrontAsync(response, member, "at most 8 images");
        Assert.Equal(before, hub.IdeogramFake.Requests.Count);
    }

    public static TheoryData<string> ChatRoutes => new() { "/api/v2/chat/completions", "/api/v2/chat", "/api/v2/anthropic/v1/messages", "/api/v2/responses" };

    [Theory]
    [MemberData(nameof(ChatRoutes))]
    public async Task A_chat_call_to_an_ideogram_model_is_a_400_in_the_callers_shape_with_nothing_reserved(string route)
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.IdeogramFake.Requests.Count;
        var model = $"ideogram/{IdeogramModel}";
        var messages = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" });
        var body = route switch
        {
            "/api/v2/chat" => new JsonObject { ["input"] = new JsonObject { ["messages"] = messages, ["modelOptions"] = new JsonObject { ["model"] = model } } },
            "/api/v2/anthropic/v1/messages" => new JsonObject { ["model"] = model, ["max_tokens"] = 20, ["messages"] = messages },
            "/api/v2/responses" => new JsonObject { ["model"] = model, ["input"] = "hello" },
            _ => new JsonObject { ["model"] = model, ["messages"] = messages },
        };

        using var response = await client.PostAsync(route, Json(body));

        await hub.AssertRefusedUpFrontAsync(response, member, "Ideogram does not serve chat.");
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("invalid_request_error", (string?)error["error"]!["type"]);
        if (route == "/api/v2/anthropic/v1/messages")
        {
            Assert.Equal("error", (string?)error["type"]);
        }
        else if (route != "/api/v2/chat")
        {
            Assert.True(error["error"]!.AsObject().ContainsKey("param"), "OpenAI's shape always has 'param'");
        }
        Assert.Equal(before, hub.IdeogramFake.Requests.Count);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
