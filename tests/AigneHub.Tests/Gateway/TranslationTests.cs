using System.ClientModel;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace AigneHub.Tests.Gateway;

/// <summary>OpenAI in, Anthropic or Gemini out: content, tool calls and usage survive translation both ways.</summary>
public sealed class TranslationTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private ChatClient Chat(string model) =>
        new(model, new ApiKeyCredential(Infrastructure.ApiFactory.OwnerKey), new OpenAIClientOptions { Endpoint = new Uri(hub.HubBase, "api/v2/") });

    [Fact]
    public async Task Anthropic_chat_translates_system_prompt_content_and_cache_usage()
    {
        hub.Anthropic.Enqueue(new FakeReply { Text = "Bonjour.", InputTokens = 10, OutputTokens = 3, CacheReadInputTokens = 4, CacheCreationInputTokens = 2 });
        ChatCompletion completion = await Chat("anthropic/claude-sonnet-4").CompleteChatAsync(
            [new SystemChatMessage("Answer in French."), new UserChatMessage("Hello")], new ChatCompletionOptions { MaxOutputTokenCount = 64 });

        Assert.Equal("Bonjour.", completion.Content[0].Text);
        // OpenAI counts cached tokens inside prompt tokens: 10 fresh + 4 read + 2 written.
        Assert.Equal(16, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Equal(4, completion.Usage.InputTokenDetails.CachedTokenCount);

        var sent = hub.Anthropic.LastRequest;
        Assert.Equal("Answer in French.", (string?)sent.RequiredBody["system"] ?? (string?)sent.RequiredBody["system"]?[0]?["text"]);
        Assert.Equal("claude-sonnet-4", (string?)sent.RequiredBody["model"]);
        Assert.Equal(64, (int?)sent.RequiredBody["max_tokens"]);
        Assert.Equal("sk-ant-test-0123456789", sent.Header("x-api-key"));
    }

    [Fact]
    public async Task Anthropic_streaming_and_tool_calls_come_back_in_openai_shape()
    {
        hub.Anthropic.Enqueue(new FakeReply { Text = "", ToolCalls = [new FakeToolCall("lookup", "{\"q\":\"aspire\"}", "toolu_1")] });
        var tool = ChatTool.CreateFunctionTool("lookup", "Search", BinaryData.FromString("""{"type":"object","properties":{"q":{"type":"string"}}}"""));
        var calls = new Dictionary<int, (string? Id, string? Name, System.Text.StringBuilder Args)>();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat("anthropic/claude-sonnet-4").CompleteChatStreamingAsync([new UserChatMessage("find aspire")], new ChatCompletionOptions { Tools = { tool } }))
        {
            foreach (var t in update.ToolCallUpdates)
            {
                var c = calls.TryGetValue(t.Index, out var existing) ? existing : (null, null, new System.Text.StringBuilder());
                calls[t.Index] = (t.ToolCallId ?? c.Id, t.FunctionName ?? c.Name, c.Args.Append(t.FunctionArgumentsUpdate?.ToString()));
            }
            finish = update.FinishReason ?? finish;
        }
        var call = Assert.Single(calls.Values);
        Assert.Equal("toolu_1", call.Id);
        Assert.Equal("lookup", call.Name);
        Assert.Equal("aspire", (string?)JsonNode.Parse(call.Args.ToString())!["q"]);
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("lookup", (string?)hub.Anthropic.LastRequest.RequiredBody["tools"]![0]!["name"]);
    }

    [Fact]
    public async Task Gemini_chat_and_streaming_translate_text_and_usage()
    {
        hub.Gemini.Enqueue(new FakeReply { Text = "Gemini says hi", InputTokens = 6, OutputTokens = 3 });
        ChatCompletion completion = await Chat("google/gemini-2.5-flash").CompleteChatAsync([new UserChatMessage("hi")]);
        Assert.Equal("Gemini says hi", completion.Content[0].Text);
        Assert.Equal(6, completion.Usage.InputTokenCount);
        Assert.Equal(3, completion.Usage.OutputTokenCount);
        Assert.Contains("gemini-2.5-flash:generateContent", hub.Gemini.LastRequest.Path);

        hub.Gemini.Enqueue(new FakeReply { Text = "streamed from gemini", InputTokens = 4, OutputTokens = 3 });
        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat("google/gemini-2.5-flash").CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
            usage = update.Usage ?? usage;
        }
        Assert.Equal("streamed from gemini", text.ToString());
        Assert.Equal(3, usage?.OutputTokenCount);
        Assert.Contains("streamGenerateContent", hub.Gemini.LastRequest.Path);
    }

    [Fact]
    public async Task Gemini_embeddings_through_the_openai_embeddings_route()
    {
        var client = new EmbeddingClient("google/text-embedding-004", new ApiKeyCredential(Infrastructure.ApiFactory.OwnerKey),
            new OpenAIClientOptions { Endpoint = new Uri(hub.HubBase, "api/v2/") });
        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("hello world");
        Assert.NotEmpty(embedding.ToFloats().ToArray());
        Assert.Contains("batchEmbedContents", hub.Gemini.LastRequest.Path);
    }
}
