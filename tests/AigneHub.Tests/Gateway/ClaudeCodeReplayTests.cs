using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using Npgsql;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// A scripted replay of what Claude Code (2.1.x) sends with <c>ANTHROPIC_BASE_URL=&lt;hub&gt;/api/v2/anthropic</c> and
/// <c>ANTHROPIC_AUTH_TOKEN=&lt;access key&gt;</c>, built from its public documentation and the requests peers' bug
/// reports quote: the <c>anthropic-beta</c> flags, <c>x-stainless-*</c> headers, a first system block
/// <c>x-anthropic-billing-header: cc_version=…; cc_entrypoint=cli; cch=…;</c>, system and tool blocks with
/// <c>cache_control</c>, <c>metadata.user_id</c>, extended thinking, <c>context_management</c>, a streamed answer.
/// Each fake shows what its provider would receive: Anthropic the body as sent (only the model replaced) and the
/// beta flags; OpenAI and Gemini a translation without the billing header, the cache markers or anything else
/// Anthropic-only — which the call record names.
/// </summary>
public sealed class ClaudeCodeReplayTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private const string Betas = "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14,context-management-2025-06-27";
    private const string BillingHeader = "x-anthropic-billing-header: cc_version=2.1.37.0d9; cc_entrypoint=cli; cch=fa690;";

    private static JsonObject ClaudeCodeBody(string model) => JsonNode.Parse($$$"""
        {
          "model": "{{{model}}}",
          "max_tokens": 32000,
          "stream": true,
          "thinking": {"type": "enabled", "budget_tokens": 31999},
          "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
          "metadata": {"user_id": "user_2f1c0b7e9a5d4c3b8e6f1a2d3c4b5a69_account_7d3e2f10-9c8b-4a6e-b5d4-3c2b1a0f9e8d_session_1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"},
          "system": [
            {"type": "text", "text": "{{{BillingHeader}}}"},
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "You are an interactive CLI tool that helps users with software engineering tasks.", "cache_control": {"type": "ephemeral"}}
          ],
          "tools": [
            {"name": "Bash", "description": "Executes a given bash command.", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"], "additionalProperties": false, "$schema": "http://json-schema.org/draft-07/schema#"}},
            {"name": "Read", "description": "Reads a file from the local filesystem.", "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}, "cache_control": {"type": "ephemeral"}}
          ],
          "messages": [
            {"role": "user", "content": [
              {"type": "text", "text": "<system-reminder>As you answer the user's questions, you can use the following context.</system-reminder>"},
              {"type": "text", "text": "Why does the build fail?", "cache_control": {"type": "ephemeral"}}
            ]}
          ]
        }
        """)!.AsObject();

    private async Task<(string Events, Guid CallId)> SendAsync(JsonObject body)
    {
        using var client = hub.Api.CreateClient(bearer: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v2/anthropic/v1/messages")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        // Claude Code's headers with ANTHROPIC_AUTH_TOKEN set.
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiFactory.OwnerKey);
        request.Headers.TryAddWithoutValidation("anthropic-version", "2023-06-01");
        request.Headers.TryAddWithoutValidation("anthropic-beta", Betas);
        request.Headers.TryAddWithoutValidation("anthropic-dangerous-direct-browser-access", "true");
        request.Headers.TryAddWithoutValidation("x-app", "cli");
        request.Headers.TryAddWithoutValidation("User-Agent", "claude-cli/2.1.37 (external, cli)");
        request.Headers.TryAddWithoutValidation("x-stainless-lang", "js");
        request.Headers.TryAddWithoutValidation("x-stainless-package-version", "0.60.0");
        request.Headers.TryAddWithoutValidation("x-stainless-os", "Linux");
        request.Headers.TryAddWithoutValidation("x-stainless-arch", "x64");
        request.Headers.TryAddWithoutValidation("x-stainless-runtime", "node");
        request.Headers.TryAddWithoutValidation("x-stainless-runtime-version", "v22.17.0");
        request.Headers.TryAddWithoutValidation("x-stainless-retry-count", "0");
        request.Headers.TryAddWithoutValidation("x-stainless-timeout", "600");
        using var response = await client.SendAsync(request);
        var events = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, events);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType?.ToString());
        return (events, Guid.Parse(response.Headers.GetValues("x-aignehub-call-id").Single()));
    }

    [Fact]
    public async Task To_anthropic_the_body_goes_as_sent_with_the_beta_flags_and_the_stream_comes_back_as_anthropic_sent_it()
    {
        hub.Anthropic.Enqueue(new FakeReply { Thinking = "Look at the log.", Text = "The test project does not restore.", InputTokens = 40, CacheCreationInputTokens = 3000, CacheReadInputTokens = 12000, OutputTokens = 9 });
        var before = hub.Anthropic.Requests.Count;
        // Claude Code's own model name: the built-in alias claude-* sends it to anthropic as it is.
        var body = ClaudeCodeBody("claude-sonnet-4-5-20250929");

        var (events, callId) = await SendAsync(body);

        var received = hub.Anthropic.Requests.Skip(before).Single();
        Assert.True(JsonNode.DeepEquals(body, received.RequiredBody), $"sent {body.ToJsonString()}\nreceived {received.RawBody}");
        Assert.Equal(BillingHeader, (string?)received.RequiredBody["system"]![0]!["text"]);
        Assert.Equal(Betas, received.Header("anthropic-beta"));
        Assert.Equal("2023-06-01", received.Header("anthropic-version"));
        Assert.Equal("sk-ant-test-0123456789", received.Header("x-api-key"));
        Assert.Null(received.Header("Authorization"));
        Assert.DoesNotContain(received.Headers.Keys, h => h.StartsWith("x-stainless", StringComparison.OrdinalIgnoreCase));

        // The fake's events, named, thinking and its signature included, in order.
        Assert.Equal(
            ["message_start", "ping", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
             "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_delta",
             "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            EventNames(events));
        Assert.Contains("\"signature_delta\"", events);

        var call = await CallAsync(callId);
        Assert.Equal("claude-sonnet-4-5-20250929", call.RequestedModel);
        Assert.Equal(("anthropic", "claude-sonnet-4-5-20250929"), (call.Provider, call.Model));
        // Anthropic's input_tokens exclude the cache: the record's prompt is all three, each once.
        Assert.Equal((40 + 3000 + 12000, 3000, 12000, 9), (call.Prompt, call.CacheWrite, call.CacheRead, call.Completion));
        Assert.Equal(Betas.Split(','), call.Parameters["anthropic_beta"]!.AsArray().Select(b => (string)b!));
    }

    [Theory]
    [InlineData("openai")]
    [InlineData("google")]
    public async Task To_another_provider_the_translation_leaves_out_the_billing_header_and_everything_anthropic_only(string provider)
    {
        FakeProvider fake = provider == "openai" ? hub.Primary : hub.Gemini;
        var model = provider == "openai" ? "openai/gpt-4o-mini" : "google/gemini-2.5-flash";
        fake.Enqueue(new FakeReply { Text = "The test project does not restore.", ToolCalls = [new FakeToolCall("Bash", """{"command":"dotnet build"}""", "call_9")] });
        var before = fake.Requests.Count;

        var (events, callId) = await SendAsync(ClaudeCodeBody(model));

        var received = fake.Requests.Skip(before).Single();
        // As text with nothing escaped (a serializer escapes the apostrophe in "Anthropic's").
        var text = received.RequiredBody.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Assert.DoesNotContain("x-anthropic-billing-header", text);
        Assert.DoesNotContain("cch=", text);
        Assert.DoesNotContain("cache_control", text);
        Assert.DoesNotContain("clear_thinking", text);
        Assert.DoesNotContain("user_2f1c0b7e", text);
        Assert.DoesNotContain("budget_tokens", text);
        Assert.Contains("You are Claude Code, Anthropic's official CLI for Claude.", text);
        Assert.Contains("Why does the build fail?", text);
        if (provider == "openai")
        {
            var sent = received.RequiredBody;
            var system = sent["messages"]!.AsArray().Where(m => (string?)m!["role"] == "system").Select(m => (string?)m!["content"]).ToList();
            Assert.Equal(["You are Claude Code, Anthropic's official CLI for Claude.", "You are an interactive CLI tool that helps users with software engineering tasks."], system);
            Assert.Equal(["Bash", "Read"], sent["tools"]!.AsArray().Select(t => (string?)t!["function"]!["name"]));
            Assert.Equal(32000, (int?)(sent["max_completion_tokens"] ?? sent["max_tokens"]));
        }
        else
        {
            var system = received.RequiredBody["systemInstruction"]!["parts"]!.AsArray().Select(p => (string?)p!["text"]).ToList();
            Assert.DoesNotContain(system, s => s!.Contains("cc_version", StringComparison.Ordinal));
            Assert.Contains("functionDeclarations", text);
        }

        // The caller gets Anthropic's whole event sequence: a text block, a tool_use block, the end.
        var names = EventNames(events);
        Assert.Equal(["message_start", "ping", "content_block_start"], names.Take(3));
        Assert.Equal(["message_delta", "message_stop"], names.TakeLast(2));
        Assert.Equal(2, names.Count(n => n == "content_block_start"));
        Assert.Contains("\"tool_use\"", events);
        Assert.Contains("\"stop_reason\":\"tool_use\"", events);

        var call = await CallAsync(callId);
        Assert.Equal(model, call.RequestedModel);
        var dropped = call.Parameters["untranslated"]!.AsArray().Select(d => (string)d!).ToList();
        Assert.Subset(dropped.ToHashSet(), new HashSet<string> { "anthropic-beta", "cache_control", "context_management", "metadata", "system.billing_header", "thinking" });
    }

    private static List<string> EventNames(string events) =>
        [.. events.Split('\n').Where(l => l.StartsWith("event: ", StringComparison.Ordinal)).Select(l => l["event: ".Length..])];

    private sealed record CallRecord(string RequestedModel, string? Provider, string? Model, int Prompt, int CacheWrite, int CacheRead, int Completion, JsonObject Parameters);

    /// <summary>The call's record once settled (the settlement follows the last byte of the answer).</summary>
    private async Task<CallRecord> CallAsync(Guid id)
    {
        await using var db = new NpgsqlConnection(hub.Api.DatabaseConnectionString);
        await db.OpenAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT requested_model, provider, model, prompt_tokens, cache_creation_tokens, cache_read_tokens, completion_tokens, parameters::text, status FROM aignehub.model_calls WHERE id = @id", db);
            command.Parameters.AddWithValue("id", id);
            await using (var reader = await command.ExecuteReaderAsync())
            {
                if (await reader.ReadAsync() && reader.GetString(8) != "processing")
                {
                    return new CallRecord(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6), JsonNode.Parse(reader.GetString(7))!.AsObject());
                }
            }
            Assert.True(DateTime.UtcNow < deadline, "the call was not settled");
            await Task.Delay(50);
        }
    }
}
