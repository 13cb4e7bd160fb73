using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Gemini;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Providers.Anthropic;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Providers.Gemini;

public sealed class GeminiChatAdapterTests : IAsyncLifetime
{
    private const string Key = "AIza-test";
    private FakeGemini _fake = null!;
    private ProviderHttp _http = null!;
    private GeminiChatAdapter _adapter = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeGemini.StartAsync();
        _fake.ApiKey = Key;
        _http = new ProviderHttp(Options.Create(new ProviderHttpOptions()));
        _adapter = new GeminiChatAdapter(_http);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _fake.DisposeAsync();
    }

    private ProviderEndpoint Endpoint(string? key = Key) => new("google", _fake.BaseUrl, key, _http.Client);

    private static ChatMessage Msg(ChatRole role, string text) => new() { Role = role, Content = [new TextPart(text)] };

    private static ChatRequest Simple(string text = "Hi") => new() { Model = "gemini-2.5-flash", Messages = [Msg(ChatRole.User, text)] };

    [Fact]
    public async Task Chat_translates_system_roles_images_and_generation_config_and_reads_the_answer()
    {
        _fake.Enqueue(new FakeReply { Text = "A cat.", InputTokens = 30, OutputTokens = 4, ReasoningTokens = 10, CacheReadInputTokens = 20 });
        var request = new ChatRequest
        {
            Model = "gemini-2.5-flash",
            Messages =
            [
                Msg(ChatRole.System, "Be brief."),
                Msg(ChatRole.System, "Answer in English."),
                new ChatMessage
                {
                    Role = ChatRole.User,
                    Content = [new TextPart("What is this?"), new ImagePart("data:image/webp;base64,UklGRg=="), new ImagePart("https://example.com/img/cat.PNG?size=2")],
                },
                Msg(ChatRole.Assistant, "Let me look."),
                Msg(ChatRole.User, "Go on."),
            ],
            Temperature = 1.5,
            TopP = 0.9,
            MaxOutputTokens = 256,
            Stop = ["END"],
            Seed = 7,
        };

        var response = await _adapter.CompleteAsync(Endpoint(), request, CancellationToken.None);

        var sent = _fake.LastRequest;
        Assert.Equal("/v1beta/models/gemini-2.5-flash:generateContent", sent.Path);
        Assert.Equal(Key, sent.Header("x-goog-api-key"));
        var body = sent.RequiredBody;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"parts":[{"text":"Be brief.\n\nAnswer in English."}]}"""), body["systemInstruction"]));
        var contents = body["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => (string?)c!["role"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"text":"What is this?"},
             {"inlineData":{"mimeType":"image/webp","data":"UklGRg=="}},
             {"fileData":{"mimeType":"image/png","fileUri":"https://example.com/img/cat.PNG?size=2"}}]
            """), contents[0]!["parts"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"temperature":1.5,"topP":0.9,"maxOutputTokens":256,"stopSequences":["END"],"seed":7}
            """), body["generationConfig"]));

        Assert.Equal("gemini_fake_1", response.Id);
        Assert.Equal("gemini-2.5-flash", response.Model);
        Assert.Equal("A cat.", response.Text);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.Equal(new TokenUsage { InputTokens = 30, OutputTokens = 14, ReasoningTokens = 10, CacheReadInputTokens = 20 }, response.Usage);
    }

    [Theory]
    [InlineData("MAX_TOKENS", FinishReason.Length)]
    [InlineData("SAFETY", FinishReason.ContentFilter)]
    [InlineData("RECITATION", FinishReason.ContentFilter)]
    public async Task Finish_reasons_are_mapped(string reason, FinishReason expected)
    {
        _fake.Enqueue(new FakeReply { Text = "Partial", FinishReason = reason });
        var response = await _adapter.CompleteAsync(Endpoint(), Simple(), CancellationToken.None);
        Assert.Equal(expected, response.FinishReason);
    }

    [Fact]
    public async Task Tools_round_trip_definitions_calls_and_results()
    {
        var schema = JsonDocument.Parse("""
            {"$schema":"http://json-schema.org/draft-07/schema#","type":"object","additionalProperties":false,
             "properties":{"city":{"type":"string","description":"City name"},"unit":{"type":["string","null"],"enum":["c","f"]},
                           "days":{"type":"array","items":{"type":"integer","additionalProperties":false}}},
             "required":["city"]}
            """).RootElement;
        _fake.Enqueue(new FakeReply
        {
            Text = "",
            ToolCalls = [new FakeToolCall("get_weather", """{"city":"Paris"}"""), new FakeToolCall("get_time", """{"zone":"CET"}""")],
        });
        var first = new ChatRequest
        {
            Model = "gemini-2.5-flash",
            Messages = [Msg(ChatRole.User, "Weather and time in Paris?")],
            Tools =
            [
                new ToolDefinition("get_weather", "Current weather", schema, Strict: true),
                new ToolDefinition("get_time", null, JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement),
            ],
            ToolChoice = new ToolChoice(ToolChoiceMode.Function, "get_weather"),
        };

        var response = await _adapter.CompleteAsync(Endpoint(), first, CancellationToken.None);

        var body = _fake.LastRequest.RequiredBody;
        var declarations = body["tools"]![0]!["functionDeclarations"]!.AsArray();
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"name":"get_weather","description":"Current weather","parameters":{"type":"object",
             "properties":{"city":{"type":"string","description":"City name"},"unit":{"nullable":true,"type":"string","enum":["c","f"]},
                           "days":{"type":"array","items":{"type":"integer"}}},
             "required":["city"]}}
            """), declarations[0]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"name":"get_time"}"""), declarations[1]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}"""), body["toolConfig"]));

        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        Assert.Null(response.Text);
        Assert.Equal([new ToolCall("call_0", "get_weather", """{"city":"Paris"}"""), new ToolCall("call_1", "get_time", """{"zone":"CET"}""")], response.ToolCalls);

        _fake.Enqueue(new FakeReply { Text = "Sunny, 14:00." });
        var second = first with
        {
            Messages =
            [
                .. first.Messages,
                new ChatMessage { Role = ChatRole.Assistant, ToolCalls = response.ToolCalls },
                // No Name: Gemini needs it, so it comes from the assistant's call with the same id.
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_0", Content = [new TextPart("""{"sky":"sunny"}""")] },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_1", Name = "get_time", Content = [new TextPart("14:00")] },
            ],
            ToolChoice = new ToolChoice(ToolChoiceMode.None),
        };
        var answer = await _adapter.CompleteAsync(Endpoint(), second, CancellationToken.None);

        body = _fake.LastRequest.RequiredBody;
        Assert.Equal("NONE", (string?)body["toolConfig"]!["functionCallingConfig"]!["mode"]);
        var contents = body["contents"]!.AsArray();
        Assert.Equal(["user", "model", "user"], contents.Select(c => (string?)c!["role"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},{"functionCall":{"name":"get_time","args":{"zone":"CET"}}}]
            """), contents[1]!["parts"]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            [{"functionResponse":{"name":"get_weather","response":{"sky":"sunny"}}},
             {"functionResponse":{"name":"get_time","response":{"output":"14:00"}}}]
            """), contents[2]!["parts"]));
        Assert.Equal("Sunny, 14:00.", answer.Text);
    }

    [Fact]
    public async Task Provider_tool_call_ids_and_thought_signatures_survive_the_round_trip()
    {
        _fake.Enqueue(new FakeReply { Text = "", ToolCalls = [new FakeToolCall("lookup", """{"q":"x"}""", "fc-77")] });
        var response = await _adapter.CompleteAsync(Endpoint(), Simple(), CancellationToken.None);
        Assert.Equal("fc-77", response.ToolCalls![0].Id);

        _fake.Enqueue(new FakeReply { Text = "ok" });
        await _adapter.CompleteAsync(Endpoint(), Simple() with
        {
            Messages =
            [
                Msg(ChatRole.User, "Hi"),
                new ChatMessage { Role = ChatRole.Assistant, ToolCalls = [new ToolCall("call_0__ts__c2lnbmF0dXJl", "lookup", """{"q":"x"}""")] },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "call_0__ts__c2lnbmF0dXJl", Content = [new TextPart("[1,2]")] },
            ],
        }, CancellationToken.None);

        var contents = _fake.LastRequest.RequiredBody["contents"]!.AsArray();
        Assert.Equal("c2lnbmF0dXJl", (string?)contents[1]!["parts"]![0]!["thoughtSignature"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"name":"lookup","response":{"output":[1,2]}}"""), contents[2]!["parts"]![0]!["functionResponse"]));
    }

    [Fact]
    public async Task Json_modes_set_the_response_mime_type_and_a_sanitized_schema()
    {
        var schema = JsonDocument.Parse("""{"type":"object","additionalProperties":false,"properties":{"answer":{"type":"integer"}},"required":["answer"]}""").RootElement;
        _fake.Enqueue(new FakeReply { Text = """{"answer":4}""" });
        var response = await _adapter.CompleteAsync(Endpoint(), Simple("2+2") with
        {
            ResponseFormat = new ResponseFormat(ResponseFormatKind.JsonSchema, "result", schema, Strict: true),
        }, CancellationToken.None);

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""
            {"responseMimeType":"application/json","responseSchema":{"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"]}}
            """), _fake.LastRequest.RequiredBody["generationConfig"]));
        Assert.Equal(4, (int?)JsonNode.Parse(response.Text!)!["answer"]);

        _fake.Enqueue(new FakeReply { Text = "{}" });
        await _adapter.CompleteAsync(Endpoint(), Simple() with { ResponseFormat = new ResponseFormat(ResponseFormatKind.JsonObject) }, CancellationToken.None);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"responseMimeType":"application/json"}"""), _fake.LastRequest.RequiredBody["generationConfig"]));
    }

    [Fact]
    public async Task Stream_yields_text_deltas_in_order_and_final_usage()
    {
        _fake.Enqueue(new FakeReply { Text = "One two three four.", InputTokens = 40, OutputTokens = 6, ReasoningTokens = 3, CacheReadInputTokens = 32 });

        var updates = await AnthropicChatAdapterTests.CollectAsync(_adapter.StreamAsync(Endpoint(), Simple("Count"), CancellationToken.None));

        Assert.Equal("/v1beta/models/gemini-2.5-flash:streamGenerateContent", _fake.LastRequest.Path);
        Assert.Equal("?alt=sse", _fake.LastRequest.Query);
        Assert.Equal(["One", " two", " three", " four."], updates.Where(u => u.TextDelta is not null).Select(u => u.TextDelta));
        Assert.All(updates, u => Assert.Equal("gemini_fake_1", u.Id));
        var last = updates[^1];
        Assert.Equal(FinishReason.Stop, last.FinishReason);
        Assert.Equal(new TokenUsage { InputTokens = 40, OutputTokens = 9, ReasoningTokens = 3, CacheReadInputTokens = 32 }, last.Usage);
        Assert.Single(updates, u => u.FinishReason is not null);
    }

    [Fact]
    public async Task Stream_function_calls_arrive_as_complete_tool_call_deltas()
    {
        _fake.Enqueue(new FakeReply
        {
            Text = "Checking.",
            ToolCalls = [new FakeToolCall("search", """{"query":"weather","limit":3}"""), new FakeToolCall("now", "{}")],
        });

        var updates = await AnthropicChatAdapterTests.CollectAsync(_adapter.StreamAsync(Endpoint(), Simple(), CancellationToken.None));

        var calls = AnthropicChatAdapterTests.Reassemble(updates);
        Assert.Equal(2, calls.Count);
        Assert.Equal(("call_0", "search"), (calls[0].Id, calls[0].Name));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"query":"weather","limit":3}"""), JsonNode.Parse(calls[0].Arguments)));
        Assert.Equal(new ToolCall("call_1", "now", "{}"), calls[1]);
        Assert.Equal(FinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task Stream_yields_the_first_update_before_the_provider_finishes()
    {
        var reply = new FakeReply { Text = "Early bird.", DelayBeforeLastEvent = TimeSpan.FromSeconds(2) };
        _fake.Enqueue(reply);

        await using var stream = _adapter.StreamAsync(Endpoint(), Simple(), CancellationToken.None).GetAsyncEnumerator();
        Assert.True(await stream.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("Early", stream.Current.TextDelta);
        Assert.False(reply.LastEventSent.Task.IsCompleted, "the first update must not wait for the end of the stream");

        while (await stream.MoveNextAsync())
        {
        }
        Assert.True(reply.LastEventSent.Task.IsCompleted);
    }

    [Theory]
    [InlineData(401, ProviderErrorClass.InvalidCredential)]
    [InlineData(429, ProviderErrorClass.RateLimited)]
    [InlineData(500, ProviderErrorClass.Unavailable)]
    [InlineData(404, ProviderErrorClass.ModelNotFound)]
    public async Task Provider_errors_become_classified_provider_exceptions(int status, ProviderErrorClass expected)
    {
        _fake.Enqueue(new FakeReply { FailStatus = status, FailMessage = $"scripted {status}" });
        var error = await Assert.ThrowsAsync<ProviderException>(() => _adapter.CompleteAsync(Endpoint(), Simple(), CancellationToken.None));
        Assert.Equal(expected, error.ErrorClass);
        Assert.Equal(status, error.ProviderStatus);
        Assert.Contains($"scripted {status}", error.Message);

        _fake.Enqueue(new FakeReply { FailStatus = status, FailMessage = $"scripted {status}" });
        await using var stream = _adapter.StreamAsync(Endpoint(), Simple(), CancellationToken.None).GetAsyncEnumerator();
        var streamError = await Assert.ThrowsAsync<ProviderException>(async () => await stream.MoveNextAsync());
        Assert.Equal(expected, streamError.ErrorClass);
        Assert.Contains($"scripted {status}", streamError.Message);
    }

    [Fact]
    public async Task Geminis_400_for_a_bad_key_is_an_invalid_credential()
    {
        var error = await Assert.ThrowsAsync<ProviderException>(() => _adapter.CompleteAsync(Endpoint("AIza-wrong"), Simple(), CancellationToken.None));
        Assert.Equal(ProviderErrorClass.InvalidCredential, error.ErrorClass);
        Assert.Equal(400, error.ProviderStatus);
        Assert.Contains("API key not valid", error.Message);

        await using var stream = _adapter.StreamAsync(Endpoint("AIza-wrong"), Simple(), CancellationToken.None).GetAsyncEnumerator();
        var streamError = await Assert.ThrowsAsync<ProviderException>(async () => await stream.MoveNextAsync());
        Assert.Equal(ProviderErrorClass.InvalidCredential, streamError.ErrorClass);
    }

    [Fact]
    public async Task A_cut_stream_throws_instead_of_ending_silently()
    {
        _fake.Enqueue(new FakeReply { Text = "This answer will be cut short.", CutAfterEvents = 2 });
        var received = new List<ChatStreamUpdate>();

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in _adapter.StreamAsync(Endpoint(), Simple(), CancellationToken.None))
            {
                received.Add(update);
            }
        });

        Assert.Equal(ProviderErrorClass.Unavailable, error.ErrorClass);
        Assert.Equal(["This", " answer"], received.Select(u => u.TextDelta));
    }

    [Fact]
    public async Task A_stream_that_ends_early_without_its_end_marker_throws()
    {
        _fake.Enqueue(new FakeReply { Text = "This answer will end early.", EndAfterEvents = 2 });

        var error = await Assert.ThrowsAsync<ProviderException>(() =>
            AnthropicChatAdapterTests.CollectAsync(_adapter.StreamAsync(Endpoint(), Simple(), CancellationToken.None)));

        Assert.Equal(ProviderErrorClass.Unavailable, error.ErrorClass);
    }

    [Fact]
    public async Task An_error_chunk_mid_stream_throws_with_its_message()
    {
        _fake.Enqueue(new FakeReply { Text = "Starting fine then failing.", ErrorAfterEvents = 2 });

        var error = await Assert.ThrowsAsync<ProviderException>(() =>
            AnthropicChatAdapterTests.CollectAsync(_adapter.StreamAsync(Endpoint(), Simple(), CancellationToken.None)));

        Assert.Equal(ProviderErrorClass.Unavailable, error.ErrorClass);
        Assert.Contains("An internal error has occurred.", error.Message);
    }
}
