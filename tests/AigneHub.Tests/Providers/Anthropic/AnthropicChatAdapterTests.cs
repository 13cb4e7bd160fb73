using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Anthropic;
using AigneHub.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Providers.Anthropic;

public sealed class AnthropicChatAdapterTests : IAsyncLifetime
{
    private const string Key = "sk-ant-test";
    private FakeAnthropic _fake = null!;
    private ProviderHttp _http = null!;
    private AnthropicChatAdapter _adapter = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeAnthropic.StartAsync();
        _fake.ApiKey = Key;
        _http = new ProviderHttp(Options.Create(new ProviderHttpOptions()));
        _adapter = new AnthropicChatAdapter(_http);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _fake.DisposeAsync();
    }

    private ProviderEndpoint Endpoint(string? key = Key) => new("anthropic", _fake.BaseUrl, key, _http.Client);

    private static ChatMessage Msg(ChatRole role, string text) => new() { Role = role, Content = [new TextPart(text)] };

    [Fact]
    public async Task Chat_translates_system_roles_images_and_settings_and_reads_the_answer()
    {
        _fake.Enqueue(new FakeReply { Text = "A cat.", InputTokens = 20, CacheCreationInputTokens = 3, CacheReadInputTokens = 5, OutputTokens = 4 });
        var request = new ChatRequest
        {
            Model = "claude-sonnet-4-5",
            Messages =
            [
                Msg(ChatRole.System, "Be brief."),
                Msg(ChatRole.System, "Answer in English."),
                new ChatMessage
                {
                    Role = ChatRole.User,
                    Content = [new TextPart("What is this?"), new ImagePart("data:image/png;base64,iVBORw0KGgo="), new ImagePart("https://example.com/cat.jpg")],
                },
                Msg(ChatRole.Assistant, "Let me look."),
                Msg(ChatRole.User, "Go on."),
            ],
            Temperature = 1.5,
            TopP = 0.9,
            Stop = ["END"],
            EndUser = "user-42",
        };

        var response = await _adapter.CompleteAsync(Endpoint(), request, CancellationToken.None);

        var sent = _fake.LastRequest;
        Assert.Equal("/v1/messages", sent.Path);
        Assert.Equal(Key, sent.Header("x-api-key"));
        Assert.Equal("2023-06-01", sent.Header("anthropic-version"));
        var body = sent.RequiredBody;
        Assert.Equal("claude-sonnet-4-5", (string?)body["model"]);
        Assert.Equal(4096, (int?)body["max_tokens"]);
        Assert.Equal("Be brief.\n\nAnswer in English.", (string?)body["system"]);
        Assert.Equal(1.0, (double?)body["temperature"]);
        Assert.Equal(0.9, (double?)body["top_p"]);
        Assert.Equal("END", (string?)body["stop_sequences"]![0]);
        Assert.Equal("user-42", (string?)body["metadata"]!["user_id"]);
        Assert.Null(body["stream"]);

        var messages = body["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => (string?)m!["role"]));
        var parts = messages[0]!["content"]!.AsArray();
        Assert.Equal("text", (string?)parts[0]!["type"]);
        Assert.Equal("What is this?", (string?)parts[0]!["text"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}"""), parts[1]));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}"""), parts[2]));

        Assert.Equal("msg_fake_1", response.Id);
        Assert.Equal("claude-sonnet-4-5", response.Model);
        Assert.Equal("A cat.", response.Text);
        Assert.Null(response.ToolCalls);
        Assert.Equal(FinishReason.Stop, response.FinishReason);
        Assert.Equal(new TokenUsage { InputTokens = 28, OutputTokens = 4, CacheCreationInputTokens = 3, CacheReadInputTokens = 5 }, response.Usage);
    }

    [Fact]
    public async Task Chat_sends_the_callers_max_tokens_and_maps_max_tokens_to_length()
    {
        _fake.Enqueue(new FakeReply { Text = "Cut", FinishReason = "max_tokens" });
        var response = await _adapter.CompleteAsync(Endpoint(),
            new ChatRequest { Model = "claude-haiku-4-5", Messages = [Msg(ChatRole.User, "Hi")], MaxOutputTokens = 17 }, CancellationToken.None);

        Assert.Equal(17, (int?)_fake.LastRequest.RequiredBody["max_tokens"]);
        Assert.Null(_fake.LastRequest.RequiredBody["system"]);
        Assert.Equal(FinishReason.Length, response.FinishReason);
    }

    [Fact]
    public async Task Tools_round_trip_definitions_calls_and_results()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""").RootElement;
        _fake.Enqueue(new FakeReply
        {
            Text = "",
            ToolCalls = [new FakeToolCall("get_weather", """{"city":"Paris"}""", "toolu_01"), new FakeToolCall("get_time", """{"zone":"CET"}""", "toolu_02")],
        });
        var first = new ChatRequest
        {
            Model = "claude-sonnet-4-5",
            Messages = [Msg(ChatRole.User, "Weather and time in Paris?")],
            Tools = [new ToolDefinition("get_weather", "Current weather", schema), new ToolDefinition("get_time", null, null)],
            ToolChoice = new ToolChoice(ToolChoiceMode.Function, "get_weather"),
        };

        var response = await _adapter.CompleteAsync(Endpoint(), first, CancellationToken.None);

        var tools = _fake.LastRequest.RequiredBody["tools"]!.AsArray();
        Assert.Equal("get_weather", (string?)tools[0]!["name"]);
        Assert.Equal("Current weather", (string?)tools[0]!["description"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(schema.GetRawText()), tools[0]!["input_schema"]));
        Assert.Equal("object", (string?)tools[1]!["input_schema"]!["type"]);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"type":"tool","name":"get_weather"}"""), _fake.LastRequest.RequiredBody["tool_choice"]));

        Assert.Equal(FinishReason.ToolCalls, response.FinishReason);
        Assert.Null(response.Text);
        Assert.Equal(2, response.ToolCalls!.Count);
        Assert.Equal(new ToolCall("toolu_01", "get_weather", """{"city":"Paris"}"""), response.ToolCalls[0]);
        Assert.Equal("toolu_02", response.ToolCalls[1].Id);

        _fake.Enqueue(new FakeReply { Text = "Sunny, 14:00." });
        var second = first with
        {
            Messages =
            [
                .. first.Messages,
                new ChatMessage { Role = ChatRole.Assistant, ToolCalls = response.ToolCalls },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "toolu_01", Content = [new TextPart("""{"sky":"sunny"}""")] },
                new ChatMessage { Role = ChatRole.Tool, ToolCallId = "toolu_02", Content = [new TextPart("14:00")] },
            ],
            ToolChoice = new ToolChoice(ToolChoiceMode.Required),
        };
        var answer = await _adapter.CompleteAsync(Endpoint(), second, CancellationToken.None);

        var body = _fake.LastRequest.RequiredBody;
        Assert.Equal("any", (string?)body["tool_choice"]!["type"]);
        var messages = body["messages"]!.AsArray();
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => (string?)m!["role"]));
        var toolUses = messages[1]!["content"]!.AsArray();
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}}"""), toolUses[0]));
        Assert.Equal("toolu_02", (string?)toolUses[1]!["id"]);
        var results = messages[2]!["content"]!.AsArray();
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""[{"type":"tool_result","tool_use_id":"toolu_01","content":"{\"sky\":\"sunny\"}"},{"type":"tool_result","tool_use_id":"toolu_02","content":"14:00"}]"""),
            results));
        Assert.Equal("Sunny, 14:00.", answer.Text);
    }

    [Fact]
    public async Task Json_schema_mode_is_emulated_in_the_system_prompt()
    {
        var schema = JsonDocument.Parse("""{"type":"object","properties":{"answer":{"type":"integer"}}}""").RootElement;
        _fake.Enqueue(new FakeReply { Text = """{"answer":4}""" });
        var response = await _adapter.CompleteAsync(Endpoint(), new ChatRequest
        {
            Model = "claude-sonnet-4-5",
            Messages = [Msg(ChatRole.System, "You are a calculator."), Msg(ChatRole.User, "2+2")],
            ResponseFormat = new ResponseFormat(ResponseFormatKind.JsonSchema, "result", schema),
        }, CancellationToken.None);

        var body = _fake.LastRequest.RequiredBody;
        var system = (string)body["system"]!;
        Assert.StartsWith("You are a calculator.\n\n", system);
        Assert.Contains("JSON", system);
        Assert.Contains(schema.GetRawText(), system);
        Assert.Null(body["response_format"]);
        Assert.Equal(4, (int?)JsonNode.Parse(response.Text!)!["answer"]);
    }

    [Fact]
    public async Task Stream_yields_text_deltas_in_order_and_final_usage_with_cache_tokens()
    {
        _fake.Enqueue(new FakeReply { Text = "One two three four.", InputTokens = 9, CacheCreationInputTokens = 100, CacheReadInputTokens = 50, OutputTokens = 6 });

        var updates = await CollectAsync(_adapter.StreamAsync(Endpoint(), new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Count")] }, CancellationToken.None));

        Assert.True((bool?)_fake.LastRequest.RequiredBody["stream"]);
        var deltas = updates.Where(u => u.TextDelta is not null).Select(u => u.TextDelta).ToList();
        Assert.Equal(["One", " two", " three", " four."], deltas);
        Assert.All(updates, u => Assert.Equal("msg_fake_1", u.Id));
        var last = updates[^1];
        Assert.Equal(FinishReason.Stop, last.FinishReason);
        Assert.Equal(new TokenUsage { InputTokens = 159, OutputTokens = 6, CacheCreationInputTokens = 100, CacheReadInputTokens = 50 }, last.Usage);
        Assert.Single(updates, u => u.Usage is not null);
    }

    [Fact]
    public async Task Stream_tool_call_deltas_reassemble_into_valid_json()
    {
        _fake.Enqueue(new FakeReply
        {
            Text = "Checking.",
            ToolCalls =
            [
                new FakeToolCall("search", """{"query":"weather in Paris tomorrow","limit":3,"filters":{"lang":"en"}}""", "toolu_a"),
                new FakeToolCall("now", "{}", "toolu_b"),
            ],
        });

        var updates = await CollectAsync(_adapter.StreamAsync(Endpoint(), new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Search")] }, CancellationToken.None));

        var calls = Reassemble(updates);
        Assert.Equal(2, calls.Count);
        Assert.Equal(("toolu_a", "search"), (calls[0].Id, calls[0].Name));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"query":"weather in Paris tomorrow","limit":3,"filters":{"lang":"en"}}"""), JsonNode.Parse(calls[0].Arguments)));
        Assert.True(updates.Count(u => u.ToolCalls?[0].Index == 0 && u.ToolCalls[0].ArgumentsDelta is not null) > 2, "arguments should arrive in several deltas");
        Assert.Equal(("toolu_b", "now", "{}"), (calls[1].Id, calls[1].Name, calls[1].Arguments));
        Assert.Equal("Checking.", string.Concat(updates.Select(u => u.TextDelta)));
        Assert.Equal(FinishReason.ToolCalls, updates[^1].FinishReason);
    }

    [Fact]
    public async Task Stream_yields_the_first_update_before_the_provider_finishes()
    {
        var reply = new FakeReply { Text = "Early bird.", DelayBeforeLastEvent = TimeSpan.FromSeconds(2) };
        _fake.Enqueue(reply);

        await using var stream = _adapter.StreamAsync(Endpoint(), new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Hi")] }, CancellationToken.None)
            .GetAsyncEnumerator();
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
    [InlineData(529, ProviderErrorClass.Unavailable)]
    public async Task Provider_errors_become_classified_provider_exceptions(int status, ProviderErrorClass expected)
    {
        var request = new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Hi")] };
        _fake.Enqueue(new FakeReply { FailStatus = status, FailMessage = $"scripted {status}" });
        var error = await Assert.ThrowsAsync<ProviderException>(() => _adapter.CompleteAsync(Endpoint(), request, CancellationToken.None));
        Assert.Equal(expected, error.ErrorClass);
        Assert.Equal(status, error.ProviderStatus);
        Assert.Contains($"scripted {status}", error.Message);

        // Streaming throws on the first MoveNext, before any update.
        _fake.Enqueue(new FakeReply { FailStatus = status, FailMessage = $"scripted {status}" });
        await using var stream = _adapter.StreamAsync(Endpoint(), request, CancellationToken.None).GetAsyncEnumerator();
        var streamError = await Assert.ThrowsAsync<ProviderException>(async () => await stream.MoveNextAsync());
        Assert.Equal(expected, streamError.ErrorClass);
        Assert.Contains($"scripted {status}", streamError.Message);
    }

    [Fact]
    public async Task A_wrong_key_is_an_invalid_credential_with_anthropics_message()
    {
        var error = await Assert.ThrowsAsync<ProviderException>(() => _adapter.CompleteAsync(Endpoint("sk-ant-wrong"),
            new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Hi")] }, CancellationToken.None));
        Assert.Equal(ProviderErrorClass.InvalidCredential, error.ErrorClass);
        Assert.Contains("invalid x-api-key", error.Message);
    }

    [Fact]
    public async Task A_cut_stream_throws_instead_of_ending_silently()
    {
        _fake.Enqueue(new FakeReply { Text = "This answer will be cut short.", CutAfterEvents = 5 });
        var received = new List<ChatStreamUpdate>();

        var error = await Assert.ThrowsAsync<ProviderException>(async () =>
        {
            await foreach (var update in _adapter.StreamAsync(Endpoint(), new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Hi")] }, CancellationToken.None))
            {
                received.Add(update);
            }
        });

        Assert.Equal(ProviderErrorClass.Unavailable, error.ErrorClass);
        Assert.NotEmpty(received);
        Assert.DoesNotContain(received, u => u.FinishReason is not null);
    }

    [Fact]
    public async Task A_stream_that_ends_early_without_its_end_marker_throws()
    {
        _fake.Enqueue(new FakeReply { Text = "This answer will end early.", EndAfterEvents = 5 });

        var error = await Assert.ThrowsAsync<ProviderException>(() =>
            AnthropicChatAdapterTests.CollectAsync(_adapter.StreamAsync(Endpoint(), new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Hi")] }, CancellationToken.None)));

        Assert.Equal(ProviderErrorClass.Unavailable, error.ErrorClass);
    }

    [Fact]
    public async Task An_error_event_mid_stream_throws_with_its_message()
    {
        _fake.Enqueue(new FakeReply { Text = "Starting fine then failing.", ErrorAfterEvents = 4 });

        var error = await Assert.ThrowsAsync<ProviderException>(() =>
            CollectAsync(_adapter.StreamAsync(Endpoint(), new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Hi")] }, CancellationToken.None)));

        Assert.Equal(ProviderErrorClass.Unavailable, error.ErrorClass);
        Assert.Contains("Overloaded", error.Message);
    }

    [Fact]
    public async Task A_provider_silent_past_the_idle_timeout_is_a_timeout()
    {
        using var http = new ProviderHttp(Options.Create(new ProviderHttpOptions { IdleTimeout = TimeSpan.FromMilliseconds(300) }));
        _fake.Enqueue(new FakeReply { DelayBeforeHeaders = TimeSpan.FromSeconds(5) });

        var error = await Assert.ThrowsAsync<ProviderException>(() => new AnthropicChatAdapter(http).CompleteAsync(
            new ProviderEndpoint("anthropic", _fake.BaseUrl, Key, http.Client),
            new ChatRequest { Model = "claude-sonnet-4-5", Messages = [Msg(ChatRole.User, "Hi")] }, CancellationToken.None));

        Assert.Equal(ProviderErrorClass.Timeout, error.ErrorClass);
    }

    internal static async Task<List<ChatStreamUpdate>> CollectAsync(IAsyncEnumerable<ChatStreamUpdate> stream)
    {
        var updates = new List<ChatStreamUpdate>();
        await foreach (var update in stream)
        {
            updates.Add(update);
        }
        return updates;
    }

    /// <summary>Reassembles tool calls from deltas the way an OpenAI client does: by index, first id/name wins.</summary>
    internal static List<ToolCall> Reassemble(IEnumerable<ChatStreamUpdate> updates)
    {
        var calls = new SortedDictionary<int, (string? Id, string? Name, string Arguments)>();
        foreach (var delta in updates.SelectMany(u => u.ToolCalls ?? []))
        {
            calls.TryGetValue(delta.Index, out var call);
            calls[delta.Index] = (call.Id ?? delta.Id, call.Name ?? delta.Name, (call.Arguments ?? "") + delta.ArgumentsDelta);
        }
        return [.. calls.Values.Select(c => new ToolCall(c.Id!, c.Name!, c.Arguments))];
    }
}
