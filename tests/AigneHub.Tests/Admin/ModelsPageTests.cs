using System.Net;
using AigneHub.Admin.Components.Pages;
using Bunit;

namespace AigneHub.Tests.Admin;

public sealed class ModelsPageTests : AdminComponentTestBase
{
    private const string ProviderId = "11111111-1111-1111-1111-111111111111";

    private const string Provider = $$"""
        {"id":"{{ProviderId}}","name":"openai","displayName":null,"baseUrl":null,"effectiveBaseUrl":"https://api.openai.com/v1","protocol":"openai",
         "enabled":true,"credentialCount":1,"activeCredentialCount":1,"createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"}
        """;

    private const string Setup = """
        {"billingEnabled":true,"demoEnabled":false,"models":[
         {"id":"88888888-8888-8888-8888-888888888888","provider":"openai","model":"gpt-4o","type":"chat","displayName":null,"enabled":true,
          "rateId":null,"inputRate":null,"outputRate":null,"servable":false,
          "missing":["no active credential for openai: add one under Providers","no rate while credit billing is on: calls are refused until it has one"]},
         {"id":"99999999-9999-9999-9999-999999999999","provider":"openai","model":"gpt-4o-mini","type":"chat","displayName":null,"enabled":true,
          "rateId":"33333333-3333-3333-3333-333333333333","inputRate":"0.00000015","outputRate":"0.0000006","servable":true,"missing":[]}]}
        """;

    private void Routes() => Api.OnGet("/api/admin/providers", $"[{Provider}]")
        .OnGet($"/api/admin/providers/{ProviderId}/upstream-models", """{"models":["gpt-4o","gpt-4o-mini","o3"]}""")
        .OnGet("/api/admin/models/servable", Setup)
        .OnGet("/api/admin/model-rates", "[]")
        .OnGet("/api/admin/aliases", """[{"id":"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa","alias":"claude-*","pattern":true,"targets":["anthropic/*"],"enabled":true,"createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z"}]""");

    [Fact]
    public void Each_model_says_whether_it_is_servable_and_names_what_is_missing_with_rates_per_million()
    {
        Routes();
        var page = Render<Models>();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=model-servable]").Count));
        var rows = page.FindAll("[data-testid=models-table] tbody tr");
        Assert.Contains("No", rows[0].QuerySelector("[data-testid=model-servable]")!.TextContent);
        var missing = rows[0].QuerySelectorAll("[data-testid=model-missing] li").Select(li => li.TextContent).ToList();
        Assert.Equal(2, missing.Count);
        Assert.StartsWith("no active credential", missing[0]);
        Assert.StartsWith("no rate while credit billing is on", missing[1]);
        Assert.Equal("—", rows[0].QuerySelector("[data-testid=model-rate]")!.TextContent.Trim());
        Assert.Contains("Yes", rows[1].QuerySelector("[data-testid=model-servable]")!.TextContent);
        // 0.00000015 and 0.0000006 credits per token are 0.15 and 0.6 per 1M tokens.
        Assert.Equal("0.15 in · 0.6 out per 1M tokens", rows[1].QuerySelector("[data-testid=model-rate]")!.TextContent.Trim());
        Assert.Contains("anthropic/*", page.Find("[data-testid=alias-row]").TextContent);
    }

    [Fact]
    public void Adding_a_model_with_a_rate_creates_the_catalogue_entry_then_its_rate_per_token()
    {
        Routes();
        Api.On(HttpMethod.Post, "/api/admin/models", HttpStatusCode.Created,
                """{"id":"77777777-7777-7777-7777-777777777777","providerId":"11111111-1111-1111-1111-111111111111","provider":"openai","model":"o3","type":"chat","displayName":null,"metadata":null,"enabled":true,"createdAt":"2026-11-26T00:00:00Z"}""")
            .On(HttpMethod.Post, "/api/admin/model-rates", HttpStatusCode.Created, "{}");
        var page = Render<Models>();
        // The provider's own model list is fetched for the id field's suggestions.
        page.WaitForAssertion(() => Assert.Contains(Api.Requests, r => r.PathAndQuery == $"/api/admin/providers/{ProviderId}/upstream-models"));
        page.WaitForAssertion(() => Assert.Contains("3 models in openai's list", page.Markup));

        // The id field suggests from that list as you type; what is typed is kept when you leave it.
        page.Find("[data-testid=model-id]").Input("o3");
        page.Find("[data-testid=model-id]").Blur();
        page.Find("[data-testid=model-rate-input]").Change("2");
        page.Find("[data-testid=model-rate-output]").Change("8");
        page.WaitForAssertion(() => Assert.False(page.Find("[data-testid=model-add]").HasAttribute("disabled")));
        page.Find("[data-testid=model-add]").Click();

        page.WaitForAssertion(() => Assert.Contains(Api.Requests, r => r.Method == HttpMethod.Post && r.PathAndQuery == "/api/admin/model-rates"));
        var model = Api.Requests.Single(r => r.Method == HttpMethod.Post && r.PathAndQuery == "/api/admin/models").Body!;
        Assert.Contains("\"provider\":\"openai\"", model);
        Assert.Contains("\"model\":\"o3\"", model);
        var rate = Api.Requests.Single(r => r.Method == HttpMethod.Post && r.PathAndQuery == "/api/admin/model-rates").Body!;
        // 2 and 8 per 1M tokens are 0.000002 and 0.000008 credits per token.
        Assert.Contains("\"inputRate\":\"0.000002\"", rate);
        Assert.Contains("\"outputRate\":\"0.000008\"", rate);
    }

    [Fact]
    public void The_test_button_shows_the_probes_outcome_on_the_row()
    {
        Routes();
        Api.On(HttpMethod.Post, "/api/admin/models/99999999-9999-9999-9999-999999999999/test", HttpStatusCode.OK, """{"ok":true,"latencyMs":77}""");
        var page = Render<Models>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=model-test]").Count));

        page.FindAll("[data-testid=model-test]")[1].Click();
        page.WaitForAssertion(() => Assert.Equal("Works (77 ms)", page.Find("[data-testid=model-test-result]").TextContent.Trim()));
    }
}
