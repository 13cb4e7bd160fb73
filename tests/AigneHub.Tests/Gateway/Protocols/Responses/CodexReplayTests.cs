using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using Npgsql;

namespace AigneHub.Tests.Gateway.Protocols.Responses;

/// <summary>
/// A Codex CLI turn replayed through the hub to each fake. The body has the shape Codex sends (from its public
/// source): <c>instructions</c>; developer and user messages; a replayed reasoning item with
/// <c>encrypted_content</c>, the previous <c>shell</c> function call and its output; function tools plus a hosted
/// tool; <c>tool_choice</c>, <c>parallel_tool_calls</c>, <c>reasoning</c>, <c>store:false</c>, <c>stream:true</c>,
/// <c>include:["reasoning.encrypted_content"]</c>, <c>prompt_cache_key</c>, <c>text.verbosity</c>; and its headers.
/// </summary>
public sealed class CodexReplayTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private const string Instructions = "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI on a user's computer.";
    private const string ShellOutput = "README.md\nsrc\n";

    private static string CodexBody(string model) => $$$$"""
        {
          "model": "{{{{model}}}}",
          "instructions": "{{{{Instructions}}}}",
          "input": [
            {"type":"message","role":"developer","content":[{"type":"input_text","text":"<permissions instructions>Filesystem sandboxing: workspace-write.</permissions instructions>"}]},
            {"type":"message","role":"user","content":[{"type":"input_text","text":"<environment_context>\n  <cwd>/home/dev/project</cwd>\n  <shell>bash</shell>\n</environment_context>"}]},
            {"type":"message","role":"user","content":[{"type":"input_text","text":"List the files in this repository."}]},
            {"type":"reasoning","id":"rs_0001","summary":[{"type":"summary_text","text":"**Listing files**"}],"content":null,"encrypted_content":"gAAAAB-codex-replayed-reasoning"},
            {"type":"function_call","id":"fc_0001","name":"shell","arguments":"{\"command\":[\"bash\",\"-lc\",\"ls\"],\"workdir\":\"/home/dev/project\"}","call_id":"call_0001"},
            {"type":"function_call_output","call_id":"call_0001","output":"README.md\nsrc\n"}
          ],
          "tools": [
            {"type":"function","name":"shell","description":"Runs a shell command and returns its output.","strict":false,
             "parameters":{"type":"object","properties":{"command":{"type":"array","items":{"type":"string"}},"workdir":{"type":"string"},"timeout_ms":{"type":"number"}},"required":["command"],"additionalProperties":false}},
            {"type":"function","name":"update_plan","description":"Updates the task plan.","strict":false,
             "parameters":{"type":"object","properties":{"plan":{"type":"array","items":{"type":"object","properties":{"step":{"type":"string"},"status":{"type":"string"}},"required":["step","status"]}}},"required":["plan"],"additionalProperties":false}},
            {"type":"web_search"}
          ],
          "tool_choice": "auto",
          "parallel_tool_calls": false,
          "reasoning": {"effort":"medium","summary":"auto"},
          "store": false,
          "stream": true,
          "include": ["reasoning.encrypted_content"],
          "prompt_cache_key": "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
          "text": {"verbosity":"medium"}
        }
        """;

    public static TheoryData<string> Providers => new() { "openai", "anthropic", "google" };

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task A_codex_turn_streams_the_full_event_sequence_from_every_provider(string provider)
    {
        var (model, fake) = provider switch
        {
            "openai" => ("openai/gpt-4o-mini", (FakeProvider)hub.Primary),
            "anthropic" => ("anthropic/claude-sonnet-4", hub.Anthropic),
            _ => ("google/gemini-2.5-flash", hub.Gemini),
        };
        fake.Enqueue(new FakeReply { Text = "The repository holds README.md and src.", InputTokens = 120, OutputTokens = 9 });
        var body = CodexBody(model);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/responses") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("originator", "codex_cli_rs");
        request.Headers.Add("version", "0.46.0");
        request.Headers.Add("session_id", "0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
        request.Headers.Accept.ParseAdd("text/event-stream");

        using var response = await hub.Owner.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, stream);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType?.ToString());
        var events = ParseEvents(stream);

        // The sequence Codex reads: created first, the message as an output item, completed last with the usage.
        var types = events.Select(e => (string?)e.Data["type"]).ToList();
        Assert.Equal("response.created", types[0]);
        Assert.Equal("response.in_progress", types[1]);
        Assert.Equal("response.completed", types[^1]);
        Assert.All(events, e => Assert.Equal(e.Name, (string?)e.Data["type"]));
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data["sequence_number"]!));
        Assert.Equal("The repository holds README.md and src.", string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => (string?)e.Data["delta"])));
        var done = events.Single(e => e.Name == "response.output_item.done" && (string?)e.Data["item"]!["type"] == "message").Data["item"]!;
        Assert.Equal("The repository holds README.md and src.", (string?)done["content"]![0]!["text"]);
        var usage = events[^1].Data["response"]!["usage"]!;
        Assert.Equal(120, (int?)usage["input_tokens"]);
        Assert.Equal(9, (int?)usage["output_tokens"]);

        var sent = fake.LastRequest.RequiredBody;
        var parameters = await CallParametersAsync(Guid.Parse(response.Headers.GetValues("x-aignehub-call-id").Single()));
        switch (provider)
        {
            case "openai":
                // Passed through as Codex wrote it: only the model is the provider's own name.
                var expected = JsonNode.Parse(body)!;
                expected["model"] = "gpt-4o-mini";
                Assert.True(JsonNode.DeepEquals(expected, sent), sent.ToJsonString());
                break;
            case "anthropic":
                var system = sent["system"]!.ToJsonString();
                Assert.Contains("You are Codex", system);
                Assert.Contains("workspace-write", system);
                Assert.Equal(["shell", "update_plan"], sent["tools"]!.AsArray().Select(t => (string?)t!["name"]));
                var blocks = sent["messages"]!.AsArray().SelectMany(m => m!["content"] as JsonArray ?? []).ToList();
                var toolUse = blocks.Single(b => (string?)b!["type"] == "tool_use")!;
                Assert.Equal(("call_0001", "shell"), ((string?)toolUse["id"], (string?)toolUse["name"]));
                Assert.Equal(["bash", "-lc", "ls"], toolUse["input"]!["command"]!.AsArray().Select(c => (string?)c));
                var toolResult = blocks.Single(b => (string?)b!["type"] == "tool_result")!;
                Assert.Equal("call_0001", (string?)toolResult["tool_use_id"]);
                Assert.Contains(ShellOutput.TrimEnd(), toolResult["content"]!.ToJsonString().Replace("\\n", "\n", StringComparison.Ordinal));
                Assert.DoesNotContain("gAAAAB", sent.ToJsonString());
                break;
            default:
                var parts = sent["contents"]!.AsArray().SelectMany(c => c!["parts"]!.AsArray()).ToList();
                Assert.Equal("shell", (string?)parts.Single(p => p!["functionCall"] is not null)!["functionCall"]!["name"]);
                Assert.Equal("shell", (string?)parts.Single(p => p!["functionResponse"] is not null)!["functionResponse"]!["name"]);
                Assert.Contains("You are Codex", sent["systemInstruction"]!.ToJsonString());
                Assert.DoesNotContain("gAAAAB", sent.ToJsonString());
                break;
        }
        // What a translated target could not carry is named on the call record; OpenAI got it all, but the record
        // names it the same way (it is read before the provider is chosen).
        Assert.Equal(["parallel_tool_calls", "prompt_cache_key", "reasoning", "reasoning.summary", "text.verbosity", "tools:web_search"],
            parameters["untranslated"]!.AsArray().Select(u => (string?)u));
        Assert.False((bool?)parameters["store"]);
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("anthropic")]
    public async Task A_provider_failure_mid_stream_ends_it_with_error_and_response_failed(string provider)
    {
        var (model, fake) = provider == "openai" ? ("openai/gpt-4o-mini", (FakeProvider)hub.Primary) : ("anthropic/claude-sonnet-4", hub.Anthropic);
        fake.Enqueue(new FakeReply { Text = "one two three four five", ErrorAfterEvents = 4, FailMessage = "overloaded" });
        using var response = await hub.Owner.PostAsync("/api/v2/responses",
            new StringContent($$"""{"model":"{{model}}","stream":true,"input":"count"}""", Encoding.UTF8, "application/json"));
        var events = ParseEvents(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("response.created", events[0].Name);
        Assert.Equal(["error", "response.failed"], events[^2..].Select(e => e.Name));
        Assert.DoesNotContain(events, e => e.Name == "response.completed");
        var failed = events[^1].Data["response"]!;
        Assert.Equal("failed", (string?)failed["status"]);
        Assert.Contains("failed mid-answer", (string?)failed["error"]!["message"]);
        Assert.Equal(Enumerable.Range(0, events.Count), events.Select(e => (int)e.Data["sequence_number"]!));
        // The failure names the response the stream opened (OpenAI's own id when passed through).
        Assert.Equal((string?)events[0].Data["response"]!["id"], (string?)failed["id"]);
    }

    [Fact]
    public async Task Before_the_first_byte_an_openai_failure_fails_over_to_a_provider_of_another_wire()
    {
        // shared-model: openai first (Responses passed through), then deepseek (translated to chat completions).
        hub.Primary.Enqueue(new FakeReply { FailStatus = 503 });
        hub.Secondary.Enqueue(new FakeReply { Text = "from deepseek", InputTokens = 4, OutputTokens = 2 });
        using var response = await hub.Owner.PostAsync("/api/v2/responses",
            new StringContent("""{"model":"shared-model","stream":true,"input":"hi"}""", Encoding.UTF8, "application/json"));
        var events = ParseEvents(await response.Content.ReadAsStringAsync());

        Assert.Equal("/v1/responses", hub.Primary.LastRequest.Path);
        Assert.Equal("/v1/chat/completions", hub.Secondary.LastRequest.Path);
        Assert.Equal("response.completed", events[^1].Name);
        Assert.Equal("from deepseek", string.Concat(events.Where(e => e.Name == "response.output_text.delta").Select(e => (string?)e.Data["delta"])));
        Assert.Equal(2, (int?)events[^1].Data["response"]!["usage"]!["output_tokens"]);
    }

    private async Task<JsonObject> CallParametersAsync(Guid callId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        await using var db = NpgsqlDataSource.Create(hub.Api.DatabaseConnectionString);
        while (true)
        {
            await using var cmd = db.CreateCommand("SELECT parameters::text FROM aignehub.model_calls WHERE id = @id AND status <> 'processing'");
            cmd.Parameters.AddWithValue("id", callId);
            if (await cmd.ExecuteScalarAsync() is string text)
            {
                return JsonNode.Parse(text)!.AsObject();
            }
            Assert.True(DateTime.UtcNow < deadline, "the call was not settled");
            await Task.Delay(50);
        }
    }

    /// <summary>Named server-sent events as a client reads them.</summary>
    internal static List<(string? Name, JsonNode Data)> ParseEvents(string stream)
    {
        var events = new List<(string?, JsonNode)>();
        foreach (var block in stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string? name = null;
            var data = new StringBuilder();
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
            }
            if (data.Length > 0)
            {
                events.Add((name, JsonNode.Parse(data.ToString())!));
            }
        }
        return events;
    }
}
