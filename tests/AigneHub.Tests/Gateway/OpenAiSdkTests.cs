using System.ClientModel;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;
using OpenAI.Images;

namespace AigneHub.Tests.Gateway;

/// <summary>The official OpenAI .NET SDK, unchanged, against AigneHub (base URL <c>&lt;hub&gt;/api/v2</c>).</summary>
public sealed class OpenAiSdkTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private OpenAIClientOptions Options => new() { Endpoint = new Uri(hub.HubBase, "api/v2/") };

    private ChatClient Chat(string model) => new(model, new ApiKeyCredential(Infrastructure.ApiFactory.OwnerKey), Options);

    [Fact]
    public async Task Chat_reaches_the_provider_with_its_model_and_key_and_returns_content_and_usage()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "Paris is the capital.", InputTokens = 21, OutputTokens = 5, CacheReadInputTokens = 3 });
        var before = hub.Primary.Requests.Count;

        ChatCompletion completion = await Chat("openai/gpt-4o-mini").CompleteChatAsync(
            [new SystemChatMessage("Be brief."), new UserChatMessage("Capital of France?")],
            new ChatCompletionOptions { Temperature = 0.2f, MaxOutputTokenCount = 50 });

        Assert.Equal("Paris is the capital.", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(21, completion.Usage.InputTokenCount);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
        Assert.Equal(3, completion.Usage.InputTokenDetails.CachedTokenCount);

        var recorded = hub.Primary.Requests.Skip(before).Single();
        var body = recorded.RequiredBody;
        var auth = recorded.Header("Authorization");
        Assert.Equal("gpt-4o-mini", (string?)body["model"]);
        Assert.Equal($"Bearer {GatewayFixture.ProviderKey}", auth);
        Assert.Equal("system", (string?)body["messages"]![0]!["role"]);
        Assert.Equal(50, (int?)(body["max_completion_tokens"] ?? body["max_tokens"]));
    }

    [Fact]
    public async Task Streaming_chat_delivers_every_delta_and_the_usage()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "one two three four", InputTokens = 9, OutputTokens = 4 });
        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Chat("openai/gpt-4o-mini").CompleteChatStreamingAsync([new UserChatMessage("count")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }
        Assert.Equal("one two three four", text.ToString());
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(9, usage!.InputTokenCount);
        Assert.Equal(4, usage.OutputTokenCount);
    }

    [Fact]
    public async Task Tool_calls_round_trip_through_the_gateway()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "", ToolCalls = [new FakeToolCall("get_weather", "{\"city\":\"Oslo\"}", "call_1")] });
        var tool = ChatTool.CreateFunctionTool("get_weather", "Weather for a city",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""));
        var options = new ChatCompletionOptions { Tools = { tool }, ToolChoice = ChatToolChoice.CreateAutoChoice() };
        List<OpenAI.Chat.ChatMessage> messages = [new UserChatMessage("Weather in Oslo?")];

        ChatCompletion first = await Chat("openai/gpt-4o-mini").CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.ToolCalls, first.FinishReason);
        var call = Assert.Single(first.ToolCalls);
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Oslo", JsonNode.Parse(call.FunctionArguments.ToString())!["city"]!.GetValue<string>());

        messages.Add(new AssistantChatMessage(first));
        messages.Add(new ToolChatMessage(call.Id, "{\"tempC\":-3}"));
        hub.Primary.Enqueue(new FakeReply { Text = "It is -3°C in Oslo." });
        ChatCompletion second = await Chat("openai/gpt-4o-mini").CompleteChatAsync(messages, options);
        Assert.Equal("It is -3°C in Oslo.", second.Content[0].Text);

        var sent = hub.Primary.Requests.Last().RequiredBody;
        Assert.Equal("get_weather", (string?)sent["tools"]![0]!["function"]!["name"]);
        var toolMessage = sent["messages"]!.AsArray().Single(m => (string?)m!["role"] == "tool")!;
        Assert.Equal(call.Id, (string?)toolMessage["tool_call_id"]);
    }

    [Fact]
    public async Task Json_schema_response_format_reaches_the_provider()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "{\"answer\":42}" });
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("answer",
                BinaryData.FromString("""{"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"],"additionalProperties":false}"""),
                jsonSchemaIsStrict: true),
        };
        ChatCompletion completion = await Chat("openai/gpt-4o-mini").CompleteChatAsync([new UserChatMessage("answer?")], options);
        Assert.Equal(42, JsonNode.Parse(completion.Content[0].Text)!["answer"]!.GetValue<int>());
        var format = hub.Primary.Requests.Last().RequiredBody["response_format"]!;
        Assert.Equal("json_schema", (string?)format["type"]);
        Assert.Equal("answer", (string?)format["json_schema"]!["name"]);
    }

    [Fact]
    public async Task Embeddings_work_with_the_sdk_default_base64_encoding()
    {
        var client = new EmbeddingClient("openai/text-embedding-3-small", new ApiKeyCredential(Infrastructure.ApiFactory.OwnerKey), Options);
        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("hello");
        Assert.Equal([5f, 0.5f, -0.25f], embedding.ToFloats().ToArray());
    }

    [Fact]
    public async Task Images_come_back_as_bytes_or_urls()
    {
        var client = new ImageClient("openai/dall-e-3", new ApiKeyCredential(Infrastructure.ApiFactory.OwnerKey), Options);
        GeneratedImage bytes = await client.GenerateImageAsync("a cat", new ImageGenerationOptions { ResponseFormat = GeneratedImageFormat.Bytes });
        Assert.Equal("png-0", bytes.ImageBytes.ToString());
        GeneratedImage url = await client.GenerateImageAsync("a cat", new ImageGenerationOptions { ResponseFormat = GeneratedImageFormat.Uri });
        Assert.Equal("https://images.example/0.png", url.ImageUri.ToString());
    }
}
