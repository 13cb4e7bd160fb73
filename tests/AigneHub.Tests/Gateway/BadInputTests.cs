using System.Net;
using System.Text;
using System.Text.Json.Nodes;

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
        // Found while building the reader.
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
        { """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"\ud800"}]}""", "messages[0].content" },
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
