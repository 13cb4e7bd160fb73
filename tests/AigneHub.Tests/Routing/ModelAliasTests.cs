using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Gateway;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Routing;

/// <summary>
/// Model aliases through HTTP: the admin API (<c>/api/admin/aliases</c>, its checks and the built-in defaults), exact
/// names and prefix patterns on every ingress, the most specific pattern winning, the catalogue before patterns,
/// failover along an alias's targets in order, a change applying at once, and aliases in the model lists.
/// Every alias here is this class's own (its fixture is its own hub).
/// </summary>
public sealed class ModelAliasTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<Guid> CreateAliasAsync(string alias, params string[] targets)
    {
        using var response = await hub.Owner.PostAsJsonAsync("/api/admin/aliases", new { alias, targets });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonNode.Parse(body)!["id"]!.GetValue<Guid>();
    }

    private async Task<HttpResponseMessage> ChatAsync(string model) =>
        await hub.Owner.PostAsync("/api/v2/chat/completions", Json($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}"""));

    private async Task<HttpResponseMessage> MessagesAsync(string model) =>
        await hub.Owner.PostAsync("/api/v2/anthropic/v1/messages", Json($$"""{"model":"{{model}}","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}"""));

    [Fact]
    public async Task The_built_in_defaults_are_listed_and_send_each_family_to_its_maker()
    {
        var list = JsonNode.Parse(await hub.Owner.GetStringAsync("/api/admin/aliases"))!.AsArray();
        var defaults = list.Where(a => (bool)a!["pattern"]!).ToDictionary(a => (string)a!["alias"]!, a => a!["targets"]!.AsArray().Select(t => (string)t!).Single());
        Assert.Equal("anthropic/*", defaults["claude-*"]);
        Assert.Equal("openai/*", defaults["gpt-*"]);
        Assert.Equal("openai/*", defaults["o[0-9]*"]);
        Assert.Equal("google/*", defaults["gemini-*"]);

        // Names in no catalogue go to the family's maker, under the same name, from either ingress.
        var (anthropic, openai, gemini) = (hub.Anthropic.Requests.Count, hub.Primary.Requests.Count, hub.Gemini.Requests.Count);
        using (var r = await MessagesAsync("claude-opus-4-1-20250805")) { Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync()); }
        using (var r = await ChatAsync("o3-mini")) { Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync()); }
        using (var r = await MessagesAsync("gemini-2.0-pro")) { Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync()); }
        Assert.Equal("claude-opus-4-1-20250805", (string?)hub.Anthropic.Requests.Skip(anthropic).Single().RequiredBody["model"]);
        Assert.Equal("o3-mini", (string?)hub.Primary.Requests.Skip(openai).Single().RequiredBody["model"]);
        Assert.Contains("models/gemini-2.0-pro:", hub.Gemini.Requests.Skip(gemini).Single().Path);

        // "o" followed by a non-digit is no OpenAI reasoning model: nothing matches.
        using var none = await ChatAsync("ollama-like");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task An_exact_alias_goes_to_its_target_and_comes_before_the_catalogue()
    {
        await CreateAliasAsync("sonnet", "anthropic/claude-sonnet-4");
        // The catalogue serves shared-model from openai first; an exact alias is the admin's word for that name.
        await CreateAliasAsync("shared-model", "deepseek/shared-model");
        var (anthropic, secondary) = (hub.Anthropic.Requests.Count, hub.Secondary.Requests.Count);

        using (var r = await ChatAsync("sonnet")) { Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync()); }
        using (var r = await MessagesAsync("shared-model")) { Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync()); }

        Assert.Equal("claude-sonnet-4", (string?)hub.Anthropic.Requests.Skip(anthropic).Single().RequiredBody["model"]);
        Assert.Equal("shared-model", (string?)hub.Secondary.Requests.Skip(secondary).Single().RequiredBody["model"]);
    }

    [Fact]
    public async Task The_most_specific_pattern_wins_and_the_catalogue_comes_before_any_pattern()
    {
        await CreateAliasAsync("gpt-5*", "deepseek/*");
        await CreateAliasAsync("deepseek-c*", "openai/gpt-4o-mini");
        var (primary, secondary) = (hub.Primary.Requests.Count, hub.Secondary.Requests.Count);

        using (var r = await ChatAsync("gpt-5-codex")) { Assert.True(r.IsSuccessStatusCode); }   // gpt-5* beats gpt-*
        using (var r = await ChatAsync("gpt-4.1")) { Assert.True(r.IsSuccessStatusCode); }       // only gpt-* matches
        using (var r = await ChatAsync("deepseek-chat")) { Assert.True(r.IsSuccessStatusCode); } // in the catalogue: the pattern is not consulted

        Assert.Equal(["gpt-5-codex", "deepseek-chat"], hub.Secondary.Requests.Skip(secondary).Select(q => (string?)q.RequiredBody["model"]));
        Assert.Equal(["gpt-4.1"], hub.Primary.Requests.Skip(primary).Select(q => (string?)q.RequiredBody["model"]));
    }

    [Fact]
    public async Task An_alias_fails_over_along_its_targets_in_order()
    {
        // ollama is not configured here (skipped); poe fails with a 503 before any byte; openai serves.
        await CreateAliasAsync("chain", "ollama/llama3", "poe/chain-model", "openai/gpt-4o-mini");
        hub.Faults.Enqueue(new FakeReply { FailStatus = 503 });
        var (faults, primary) = (hub.Faults.Requests.Count, hub.Primary.Requests.Count);

        using var response = await MessagesAsync("chain");

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal("chain-model", (string?)hub.Faults.Requests.Skip(faults).Single().RequiredBody["model"]);
        Assert.Equal("gpt-4o-mini", (string?)hub.Primary.Requests.Skip(primary).Single().RequiredBody["model"]);
    }

    [Fact]
    public async Task A_change_applies_at_once_and_a_deleted_alias_no_longer_resolves()
    {
        var id = await CreateAliasAsync("moving", "openai/gpt-4o-mini");
        using (var r = await ChatAsync("moving")) { Assert.True(r.IsSuccessStatusCode); }

        using (var put = await hub.Owner.PutAsJsonAsync($"/api/admin/aliases/{id}", new { targets = new[] { "deepseek/deepseek-chat" } }))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }
        var secondary = hub.Secondary.Requests.Count;
        using (var r = await ChatAsync("moving")) { Assert.True(r.IsSuccessStatusCode); }
        Assert.Equal("deepseek-chat", (string?)hub.Secondary.Requests.Skip(secondary).Single().RequiredBody["model"]);

        using (var delete = await hub.Owner.DeleteAsync($"/api/admin/aliases/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }
        using var gone = await ChatAsync("moving");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Theory]
    [InlineData("""{"alias":"cl*ude","targets":["anthropic/*"]}""", "alias")]
    [InlineData("""{"alias":"o[9-0]*","targets":["openai/*"]}""", "alias")]
    [InlineData("""{"alias":"has space","targets":["openai/*"]}""", "alias")]
    [InlineData("""{"alias":"openai/gpt-4o","targets":["deepseek/deepseek-chat"]}""", "alias")]
    [InlineData("""{"alias":"fine","targets":[]}""", "targets")]
    [InlineData("""{"alias":"fine","targets":["nowhere/model"]}""", "targets[0]")]
    [InlineData("""{"alias":"fine","targets":["openai/gpt-4o","openai"]}""", "targets[1]")]
    [InlineData("""{"alias":"fine","targets":"openai/gpt-4o"}""", "targets")]
    [InlineData("""{"targets":["openai/gpt-4o"]}""", "alias")]
    public async Task A_bad_alias_is_a_400_naming_the_field(string body, string param)
    {
        using var response = await hub.Owner.PostAsync("/api/admin/aliases", Json(body));
        await AdminClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, param);
    }

    [Fact]
    public async Task A_second_alias_of_the_same_name_is_a_409_and_members_may_not_edit_aliases()
    {
        await CreateAliasAsync("twice", "openai/gpt-4o-mini");
        using var again = await hub.Owner.PostAsJsonAsync("/api/admin/aliases", new { alias = "twice", targets = new[] { "openai/gpt-4o-mini" } });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var (_, key) = await hub.Owner.CreateMemberAsync();
        using var member = hub.Api.CreateClient(key);
        using var forbidden = await member.PostAsJsonAsync("/api/admin/aliases", new { alias = "mine", targets = new[] { "openai/gpt-4o-mini" } });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Fact]
    public async Task The_model_lists_show_exact_aliases_and_the_demo_model()
    {
        await CreateAliasAsync("listed-alias", "openai/gpt-4o-mini");

        var openAi = JsonNode.Parse(await hub.Owner.GetStringAsync("/api/v2/models"))!["data"]!.AsArray();
        Assert.Contains(openAi, m => (string?)m!["id"] == "listed-alias" && (string?)m["owned_by"] == "openai");
        Assert.Contains(openAi, m => (string?)m!["id"] == "openai/gpt-4o-mini");

        var anthropic = JsonNode.Parse(await hub.Owner.GetStringAsync("/api/v2/anthropic/v1/models"))!["data"]!.AsArray();
        Assert.All(anthropic, m => Assert.Equal("model", (string?)m!["type"]));
        Assert.Contains(anthropic, m => (string?)m!["id"] == "listed-alias");
        Assert.Contains(anthropic, m => (string?)m!["id"] == "claude-sonnet-4");

        var directory = JsonNode.Parse(await hub.Owner.GetStringAsync("/api/ai/models?type=chat"))!.AsArray();
        Assert.Contains(directory, m => (string?)m!["key"] == "listed-alias" && (string?)m["model"] == "gpt-4o-mini" && (string?)m["provider"] == "openai");

        // The fixture runs with the demo provider on: every list names it the way a caller can send it.
        Assert.Contains(openAi, m => (string?)m!["id"] == "demo/echo" && (string?)m["owned_by"] == "demo");
        Assert.Contains(anthropic, m => (string?)m!["id"] == "demo/echo");
        Assert.Contains(directory, m => (string?)m!["key"] == "demo/echo" && (string?)m["provider"] == "demo");
    }
}
