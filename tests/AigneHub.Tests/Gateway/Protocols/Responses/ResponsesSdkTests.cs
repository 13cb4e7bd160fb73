#pragma warning disable OPENAI001 // the SDK marks its Responses client experimental; its wire is what Codex and the SDKs speak today
using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Microsoft.ML.Tokenizers;
using OpenAI.Responses;

namespace AigneHub.Tests.Gateway.Protocols.Responses;

/// <summary>
/// The official OpenAI .NET SDK's Responses client, unchanged, against AigneHub (base URL <c>&lt;hub&gt;/api/v2</c>),
/// to the OpenAI fake (passed through), the Anthropic fake and the Gemini fake (translated).
/// </summary>
public sealed class ResponsesSdkTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");

    public static TheoryData<string> Providers => new() { "openai", "anthropic", "google" };

    private ResponsesClient Client(string key = ApiFactory.OwnerKey) =>
        new(new ApiKeyCredential(key), new ResponsesClientOptions { Endpoint = new Uri(hub.HubBase, "api/v2/") });

    private (string Model, FakeProvider Fake) Target(string provider) => provider switch
    {
        "openai" => ("openai/gpt-4o-mini", hub.Primary),
        "anthropic" => ("anthropic/claude-sonnet-4", hub.Anthropic),
        _ => ("google/gemini-2.5-flash", hub.Gemini),
    };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Create_returns_the_text_and_the_providers_usage(string provider)
    {
        var (model, fake) = Target(provider);
        fake.Enqueue(new FakeReply { Text = "Paris is the capital.", InputTokens = 21, OutputTokens = 5 });
        var before = fake.Requests.Count;

        ResponseResult response = await Client().CreateResponseAsync(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("Capital of France?")])
        {
            Instructions = "Be brief.",
            MaxOutputTokenCount = 50,
        });

        Assert.Equal("Paris is the capital.", response.GetOutputText());
        Assert.Equal(ResponseStatus.Completed, response.Status);
        Assert.Equal(21, response.Usage.InputTokenCount);
        Assert.Equal(5, response.Usage.OutputTokenCount);
        var sent = fake.Requests.Skip(before).Single().RequiredBody;
        switch (provider)
        {
            case "openai":
                // Passed through: the Responses wire, the model without its provider prefix, the caller's fields.
                Assert.Equal("gpt-4o-mini", (string?)sent["model"]);
                Assert.Equal("Be brief.", (string?)sent["instructions"]);
                Assert.Equal(50, (int?)sent["max_output_tokens"]);
                break;
            case "anthropic":
                Assert.Equal("Be brief.", (string?)sent["system"] ?? (string?)sent["system"]?[0]?["text"]);
                Assert.Equal(50, (int?)sent["max_tokens"]);
                Assert.Equal("Capital of France?", TextOf(sent["messages"]![0]!["content"]));
                break;
            default:
                Assert.Equal("Be brief.", (string?)sent["systemInstruction"]!["parts"]![0]!["text"]);
                Assert.Equal(50, (int?)sent["generationConfig"]!["maxOutputTokens"]);
                break;
        }
        // Kept (store defaults to true): the hub serves it back to its owner.
        ResponseResult again = await Client().GetResponseAsync(response.Id);
        Assert.Equal("Paris is the capital.", again.GetOutputText());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Stream_delivers_every_delta_then_completed_with_usage(string provider)
    {
        var (model, fake) = Target(provider);
        fake.Enqueue(new FakeReply { Text = "one two three four", InputTokens = 9, OutputTokens = 4 });
        var text = new System.Text.StringBuilder();
        ResponseResult? completed = null;
        var kinds = new List<string>();
        var options = new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("count")]) { StreamingEnabled = true };
        await foreach (var update in await Client().CreateResponseStreamingAsync(options))
        {
            kinds.Add(update.GetType().Name);
            if (update is StreamingResponseOutputTextDeltaUpdate delta)
            {
                text.Append(delta.Delta);
            }
            if (update is StreamingResponseCompletedUpdate done)
            {
                completed = done.Response;
            }
        }
        Assert.Equal("one two three four", text.ToString());
        Assert.NotNull(completed);
        Assert.Equal("one two three four", completed!.GetOutputText());
        Assert.Equal(9, completed.Usage.InputTokenCount);
        Assert.Equal(4, completed.Usage.OutputTokenCount);
        Assert.Equal(nameof(StreamingResponseCreatedUpdate), kinds[0]);
        Assert.Equal(nameof(StreamingResponseCompletedUpdate), kinds[^1]);
        Assert.Contains(nameof(StreamingResponseOutputItemDoneUpdate), kinds);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_function_call_round_trips(string provider)
    {
        var (model, fake) = Target(provider);
        fake.Enqueue(new FakeReply { Text = "", ToolCalls = [new FakeToolCall("get_weather", """{"city":"Oslo"}""", "call_oslo")] });
        var tool = ResponseTool.CreateFunctionTool("get_weather",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"""), strictModeEnabled: false, "Weather for a city");
        List<ResponseItem> input = [ResponseItem.CreateUserMessageItem("Weather in Oslo?")];
        var options = new CreateResponseOptions(model, input) { Tools = { tool }, StoredOutputEnabled = false };

        ResponseResult first = await Client().CreateResponseAsync(options);
        var call = Assert.IsType<FunctionCallResponseItem>(Assert.Single(first.OutputItems));
        Assert.Equal("get_weather", call.FunctionName);
        Assert.Equal("Oslo", (string?)JsonNode.Parse(call.FunctionArguments.ToString())!["city"]);
        var callId = call.CallId;
        Assert.False(string.IsNullOrEmpty(callId));

        fake.Enqueue(new FakeReply { Text = "It is -3°C in Oslo." });
        var next = new CreateResponseOptions(model, [.. input, call, ResponseItem.CreateFunctionCallOutputItem(callId, """{"tempC":-3}""")])
        {
            Tools = { tool },
            StoredOutputEnabled = false,
        };
        ResponseResult second = await Client().CreateResponseAsync(next);
        Assert.Equal("It is -3°C in Oslo.", second.GetOutputText());

        var sent = fake.LastRequest.RequiredBody;
        switch (provider)
        {
            case "openai":
                var output = sent["input"]!.AsArray().Single(i => (string?)i!["type"] == "function_call_output")!;
                Assert.Equal(callId, (string?)output["call_id"]);
                Assert.Equal("get_weather", (string?)sent["tools"]![0]!["name"]);
                break;
            case "anthropic":
                var result = sent["messages"]!.AsArray().SelectMany(m => m!["content"] as JsonArray ?? []).Single(b => (string?)b!["type"] == "tool_result")!;
                Assert.Equal(callId, (string?)result["tool_use_id"]);
                Assert.Equal("get_weather", (string?)sent["tools"]![0]!["name"]);
                break;
            default:
                var response = sent["contents"]!.AsArray().SelectMany(c => c!["parts"]!.AsArray()).Single(p => p!["functionResponse"] is not null)!;
                Assert.Equal("get_weather", (string?)response["functionResponse"]!["name"]);
                break;
        }
    }

    [Fact]
    public async Task Previous_response_id_rebuilds_the_conversation_for_a_non_openai_provider_over_three_turns()
    {
        var client = Client();
        var turns = new[] { ("Hi, I am Ada.", "Hello Ada."), ("What is 2+2?", "4."), ("What is my name?", "Ada.") };
        string? previous = null;
        foreach (var (question, answer) in turns)
        {
            hub.Anthropic.Enqueue(new FakeReply { Text = answer });
            ResponseResult response = await client.CreateResponseAsync(new CreateResponseOptions("anthropic/claude-sonnet-4", [ResponseItem.CreateUserMessageItem(question)])
            {
                PreviousResponseId = previous,
                Instructions = "Be kind.",
            });
            Assert.Equal(answer, response.GetOutputText());
            Assert.Equal(previous, response.PreviousResponseId);
            previous = response.Id;
        }

        // The third request carried the whole conversation, oldest first, and the instructions once.
        var sent = hub.Anthropic.LastRequest.RequiredBody;
        var messages = sent["messages"]!.AsArray().Select(m => ((string?)m!["role"], TextOf(m["content"]))).ToList();
        Assert.Equal(
        [
            ("user", "Hi, I am Ada."), ("assistant", "Hello Ada."),
            ("user", "What is 2+2?"), ("assistant", "4."),
            ("user", "What is my name?"),
        ], messages);
        Assert.Equal("Be kind.", (string?)sent["system"] ?? (string?)sent["system"]?[0]?["text"]);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Json_schema_output_reaches_the_provider(string provider)
    {
        var (model, fake) = Target(provider);
        fake.Enqueue(new FakeReply { Text = """{"answer":42}""" });
        var schema = """{"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"],"additionalProperties":false}""";
        ResponseResult response = await Client().CreateResponseAsync(new CreateResponseOptions(model, [ResponseItem.CreateUserMessageItem("answer?")])
        {
            TextOptions = new ResponseTextOptions { TextFormat = ResponseTextFormat.CreateJsonSchemaFormat("answer", BinaryData.FromString(schema), null, jsonSchemaIsStrict: true) },
        });
        Assert.Equal(42, (int?)JsonNode.Parse(response.GetOutputText())!["answer"]);
        var sent = fake.LastRequest.RequiredBody;
        switch (provider)
        {
            case "openai":
                Assert.Equal("json_schema", (string?)sent["text"]!["format"]!["type"]);
                Assert.Equal("answer", (string?)sent["text"]!["format"]!["name"]);
                break;
            case "anthropic":
                // Anthropic has no structured-output switch: the schema is asked for in the system prompt.
                Assert.Contains("\"answer\"", TextOf(sent["system"]));
                break;
            default:
                Assert.Equal("application/json", (string?)sent["generationConfig"]!["responseMimeType"]);
                Assert.Equal("integer", (string?)sent["generationConfig"]!["responseSchema"]!["properties"]!["answer"]!["type"]);
                break;
        }
    }

    [Fact]
    public async Task Reasoning_items_with_encrypted_content_pass_through_to_openai()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "Thought about it.", ReasoningTokens = 12, OutputTokens = 20 });
        List<ResponseItem> input = [ResponseItem.CreateUserMessageItem("Think, then answer.")];
        var options = new CreateResponseOptions("openai/gpt-4o-mini", input)
        {
            StoredOutputEnabled = false,
            IncludedProperties = { IncludedResponseProperty.ReasoningEncryptedContent },
            ReasoningOptions = new ResponseReasoningOptions { ReasoningEffortLevel = ResponseReasoningEffortLevel.High },
        };
        ResponseResult first = await Client().CreateResponseAsync(options);
        var reasoning = Assert.IsType<ReasoningResponseItem>(first.OutputItems[0]);
        Assert.Equal(FakeOpenAI.EncryptedReasoning, reasoning.EncryptedContent);
        Assert.Equal(12, first.Usage.OutputTokenDetails.ReasoningTokenCount);
        Assert.Equal("high", (string?)hub.Primary.LastRequest.RequiredBody["reasoning"]!["effort"]);

        hub.Primary.Enqueue(new FakeReply { Text = "Next." });
        var next = new CreateResponseOptions("openai/gpt-4o-mini", [.. input, .. first.OutputItems, ResponseItem.CreateUserMessageItem("Go on.")])
        {
            StoredOutputEnabled = false,
            IncludedProperties = { IncludedResponseProperty.ReasoningEncryptedContent },
        };
        await Client().CreateResponseAsync(next);

        var sent = hub.Primary.LastRequest.RequiredBody;
        var replayed = sent["input"]!.AsArray().Single(i => (string?)i!["type"] == "reasoning")!;
        Assert.Equal(FakeOpenAI.EncryptedReasoning, (string?)replayed["encrypted_content"]);
        Assert.Equal("reasoning.encrypted_content", (string?)sent["include"]![0]);
        Assert.False((bool?)sent["store"]);
    }

    [Fact]
    public async Task Stored_responses_are_listed_deleted_and_private_to_their_owner()
    {
        hub.Gemini.Enqueue(new FakeReply { Text = "kept" });
        ResponseResult response = await Client().CreateResponseAsync(new CreateResponseOptions("google/gemini-2.5-flash", [ResponseItem.CreateUserMessageItem("keep this")]));

        var items = new List<ResponseItem>();
        await foreach (var item in Client().GetResponseInputItemsAsync(response.Id))
        {
            items.Add(item);
        }
        var message = Assert.IsAssignableFrom<MessageResponseItem>(Assert.Single(items));
        Assert.Equal("keep this", message.Content[0].Text);

        // Another member: the same id does not exist for them, in any route, nor can they chain on it.
        var (_, otherKey) = await hub.Owner.CreateMemberAsync();
        using var other = hub.Api.CreateClient(otherKey);
        foreach (var path in new[] { $"/api/v2/responses/{response.Id}", $"/api/v2/responses/{response.Id}/input_items" })
        {
            using var get = await other.GetAsync(path);
            await AssertOpenAiErrorAsync(get, HttpStatusCode.NotFound);
        }
        using (var delete = await other.DeleteAsync($"/api/v2/responses/{response.Id}"))
        {
            await AssertOpenAiErrorAsync(delete, HttpStatusCode.NotFound);
        }
        using (var chained = await other.PostAsync("/api/v2/responses", BadInputTests.Json(
            $$"""{"model":"google/gemini-2.5-flash","input":"and?","previous_response_id":"{{response.Id}}"}""")))
        {
            Assert.Equal("previous_response_id", (string?)(await AssertOpenAiErrorAsync(chained, HttpStatusCode.BadRequest))["param"]);
        }

        ResponseDeletionResult deleted = await Client().DeleteResponseAsync(response.Id);
        Assert.True(deleted.Deleted);
        Assert.Equal(response.Id, deleted.ResponseId);
        using var gone = await hub.Owner.GetAsync($"/api/v2/responses/{response.Id}");
        await AssertOpenAiErrorAsync(gone, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Input_tokens_are_estimated_without_a_call()
    {
        var calls = hub.Primary.Requests.Count;
        using var response = await hub.Owner.PostAsync("/api/v2/responses/input_tokens",
            BadInputTests.Json("""{"model":"openai/gpt-4o-mini","instructions":"abcdef","input":"ghijkl"}"""));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("response.input_tokens", (string?)body["object"]);
        // An OpenAI model: the o200k_base count of the two messages' text, plus a few tokens of chat framing each.
        var text = O200k.CountTokens("abcdef") + O200k.CountTokens("ghijkl");
        Assert.InRange((int)body["input_tokens"]!, text, text + 12);
        Assert.Equal(calls, hub.Primary.Requests.Count);
    }

    [Theory]
    [InlineData("""{"model":"openai/gpt-4o-mini"}""", "input")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":5}""", "input")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":[{"type":"message","role":"robot","content":"hi"}]}""", "input[0].role")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":[{"type":"function_call","name":"f","arguments":"{}"}]}""", "input[0].call_id")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":[{"type":"teleport"}]}""", "input[0].type")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":[{"role":"user","content":[{"type":"input_text","text":5}]}]}""", "input[0].content[0].text")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","tools":[{"type":"function"}]}""", "tools[0].name")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","tools":[{"type":"warp_drive"}]}""", "tools[0].type")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","tool_choice":{"type":"function"}}""", "tool_choice.name")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","text":{"format":{"type":"json_schema","name":"x"}}}""", "text.format.schema")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","max_output_tokens":0}""", "max_output_tokens")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","store":"yes"}""", "store")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","include":[5]}""", "include[0]")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","reasoning":{"effort":5}}""", "reasoning.effort")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","previous_response_id":"resp_nobody_has_this"}""", "previous_response_id")]
    [InlineData("""{"model":"openai/gpt-4o-mini","input":"hi","background":true}""", "background")]
    public async Task Bad_bodies_are_a_400_in_the_openai_shape_naming_the_field(string body, string param)
    {
        var calls = hub.Primary.Requests.Count;
        using var response = await hub.Owner.PostAsync("/api/v2/responses", BadInputTests.Json(body));
        var error = await AssertOpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(param, (string?)error["param"]);
        Assert.Equal(calls, hub.Primary.Requests.Count);
    }

    [Theory]
    [InlineData("GET", "/api/v2/no-such-route")]
    [InlineData("POST", "/api/v2/responses/resp_1/cancel")]
    [InlineData("GET", "/api/v2/chat/completions/extra/segments")]
    public async Task Unknown_routes_under_v2_are_a_json_404_in_the_openai_shape(string method, string path)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        using var response = await hub.Owner.SendAsync(request);
        var error = await AssertOpenAiErrorAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(path, (string?)error["message"]);
    }

    /// <summary>The text of an Anthropic message's content: a string, or its text blocks joined.</summary>
    internal static string TextOf(JsonNode? content) => content switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray blocks => string.Concat(blocks.Where(b => (string?)b!["type"] == "text").Select(b => (string?)b!["text"])),
        _ => "",
    };

    internal static async Task<JsonNode> AssertOpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!;
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]), text);
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.True(error.AsObject().ContainsKey("param") && error.AsObject().ContainsKey("code"), text);
        return error;
    }
}
