using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Gateway;

/// <summary>The gateway's wire behaviour, byte by byte where it matters, with a plain HttpClient.</summary>
public sealed class GatewayHttpTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string ChatBody(string model, bool stream = false, string extra = "") =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"stream":{{(stream ? "true" : "false")}}{{extra}}}""";

    [Fact]
    public async Task Pass_through_keeps_unknown_fields_both_ways()
    {
        var before = hub.Primary.Requests.Count;
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions",
            Json(ChatBody("openai/gpt-4o-mini", extra: ""","logit_bias":{"50256":-100},"vendor_extension":{"x":1}""")));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("kept", (string?)body["extra_provider_field"]);
        var sent = hub.Primary.Requests.Skip(before).Single().RequiredBody;
        Assert.Equal(1, (int?)sent["vendor_extension"]!["x"]);
        Assert.Equal(-100, (int?)sent["logit_bias"]!["50256"]);
        Assert.True(response.Headers.Contains("x-aignehub-call-id"));
        Assert.Matches("^[0-9a-f]{32}$", response.Headers.GetValues("x-trace-id").Single());
    }

    [Fact]
    public async Task First_token_reaches_the_caller_before_the_provider_finishes()
    {
        var reply = new FakeReply { Text = "first second third", DelayBeforeLastEvent = TimeSpan.FromSeconds(3) };
        hub.Primary.Enqueue(reply);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions") { Content = Json(ChatBody("openai/gpt-4o-mini", stream: true)) };
        using var response = await hub.Owner.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var firstLine = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
        // The provider is still holding the tail of its stream: the first token was not buffered behind it.
        Assert.False(reply.LastEventSent.Task.IsCompleted);
        Assert.StartsWith("data: ", firstLine);
        Assert.Equal("first", (string?)JsonNode.Parse(firstLine!["data: ".Length..])!["choices"]![0]!["delta"]!["content"]);

        var rest = await reader.ReadToEndAsync();
        Assert.EndsWith("data: [DONE]\n\n", rest);
        Assert.Contains(" third", rest);
    }

    [Fact]
    public async Task Unprefixed_model_fails_over_before_the_first_byte()
    {
        hub.Primary.Enqueue(new FakeReply { FailStatus = 500 });
        hub.Secondary.Enqueue(new FakeReply { Text = "served by the second provider" });
        var (primaryBefore, secondaryBefore) = (hub.Primary.Requests.Count, hub.Secondary.Requests.Count);

        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions", Json(ChatBody("shared-model")));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("served by the second provider", (string?)body["choices"]![0]!["message"]!["content"]);
        Assert.Equal(1, hub.Primary.Requests.Count - primaryBefore);
        Assert.Equal(1, hub.Secondary.Requests.Count - secondaryBefore);
    }

    [Fact]
    public async Task No_failover_once_bytes_reached_the_caller()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "a b c d e", CutAfterEvents = 2 });
        var secondaryBefore = hub.Secondary.Requests.Count;

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat/completions") { Content = Json(ChatBody("shared-model", stream: true)) };
        using var response = await hub.Owner.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"content\":\"a\"", text);
        Assert.Contains("\"error\":{", text);
        Assert.DoesNotContain("[DONE]", text);
        Assert.Equal(secondaryBefore, hub.Secondary.Requests.Count);
    }

    [Theory]
    [InlineData("{not json", 400, null)]
    [InlineData("[1,2]", 400, null)]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", 400, "model")]
    [InlineData("""{"model":42,"messages":[{"role":"user","content":"hi"}]}""", 400, "model")]
    [InlineData("""{"model":"openai/gpt-4o-mini","messages":[]}""", 400, "messages")]
    [InlineData("""{"model":"openai/gpt-4o-mini","messages":[{"role":"wizard","content":"hi"}]}""", 400, "messages[0].role")]
    [InlineData("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", 400, "temperature")]
    [InlineData("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":-5}""", 400, "max_tokens")]
    [InlineData("""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", 400, "stream")]
    [InlineData("""{"model":"nobody/serves-this","messages":[{"role":"user","content":"hi"}]}""", 404, "model")]
    public async Task Bad_input_gets_a_4xx_in_openai_error_shape(string body, int status, string? param)
    {
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions", Json(body));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(status, (int)response.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace((string?)error["message"]));
        Assert.Equal("invalid_request_error", (string?)error["type"]);
        Assert.Equal(param, (string?)error["param"]);
    }

    [Fact]
    public async Task Oversized_body_is_refused_with_413()
    {
        var huge = new string('x', 21 * 1024 * 1024);
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions",
            Json($$"""{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"{{huge}}"}]}"""));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]);
    }

    [Fact]
    public async Task Missing_credentials_are_refused_with_401()
    {
        using var anonymous = hub.Api.CreateClient(bearer: null);
        using var response = await anonymous.PostAsync("/api/v2/chat/completions", Json(ChatBody("openai/gpt-4o-mini")));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("xai", 401, 502, "provider_auth_failed")]
    [InlineData("openrouter", 429, 503, "provider_rate_limited")]
    [InlineData("poe", 500, 502, "provider_unavailable")]
    [InlineData("doubao", 400, 400, "provider_rejected_request")]
    public async Task Provider_errors_map_to_the_callers_terms(string provider, int providerStatus, int callerStatus, string code)
    {
        hub.Faults.Enqueue(new FakeReply { FailStatus = providerStatus });
        // A prefixed model names one provider: no failover hides the error.
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions", Json(ChatBody($"{provider}/fault-model")));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(callerStatus, (int)response.StatusCode);
        Assert.Equal(code, (string?)error["code"]);
        Assert.Contains(provider, (string?)error["message"] ?? "", StringComparison.OrdinalIgnoreCase);
        if (callerStatus == 503)
        {
            Assert.NotNull(response.Headers.RetryAfter);
        }
    }

    [Fact]
    public async Task Native_chat_answers_json_with_text_model_and_usage()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "native hello", InputTokens = 8, OutputTokens = 2 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat")
        {
            Content = Json("""{"input":{"messages":[{"role":"system","content":"brief"},{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini","temperature":0.1}}}"""),
        };
        request.Headers.Add("x-aigne-hub-client-did", "z-test-app");
        using var response = await hub.Owner.SendAsync(request);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("native hello", (string?)body["text"]);
        Assert.Equal("gpt-4o-mini", (string?)body["model"]);
        Assert.Equal(8, (int?)body["usage"]!["inputTokens"]);
        Assert.Equal(2, (int?)body["usage"]!["outputTokens"]);
    }

    [Fact]
    public async Task Native_streaming_uses_aigne_framing_without_done()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "alpha beta", InputTokens = 5, OutputTokens = 2 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat")
        {
            Content = Json("""{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"}},"options":{"streaming":true}}"""),
        };
        using var response = await hub.Owner.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var raw = await response.Content.ReadAsStringAsync();

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var expectedStart = "data: {\"delta\":{\"text\":{\"text\":\"alpha\"}}}\n\ndata: {\"delta\":{\"text\":{\"text\":\" beta\"}}}\n\ndata: {\"delta\":{\"json\":{";
        Assert.StartsWith(expectedStart, raw);
        Assert.EndsWith("}}}\n\n", raw);
        Assert.DoesNotContain("[DONE]", raw);
        var events = raw.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        var last = JsonNode.Parse(events[^1]["data: ".Length..])!["delta"]!["json"]!;
        Assert.Equal(5, (int?)last["usage"]!["inputTokens"]);
        Assert.Equal(2, (int?)last["usage"]!["outputTokens"]);
    }

    [Fact]
    public async Task Native_mid_stream_failure_is_an_error_event()
    {
        hub.Primary.Enqueue(new FakeReply { Text = "a b c d", CutAfterEvents = 2 });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/chat")
        {
            Content = Json("""{"input":{"messages":[{"role":"user","content":"hi"}],"modelOptions":{"model":"openai/gpt-4o-mini"}},"options":{"streaming":true}}"""),
        };
        using var response = await hub.Owner.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var raw = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("data: {\"delta\":{\"text\":{\"text\":\"a\"}}}\n\n", raw);
        Assert.Contains("event: error\ndata: {\"message\":", raw);
    }

    [Fact]
    public async Task Native_errors_before_streaming_use_the_aigne_shape()
    {
        using var response = await hub.Owner.PostAsync("/api/v2/chat", Json("""{"input":{"messages":[]}}"""));
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((string?)error["message"]);
        Assert.NotNull((string?)error["type"]);
    }

    [Fact]
    public async Task Discovery_document_points_the_sdk_at_the_hub()
    {
        using var anonymous = hub.Api.CreateClient(bearer: null);
        var doc = JsonNode.Parse(await anonymous.GetStringAsync("/__blocklet__.js?type=json"))!;
        var mount = doc["componentMountPoints"]!.AsArray().Single(m => (string?)m!["did"] == "z8ia3xzq2tMq8CRHfaXj1BTYJyYnEcHbqP8cJ")!;
        Assert.Equal("/", (string?)mount["mountPoint"]);
    }

    [Fact]
    public async Task Demo_provider_answers_with_no_keys_configured()
    {
        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions", Json(ChatBody("demo/echo")));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("You said: \"hi\"", (string?)body["choices"]![0]!["message"]!["content"]);
    }

    [Fact]
    public async Task Public_model_directory_lists_models_in_the_sdk_shape()
    {
        using var anonymous = hub.Api.CreateClient(bearer: null);
        var models = JsonNode.Parse(await anonymous.GetStringAsync("/api/ai/models?type=chat"))!.AsArray();
        var entry = models.Single(m => (string?)m!["key"] == "openai/gpt-4o-mini")!;
        Assert.Equal("chat", (string?)entry["type"]);
        Assert.Equal("openai", (string?)entry["provider"]);
        // Billing is off in this fixture: no rates, zero credits, as strings.
        Assert.Equal("0", (string?)entry["input_credits_per_token"]);
        Assert.Equal("0", (string?)entry["output_credits_per_token"]);
        Assert.DoesNotContain(models, m => (string?)m!["type"] != "chat");

        using var bad = await anonymous.GetAsync("/api/ai/models?type=music");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}
