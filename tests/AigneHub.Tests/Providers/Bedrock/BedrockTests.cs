using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Providers.Bedrock;

/// <summary>The fake's signature check is only as good as its SigV4: AWS's own published test-suite vectors.</summary>
public sealed class SigV4VerifierTests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    private const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static readonly Dictionary<string, string> Headers = new() { ["host"] = "example.amazonaws.com", ["x-amz-date"] = "20150830T123600Z" };

    [Theory]
    // aws-sig-v4-test-suite: get-vanilla and get-vanilla-query-order-key-case (the query is sorted before signing).
    [InlineData("/", "", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")]
    [InlineData("/", "?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")]
    public void The_fakes_sigv4_matches_the_published_vectors(string path, string query, string expected)
    {
        var canonical = SigV4Verifier.CanonicalRequest("GET", path, query, Headers, EmptyHash);

        Assert.Equal(expected, SigV4Verifier.Signature(Secret, "20150830T123600Z", "us-east-1", "service", canonical));
    }
}

/// <summary>
/// Amazon Bedrock through the hub (billing on) in front of <see cref="FakeBedrock"/>: Converse and ConverseStream,
/// SigV4 checked by the fake on every request, usage charged with Bedrock's cache tokens counted once.
/// </summary>
public sealed class BedrockFixture : IAsyncLifetime
{
    public const string Region = "eu-west-3";
    public const string SessionToken = "FwoGZXIvYXdzEFAKE-session-token";
    public const string Model = "anthropic.claude-3-5-haiku-20241022-v1:0";

    public const decimal InputRate = 0.001m;
    public const decimal OutputRate = 0.004m;
    public const decimal CacheWriteRate = 0.00125m;
    public const decimal CacheReadRate = 0.0001m;

    internal BillingHost Host { get; private set; } = null!;

    public FakeBedrock Fake { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Fake = await FakeBedrock.StartAsync();
        Host = await BillingHost.StartAsync();
        using var owner = Host.Owner;
        using var created = await owner.PostAsJsonAsync("/api/admin/providers",
            new { name = "bedrock", baseUrl = Fake.BaseUrl.ToString(), settings = new { region = Region } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await AdminClient.ReadAsync(created))["id"]!.GetValue<Guid>();
        await owner.AddCredentialAsync(id, new JsonObject
        {
            ["accessKeyId"] = FakeBedrock.AccessKeyId, ["secretAccessKey"] = FakeBedrock.SecretAccessKey, ["sessionToken"] = SessionToken,
        }.ToJsonString());
        static string Text(decimal d) => d.ToString(CultureInfo.InvariantCulture);
        await Host.AddRateAsync(new ModelTarget(ProviderKinds.Bedrock, null, Fake.BaseUrl, Model, ModelType.Chat), Text(InputRate), Text(OutputRate),
            $$""","cacheWriteRate":{{Text(CacheWriteRate)}},"cacheReadRate":{{Text(CacheReadRate)}}""");
    }

    public async Task<(Guid Member, HttpClient Client)> MemberAsync()
    {
        using var owner = Host.Owner;
        var (member, key) = await owner.CreateMemberAsync();
        await Host.GrantAsync(member, "100");
        return (member, Host.Api.CreateClient(key));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Fake.DisposeAsync();
    }
}

public sealed class BedrockTests(BedrockFixture hub) : IClassFixture<BedrockFixture>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private const string PngDataUrl = "data:image/png;base64,iVBORw0KGgo=";

    private static string ChatBody(bool stream) => """
        {"model":"bedrock/MODEL","stream":STREAM,"max_tokens":64,"temperature":0.5,
         "messages":[
           {"role":"system","content":"Be brief."},
           {"role":"user","content":[{"type":"text","text":"What is in this picture? Look up the weather too."},
                                     {"type":"image_url","image_url":{"url":"IMAGE"}}]}],
         "tools":[{"type":"function","function":{"name":"get_weather","description":"Weather now",
                   "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],
         "tool_choice":"required"}
        """.Replace("MODEL", BedrockFixture.Model, StringComparison.Ordinal).Replace("STREAM", stream ? "true" : "false", StringComparison.Ordinal)
        .Replace("IMAGE", PngDataUrl, StringComparison.Ordinal);

    /// <summary>Bedrock's own count: input 10 fresh, 200 written to the cache, 1000 read from it, 5 out.</summary>
    private static FakeReply Reply() => new()
    {
        Text = "A cat in Paris.",
        ToolCalls = [new FakeToolCall("get_weather", """{"city":"Paris"}""", "tooluse_abc")],
        InputTokens = 10, CacheCreationInputTokens = 200, CacheReadInputTokens = 1000, OutputTokens = 5,
    };

    /// <summary>Each prompt token priced once by how it was served, worked out from the fake's numbers above.</summary>
    private static readonly decimal ExpectedCharge =
        10 * BedrockFixture.InputRate + 200 * BedrockFixture.CacheWriteRate + 1000 * BedrockFixture.CacheReadRate + 5 * BedrockFixture.OutputRate;

    private void AssertSentConverse(int before)
    {
        var request = hub.Fake.Requests.Skip(before).Single();
        var signature = hub.Fake.Signatures[^1];
        Assert.Equal(BedrockFixture.Region, signature.Region);
        Assert.Equal("bedrock", signature.Service);
        Assert.Contains("x-amz-security-token", signature.SignedHeaders);
        Assert.Equal(BedrockFixture.SessionToken, request.Header("x-amz-security-token"));
        var body = request.RequiredBody;
        Assert.Equal("Be brief.", (string?)body["system"]![0]!["text"]);
        var content = body["messages"]![0]!["content"]!.AsArray();
        Assert.Equal("png", (string?)content[1]!["image"]!["format"]);
        Assert.Equal("iVBORw0KGgo=", (string?)content[1]!["image"]!["source"]!["bytes"]);
        Assert.Equal("get_weather", (string?)body["toolConfig"]!["tools"]![0]!["toolSpec"]!["name"]);
        Assert.NotNull(body["toolConfig"]!["toolChoice"]!["any"]);
        Assert.Equal(64, (int?)body["inferenceConfig"]!["maxTokens"]);
    }

    [Fact]
    public async Task Converse_with_tools_and_an_image_is_signed_and_charged_for_each_prompt_token_once()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Fake.Requests.Count;
        hub.Fake.Enqueue(Reply());

        using var response = await client.PostAsync("/api/v2/chat/completions", Json(ChatBody(stream: false)));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"/model/{BedrockFixture.Model}/converse", hub.Fake.Requests.Skip(before).Single().Path);
        AssertSentConverse(before);
        var message = body["choices"]![0]!["message"]!;
        Assert.Equal("A cat in Paris.", (string?)message["content"]);
        Assert.Equal("get_weather", (string?)message["tool_calls"]![0]!["function"]!["name"]);
        Assert.Equal("Paris", (string?)JsonNode.Parse((string)message["tool_calls"]![0]!["function"]!["arguments"]!)!["city"]);
        Assert.Equal("tool_calls", (string?)body["choices"]![0]!["finish_reason"]);
        Assert.Equal(1210, (int?)body["usage"]!["prompt_tokens"]);
        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal((1210, 200, 1000, 5), (call.PromptTokens, call.CacheCreationTokens, call.CacheReadTokens, call.CompletionTokens));
        Assert.Equal(ExpectedCharge, call.Credits);
    }

    [Fact]
    public async Task ConverseStream_frames_are_decoded_into_the_callers_chunks_and_the_metadata_usage_is_charged()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Fake.Requests.Count;
        hub.Fake.Enqueue(Reply());

        using var response = await client.PostAsync("/api/v2/chat/completions", Json(ChatBody(stream: true)));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        AssertSentConverse(before);
        var chunks = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).Where(d => d != "[DONE]")
            .Select(d => JsonNode.Parse(d)!).ToList();
        Assert.Equal("A cat in Paris.", string.Concat(chunks.Select(c => (string?)c["choices"]?[0]?["delta"]?["content"])));
        Assert.Equal("""{"city":"Paris"}""", string.Concat(chunks.Select(c => (string?)c["choices"]?[0]?["delta"]?["tool_calls"]?[0]?["function"]?["arguments"])));
        Assert.EndsWith("data: [DONE]\n\n", text);
        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal((1210, 200, 1000, 5), (call.PromptTokens, call.CacheCreationTokens, call.CacheReadTokens, call.CompletionTokens));
        Assert.Equal(ExpectedCharge, call.Credits);
    }

    [Fact]
    public async Task A_signature_made_with_the_wrong_secret_is_refused_by_the_fake_and_nothing_is_charged()
    {
        await using var other = await BillingHost.StartAsync(f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var owner = other.Owner;
        using var created = await owner.PostAsJsonAsync("/api/admin/providers",
            new { name = "bedrock", baseUrl = hub.Fake.BaseUrl.ToString(), settings = new { region = BedrockFixture.Region } });
        await owner.AddCredentialAsync((await AdminClient.ReadAsync(created))["id"]!.GetValue<Guid>(),
            new JsonObject { ["accessKeyId"] = FakeBedrock.AccessKeyId, ["secretAccessKey"] = "not-the-secret-0123456789" }.ToJsonString());
        var refusedBefore = hub.Fake.Refused;

        using var response = await owner.PostAsync("/api/v2/chat/completions", Json(ChatBody(stream: false)));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(hub.Fake.Refused > refusedBefore);
    }

    [Fact]
    public async Task A_bedrock_provider_needs_a_region_and_an_aws_credential_shown_by_its_access_key_id()
    {
        using var owner = hub.Host.Owner;

        using var noRegion = await owner.PostAsJsonAsync("/api/admin/providers", new { name = "bedrock" });
        using var badRegion = await owner.PostAsJsonAsync("/api/admin/providers", new { name = "bedrock", settings = new { region = "Paris" } });
        var providers = await owner.GetFromJsonAsync<JsonArray>("/api/admin/providers");
        var providerId = providers!.First(p => (string?)p!["name"] == "bedrock")!["id"]!.GetValue<Guid>();
        using var plainKey = await owner.PostAsJsonAsync($"/api/admin/providers/{providerId}/credentials", new { value = "sk-not-an-aws-key-0123" });
        var listed = await owner.GetFromJsonAsync<JsonArray>($"/api/admin/providers/{providerId}/credentials");

        await AdminClient.AssertErrorAsync(noRegion, HttpStatusCode.BadRequest, "settings.region");
        await AdminClient.AssertErrorAsync(badRegion, HttpStatusCode.BadRequest, "settings.region");
        await AdminClient.AssertErrorAsync(plainKey, HttpStatusCode.BadRequest, "value");
        Assert.Equal($"{FakeBedrock.AccessKeyId[..4]}…{FakeBedrock.AccessKeyId[^4..]}", (string?)listed![0]!["maskedValue"]);
    }
}
