using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Core;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// The official Anthropic .NET SDK, unchanged, against AigneHub (base URL <c>&lt;hub&gt;/api/v2/anthropic</c>), to
/// the Anthropic fake (a pass-through) and to the OpenAI and Gemini fakes (translated through the neutral model).
/// </summary>
public sealed class AnthropicSdkTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    public static TheoryData<string> Providers => new() { "anthropic", "openai", "google" };

    private AnthropicClient Client(string key = ApiFactory.OwnerKey) => new(new ClientOptions
    {
        BaseUrl = new Uri(hub.HubBase, "api/v2/anthropic").ToString(),
        ApiKey = key,
        MaxRetries = 0,
    });

    /// <summary>The hub's model name of each provider's fake, and that fake.</summary>
    private (string Model, FakeProvider Fake) Target(string provider) => provider switch
    {
        "anthropic" => ("anthropic/claude-sonnet-4", hub.Anthropic),
        "openai" => ("openai/gpt-4o-mini", hub.Primary),
        _ => ("google/gemini-2.5-flash", hub.Gemini),
    };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Create_returns_the_answer_and_the_usage_in_anthropic_terms(string provider)
    {
        var (model, fake) = Target(provider);
        // Each fake reports usage in its own convention; Anthropic callers always get input without the cache reads.
        fake.Enqueue(new FakeReply { Text = "Paris.", InputTokens = 20, CacheReadInputTokens = 5, OutputTokens = 2 });
        var before = fake.Requests.Count;

        var message = await Client().Messages.Create(new MessageCreateParams
        {
            Model = model,
            MaxTokens = 64,
            System = "Be brief.",
            Messages = [new UserMessageParam { Content = "Capital of France?" }],
        });

        Assert.True(message.Content.Single().TryPickText(out var text));
        Assert.Equal("Paris.", text!.Text);
        Assert.Equal("end_turn", (string)message.StopReason!);
        var expectedInput = provider == "anthropic" ? 20 : 20 - 5; // Anthropic's own input_tokens already exclude cache reads
        Assert.Equal(expectedInput, message.Usage.InputTokens);
        Assert.Equal(5, message.Usage.CacheReadInputTokens);
        Assert.Equal(2, message.Usage.OutputTokens);

        var sent = fake.Requests.Skip(before).Single();
        Assert.Contains("Capital of France?", sent.RawBody);
        Assert.Contains("Be brief.", sent.RawBody);
        if (provider == "openai")
        {
            Assert.Equal("gpt-4o-mini", (string?)sent.RequiredBody["model"]);
            Assert.Equal(64, (int?)(sent.RequiredBody["max_completion_tokens"] ?? sent.RequiredBody["max_tokens"]));
        }
        if (provider == "anthropic")
        {
            Assert.Equal("claude-sonnet-4", (string?)sent.RequiredBody["model"]);
            Assert.Equal(64, (int?)sent.RequiredBody["max_tokens"]);
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Streaming_delivers_the_whole_event_sequence_and_the_final_usage(string provider)
    {
        var (model, fake) = Target(provider);
        fake.Enqueue(new FakeReply { Text = "one two three", InputTokens = 9, OutputTokens = 3 });

        var types = new List<string>();
        var text = new StringBuilder();
        long? outputTokens = null;
        string? stopReason = null;
        await foreach (var e in Client().Messages.CreateStreaming(new MessageCreateParams
        {
            Model = model,
            MaxTokens = 64,
            Messages = [new UserMessageParam { Content = "count" }],
        }))
        {
            types.Add((string)e.Type);
            if (e.TryPickContentBlockDelta(out var delta) && delta!.Delta.TryPickText(out var textDelta))
            {
                text.Append(textDelta!.Text);
            }
            if (e.TryPickDelta(out var messageDelta))
            {
                outputTokens = messageDelta!.Usage.OutputTokens;
                stopReason = messageDelta.Delta.StopReason is { } reason ? (string)reason : null;
            }
        }

        Assert.Equal("one two three", text.ToString());
        Assert.Equal(3, outputTokens);
        Assert.Equal("end_turn", stopReason);
        Assert.Equal("message_start", types[0]);
        Assert.Equal(["content_block_start", "content_block_delta"], types.Skip(1).Take(2));
        Assert.Equal(["content_block_stop", "message_delta", "message_stop"], types.TakeLast(3));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_tool_call_and_its_result_round_trip(string provider)
    {
        var (model, fake) = Target(provider);
        fake.Enqueue(new FakeReply { Text = "", ToolCalls = [new FakeToolCall("get_weather", """{"city":"Oslo"}""", "toolu_01")] });
        var tool = new Tool
        {
            Name = "get_weather",
            Description = "Weather for a city",
            InputSchema = new InputSchema
            {
                Properties = new Dictionary<string, JsonElement> { ["city"] = JsonSerializer.SerializeToElement(new { type = "string" }) },
                Required = ["city"],
            },
        };
        var question = new UserMessageParam { Content = "Weather in Oslo?" };

        var first = await Client().Messages.Create(new MessageCreateParams
        {
            Model = model,
            MaxTokens = 100,
            Tools = [tool],
            ToolChoice = new ToolChoiceAuto(),
            Messages = [question],
        });
        Assert.Equal("tool_use", (string)first.StopReason!);
        Assert.True(first.Content.Single(c => c.TryPickToolUse(out _)).TryPickToolUse(out var call));
        Assert.Equal("get_weather", call!.Name);
        Assert.Equal("Oslo", call.Input["city"].GetString());

        fake.Enqueue(new FakeReply { Text = "It is -3°C in Oslo." });
        var second = await Client().Messages.Create(new MessageCreateParams
        {
            Model = model,
            MaxTokens = 100,
            Tools = [tool],
            Messages =
            [
                question,
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ToolUseBlockParam { ID = call.ID, Name = call.Name, Input = call.Input } } },
                new UserMessageParam { Content = new List<ContentBlockParam> { new ToolResultBlockParam(call.ID) { Content = """{"tempC":-3}""" } } },
            ],
        });
        Assert.True(second.Content.Single().TryPickText(out var answer));
        Assert.Equal("It is -3°C in Oslo.", answer!.Text);

        // What the provider got back: the call and its result, in its own wire.
        var sent = fake.LastRequest.RequiredBody;
        switch (provider)
        {
            case "anthropic":
                Assert.Equal("tool_result", (string?)sent["messages"]![2]!["content"]![0]!["type"]);
                Assert.Equal(call.ID, (string?)sent["messages"]![2]!["content"]![0]!["tool_use_id"]);
                break;
            case "openai":
                var toolMessage = sent["messages"]!.AsArray().Single(m => (string?)m!["role"] == "tool")!;
                Assert.Equal(call.ID, (string?)toolMessage["tool_call_id"]);
                Assert.Equal("""{"tempC":-3}""", (string?)toolMessage["content"]);
                Assert.Equal("get_weather", (string?)sent["tools"]![0]!["function"]!["name"]);
                break;
            default:
                Assert.Contains("functionResponse", fake.LastRequest.RawBody);
                Assert.Contains("get_weather", fake.LastRequest.RawBody);
                break;
        }
    }

    [Fact]
    public async Task Thinking_blocks_and_their_signatures_pass_through_to_anthropic_both_ways()
    {
        hub.Anthropic.Enqueue(new FakeReply { Thinking = "Paris is the capital.", ThinkingSignature = "sig-abc", Text = "Paris." });
        var parameters = new MessageCreateParams
        {
            Model = "anthropic/claude-sonnet-4",
            MaxTokens = 2048,
            Thinking = new ThinkingConfigEnabled(1024),
            Messages = [new UserMessageParam { Content = "Capital of France?" }],
        };
        var message = await Client().Messages.Create(parameters);
        Assert.True(message.Content[0].TryPickThinking(out var thinking));
        Assert.Equal("Paris is the capital.", thinking!.Thinking);
        Assert.Equal("sig-abc", thinking.Signature);
        Assert.Equal(1024, (int?)hub.Anthropic.LastRequest.RequiredBody["thinking"]!["budget_tokens"]);

        // Streamed: thinking_delta and signature_delta arrive as Anthropic sent them.
        hub.Anthropic.Enqueue(new FakeReply { Thinking = "Hmm.", ThinkingSignature = "sig-def", Text = "Yes." });
        var (thoughts, signature) = (new StringBuilder(), "");
        await foreach (var e in Client().Messages.CreateStreaming(parameters))
        {
            if (e.TryPickContentBlockDelta(out var delta))
            {
                if (delta!.Delta.TryPickThinking(out var t)) { thoughts.Append(t!.Thinking); }
                if (delta.Delta.TryPickSignature(out var s)) { signature += s!.Signature; }
            }
        }
        Assert.Equal("Hmm.", thoughts.ToString());
        Assert.Equal("sig-def", signature);

        // The next turn carries the signed block back, and Anthropic receives it untouched.
        hub.Anthropic.Enqueue(new FakeReply { Text = "Lyon is second." });
        await Client().Messages.Create(parameters with
        {
            Messages =
            [
                new UserMessageParam { Content = "Capital of France?" },
                new AssistantMessageParam
                {
                    Content = new List<ContentBlockParam>
                    {
                        new ThinkingBlockParam { Thinking = "Paris is the capital.", Signature = "sig-abc" },
                        new TextBlockParam("Paris."),
                    },
                },
                new UserMessageParam { Content = "And the second city?" },
            ],
        });
        var block = hub.Anthropic.LastRequest.RequiredBody["messages"]![1]!["content"]![0]!;
        Assert.Equal("thinking", (string?)block["type"]);
        Assert.Equal("sig-abc", (string?)block["signature"]);
    }

    [Fact]
    public async Task Thinking_is_dropped_for_a_provider_of_another_wire()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "Paris." });
        var message = await Client().Messages.Create(new MessageCreateParams
        {
            Model = "openai/gpt-4o-mini",
            MaxTokens = 2048,
            Thinking = new ThinkingConfigEnabled(1024),
            Messages =
            [
                new UserMessageParam { Content = "Capital of France?" },
                new AssistantMessageParam { Content = new List<ContentBlockParam> { new ThinkingBlockParam { Thinking = "secret", Signature = "sig" }, new TextBlockParam("Paris.") } },
                new UserMessageParam { Content = "Sure?" },
            ],
        });
        Assert.True(message.Content.Single().TryPickText(out _));
        var sent = hub.Primary.LastRequest;
        Assert.DoesNotContain("secret", sent.RawBody);
        Assert.Null(sent.RequiredBody["thinking"]);
        Assert.Equal("Paris.", (string?)sent.RequiredBody["messages"]![1]!["content"]);
    }

    [Fact]
    public async Task Count_tokens_is_anthropics_own_count_on_anthropic_and_the_hubs_estimate_elsewhere()
    {
        hub.Anthropic.Enqueue(new FakeReply { InputTokens = 1234 });
        var before = hub.Anthropic.Requests.Count;
        var counted = await Client().Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "anthropic/claude-sonnet-4",
            Messages = [new UserMessageParam { Content = "How many tokens is this?" }],
        });
        Assert.Equal(1234, counted.InputTokens);
        var sent = hub.Anthropic.Requests.Skip(before).Single();
        Assert.EndsWith("/v1/messages/count_tokens", sent.Path);
        Assert.Equal("claude-sonnet-4", (string?)sent.RequiredBody["model"]);

        // Elsewhere the estimate answers, without a provider call; a longer prompt counts more.
        var openAiBefore = hub.Primary.Requests.Count;
        var shortCount = await Client().Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "openai/gpt-4o-mini",
            Messages = [new UserMessageParam { Content = "short" }],
        });
        var longCount = await Client().Messages.CountTokens(new MessageCountTokensParams
        {
            Model = "openai/gpt-4o-mini",
            Messages = [new UserMessageParam { Content = string.Concat(Enumerable.Repeat("a much longer prompt ", 50)) }],
        });
        Assert.InRange(shortCount.InputTokens, 1, 10);
        Assert.True(longCount.InputTokens > shortCount.InputTokens * 10, $"{longCount.InputTokens} vs {shortCount.InputTokens}");
        Assert.Equal(openAiBefore, hub.Primary.Requests.Count);
    }

    [Fact]
    public async Task A_wrong_key_is_a_401_authentication_error_in_anthropics_shape()
    {
        var ex = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => Client("ahk_not_a_real_key_0000000000000000").Messages.Create(new MessageCreateParams
        {
            Model = "anthropic/claude-sonnet-4",
            MaxTokens = 10,
            Messages = [new UserMessageParam { Content = "hi" }],
        }));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.StatusCode);
        var body = JsonNode.Parse(ex.ResponseBody!)!;
        Assert.Equal("error", (string?)body["type"]);
        Assert.Equal("authentication_error", (string?)body["error"]!["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)body["error"]!["message"]));
    }

    [Theory]
    [InlineData("""{"model":"anthropic/claude-sonnet-4","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"anthropic/claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":5}]}""", "messages[0].content")]
    [InlineData("""{"model":"anthropic/claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":[{"type":"tool_result"}]}]}""", "messages[0].content[0].tool_use_id")]
    [InlineData("""{"model":"anthropic/claude-sonnet-4","max_tokens":10,"tool_choice":{"type":"maybe"},"messages":[{"role":"user","content":"hi"}]}""", "tool_choice.type")]
    [InlineData("""{"model":"anthropic/claude-sonnet-4","max_tokens":10,"system":[{"type":"image"}],"messages":[{"role":"user","content":"hi"}]}""", "system[0].type")]
    public async Task A_bad_body_is_a_400_invalid_request_error_naming_the_field(string body, string field)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/anthropic/v1/messages", new StringContent(body, Encoding.UTF8, "application/json"));
        var error = await AnthropicErrorAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains($"'{field}'", (string?)error["message"]);
    }

    [Fact]
    public async Task An_unknown_route_under_the_anthropic_base_is_a_404_in_anthropics_shape()
    {
        using var response = await hub.Owner.GetAsync("/api/v2/anthropic/v1/nothing-here");
        await AnthropicErrorAsync(response, HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_not_found_error()
    {
        var ex = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => Client().Messages.Create(new MessageCreateParams
        {
            Model = "no-such-model-anywhere",
            MaxTokens = 10,
            Messages = [new UserMessageParam { Content = "hi" }],
        }));
        Assert.Equal("not_found_error", (string?)JsonNode.Parse(ex.ResponseBody!)!["error"]!["type"]);
    }

    internal static async Task<JsonNode> AnthropicErrorAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        var body = JsonNode.Parse(text)!;
        Assert.Equal("error", (string?)body["type"]);
        Assert.Equal(type, (string?)body["error"]!["type"]);
        Assert.False(string.IsNullOrWhiteSpace((string?)body["error"]!["message"]), text);
        return body["error"]!;
    }
}
