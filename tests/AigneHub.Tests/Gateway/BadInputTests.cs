using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Gateway;
using AigneHub.Api.Gateway.Protocols;
using AigneHub.Api.Gateway.Protocols.Anthropic;
using AigneHub.Tests.Gateway.Protocols;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Bad input a new user might send, through HTTP: a 400 in the route's own error shape naming the field, never a 500.
/// Every case here was a 500 before the gateway read caller input through one typed field reader.
/// </summary>
public sealed class BadInputTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private const string Model = "openai/gpt-4o-mini";

    public static TheoryData<string> AigneChatBodies => new()
    {
        // Known from the issue.
        """{"input":{"messages":[{"role":5,"content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"user","content":[5]}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"user","content":[{"type":5}]}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"agent","content":"","toolCalls":[{"id":"c1","function":{"name":5,"arguments":{}}}]},{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        // Found while building the reader.
        """{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"}},"options":5}""",
        """{"input":{"messages":[{"role":"user","content":[{"type":"text","text":5}]}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"user","content":"hi","name":5}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"tool","content":"42","toolCallId":5}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"agent","content":"","toolCalls":[5]},{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
        """{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"},"tools":[{"function":{"name":5}}]}}""",
        """{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"},"responseFormat":"json"}}""",
        """{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"},"toolChoice":{"function":"f"}}}""",
        """{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini","stop":"\u0000"}}}""",
        """{"input":{"messages":[{"role":"user","content":"\ud800"}],"modelOptions":{"model":"openai/gpt-4o-mini"}}}""",
    };

    public static TheoryData<string, string> OpenAiChatBodies => new()
    {
        // Known from the issue.
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":5}}]}""", "tools[0].function.name" },
        // Found while building the reader and by the fuzz tests.
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"tools":[5]}""", "tools[0]" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":[{"type":5}]}]}""", "messages[0].content[0].type" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://x/y.png","detail":5}}]}]}""", "messages[0].content[0].image_url.detail" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"c","function":{"name":5,"arguments":"{}"}}]},{"role":"user","content":"hi"}]}""", "messages[0].tool_calls[0].function.name" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"assistant","content":null,"tool_calls":[5]},{"role":"user","content":"hi"}]}""", "messages[0].tool_calls[0]" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"response_format":"json"}""", "response_format" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"response_format":{"type":5}}""", "response_format.type" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"tool_choice":{"function":"f"}}""", "tool_choice.function" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":5}""", "stream_options" },
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"reasoning_effort":"\u0000"}""", "reasoning_effort" },
    };

    [Theory]
    [MemberData(nameof(AigneChatBodies))]
    public async Task Native_chat_bad_input_is_a_400_in_the_aigne_shape(string body)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/chat", Json(body));
        await AssertAigneErrorAsync(response);
    }

    [Theory]
    [MemberData(nameof(OpenAiChatBodies))]
    public async Task Chat_completions_bad_input_is_a_400_in_the_openai_shape_naming_the_field(string body, string param)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions", Json(body));
        var error = await AssertOpenAiErrorAsync(response);
        Assert.Equal(param, (string?)error["param"]);
    }

    [Theory]
    [InlineData("""{"model":"openai/text-embedding-3-small","input":"hi","encoding_format":5}""", "encoding_format")]
    [InlineData("""{"model":"openai/text-embedding-3-small","input":"hi","dimensions":"wide"}""", "dimensions")]
    public async Task Embeddings_bad_input_is_a_400_in_the_openai_shape(string body, string param)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/embeddings", Json(body));
        var error = await AssertOpenAiErrorAsync(response);
        Assert.Equal(param, (string?)error["param"]);
    }

    [Theory]
    [InlineData("""{"input":{"input":"hi","modelOptions":5}}""")]
    [InlineData("""{"input":{"input":[5],"modelOptions":{"model":"openai/text-embedding-3-small"}}}""")]
    public async Task Native_embeddings_bad_input_is_a_400_in_the_aigne_shape(string body)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/embeddings", Json(body));
        await AssertAigneErrorAsync(response);
    }

    [Theory]
    [InlineData("""{"input":{"prompt":5,"modelOptions":{"model":"openai/dall-e-3"}}}""")]
    [InlineData("""{"input":{"prompt":"a cat","size":5,"modelOptions":{"model":"openai/dall-e-3"}}}""")]
    [InlineData("""{"input":{"prompt":"a cat","responseFormat":5,"modelOptions":{"model":"openai/dall-e-3"}}}""")]
    [InlineData("""{"input":{"prompt":"a cat","modelOptions":5}}""")]
    // The OpenAI route's cap, now shared: n is 1..10.
    [InlineData("""{"input":{"prompt":"a cat","n":11,"modelOptions":{"model":"openai/dall-e-3"}}}""")]
    public async Task Native_image_bad_input_is_a_400_in_the_aigne_shape(string body)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/image", Json(body));
        await AssertAigneErrorAsync(response);
    }

    [Theory]
    // Read by the gateway…
    [InlineData("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"\ud800"}]}""")]
    // …or only passed through to the provider, which failed to serialise it (a 502).
    [InlineData("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"vendor_extension":{"note":"\udc00 alone"}}""")]
    public async Task A_lone_surrogate_anywhere_in_the_body_is_a_400(string body)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions", Json(body));
        var error = await AssertOpenAiErrorAsync(response);
        Assert.Contains("surrogate", (string?)error["message"]);
    }

    [Theory]
    [InlineData("size")]
    [InlineData("quality")]
    public async Task An_image_option_longer_than_the_call_record_keeps_is_a_400(string option)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/images/generations",
            Json($$"""{"model":"openai/dall-e-3","prompt":"a cat","{{option}}":"{{new string('x', 33)}}"}"""));
        var error = await AssertOpenAiErrorAsync(response);
        Assert.Equal(option, (string?)error["param"]);
    }

    [Fact]
    public async Task A_member_written_twice_is_a_400()
    {
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions",
            Json("""{"model":"openai/gpt-4o-mini","model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"""));
        await AssertOpenAiErrorAsync(response);
    }

    [Fact]
    public async Task A_nul_in_the_client_did_header_is_a_400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions")
        {
            Content = Json($$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}"""),
        };
        request.Headers.Add("x-aigne-hub-client-did", "z-app%00");
        using var response = await hub.Owner.SendAsync(request);
        var error = await AssertOpenAiErrorAsync(response);
        Assert.Contains("x-aigne-hub-client-did", (string?)error["message"]);
    }

    public static TheoryData<string> Routes => new() { "/api/v2/chat/completions", "/api/v2/embeddings", "/api/v2/images/generations", "/api/v2/responses", "/api/v2/videos", "/api/v2/chat", "/api/v2/image", "/api/v2/video", "/api/v2/embeddings (aigne)", "/api/v2/anthropic/v1/messages", "/api/v2/anthropic/v1/messages/count_tokens" };

    /// <summary>Seeded mutations through HTTP: never a 5xx, and every refusal in the route's own error shape.</summary>
    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Mutated_bodies_never_get_a_5xx_and_errors_keep_the_protocols_shape(string route)
    {
        if (route.StartsWith(AnthropicApi.Prefix, StringComparison.Ordinal))
        {
            await AnthropicMutationsAsync(route);
            return;
        }
        var (path, seeds, aigne) = route switch
        {
            "/api/v2/chat/completions" => (route, ProtocolBodies.OpenAiChat, false),
            "/api/v2/embeddings" => (route, ProtocolBodies.OpenAiEmbeddings, false),
            "/api/v2/images/generations" => (route, ProtocolBodies.OpenAiImages, false),
            "/api/v2/responses" => (route, ProtocolBodies.Responses, false),
            "/api/v2/chat" => (route, ProtocolBodies.AigneChat, true),
            "/api/v2/image" => (route, ProtocolBodies.AigneImage, true),
            "/api/v2/videos" => (route, ProtocolBodies.OpenAiVideos, false),
            "/api/v2/video" => (route, ProtocolBodies.AigneVideo, true),
            _ => ("/api/v2/embeddings", ProtocolBodies.AigneEmbeddings, true),
        };
        var mutator = new BodyMutator(route.Aggregate(7, (h, c) => unchecked((h * 31) + c)), hugeStringLength: 20_000);
        for (var i = 0; i < 50; i++)
        {
            var body = mutator.Mutate(seeds[i % seeds.Length]);
            using var response = await hub.Owner.PostAsync(path, Json(body));
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{status} for {body}: {text}");
            if (status >= 400)
            {
                // The embeddings path speaks both protocols: the envelope (input is an object) is AIGNE's.
                var aigneShape = path == "/api/v2/embeddings" ? IsAigneEnvelope(body) : aigne;
                var error = JsonNode.Parse(text)!["error"]!.AsObject();
                Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]), text);
                Assert.False(string.IsNullOrWhiteSpace((string?)error["type"]), text);
                Assert.True(error.ContainsKey("param") != aigneShape, $"{(aigneShape ? "AIGNE" : "OpenAI")} shape expected for {body}: {text}");
            }
        }
    }

    /// <summary>Anthropic's routes: never a 5xx, and every refusal in Anthropic's shape (<c>{"type":"error","error":{"type","message"}}</c>).</summary>
    private async Task AnthropicMutationsAsync(string path)
    {
        var mutator = new BodyMutator(path.Aggregate(7, (h, c) => unchecked((h * 31) + c)), hugeStringLength: 20_000);
        for (var i = 0; i < 50; i++)
        {
            var body = mutator.Mutate(ProtocolBodies.AnthropicMessages[i % ProtocolBodies.AnthropicMessages.Length]);
            using var response = await hub.Owner.PostAsync(path, Json(body));
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            Assert.True(status < 500, $"{status} for {body}: {text}");
            if (status >= 400)
            {
                var error = JsonNode.Parse(text)!;
                Assert.Equal("error", (string?)error["type"]);
                Assert.False(string.IsNullOrWhiteSpace((string?)error["error"]!["type"]), text);
                Assert.False(string.IsNullOrWhiteSpace((string?)error["error"]!["message"]), text);
            }
        }
    }

    private static bool IsAigneEnvelope(string body)
    {
        try
        {
            return CallerBody.Parse(Encoding.UTF8.GetBytes(body))["input"] is JsonObject;
        }
        catch (GatewayException)
        {
            return false; // refused by the body reader, before either protocol: OpenAI's shape (the route's group)
        }
    }

    internal static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>OpenAI's <c>{"error":{"message","type","param","code"}}</c> with a 400.</summary>
    internal static async Task<JsonNode> AssertOpenAiErrorAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.True(error.AsObject().ContainsKey("param") && error.AsObject().ContainsKey("code"), text);
        return error;
    }

    /// <summary>AIGNE's <c>{"error":{"message","type"}}</c> with a 400 (no OpenAI <c>param</c>).</summary>
    internal static async Task<JsonNode> AssertAigneErrorAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.False(error.AsObject().ContainsKey("param"), text);
        return error;
    }
}
