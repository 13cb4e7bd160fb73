using System.Net;
using System.Text.Json.Nodes;
using AigneHub.Admin.Components.Pages;
using Bunit;

namespace AigneHub.Tests.Admin;

/// <summary>The rate page's image price table: shown on the list, edited row by row, sent whole with the rate.</summary>
public sealed class ModelRatesPageTests : AdminComponentTestBase
{
    private const string RateId = "44444444-4444-4444-4444-444444444444";

    private const string ImageRate = $$"""
        {"id":"{{RateId}}","provider":"openai","model":"gpt-image-1","type":"image","inputRate":"0","outputRate":"0.01",
         "cacheWriteRate":null,"cacheReadRate":null,"unitCosts":null,"metadata":null,"deprecated":false,
         "createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z","characterRate":null,"secondRate":null,
         "imagePrices":[{"size":"1024x1024","quality":"hd","price":"0.08"},{"size":"1024x1024","quality":null,"price":"0.04"}]}
        """;

    [Fact]
    public void An_image_rates_price_table_is_shown_edited_and_sent_with_the_rate()
    {
        Api.OnGet("/api/admin/model-rates", $"[{ImageRate}]")
            .On(HttpMethod.Put, $"/api/admin/model-rates/{RateId}", HttpStatusCode.OK, ImageRate);
        var page = Render<ModelRates>();

        page.WaitForAssertion(() => Assert.Equal("+ 2 by size/quality", page.Find("[data-testid=rate-image-prices]").TextContent.Trim()));
        page.FindAll("[data-testid=rates-grid] button").First(b => b.TextContent.Trim() == "Edit").Click();

        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=image-price-row]").Count));
        Assert.Equal("1024x1024", page.FindAll("input[data-testid=image-price-size]")[0].GetAttribute("value"));
        Assert.Equal("hd", page.FindAll("input[data-testid=image-price-quality]")[0].GetAttribute("value"));
        Assert.Equal("0.08", page.FindAll("input[data-testid=image-price-value]")[0].GetAttribute("value"));

        // Remove the first row, add one for a wide size, and change the remaining row's price.
        page.FindAll("[data-testid=image-price-remove]")[0].Click();
        page.Find("[data-testid=image-price-add]").Click();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=image-price-row]").Count));
        page.FindAll("input[data-testid=image-price-value]")[0].Change("0.05");
        page.FindAll("input[data-testid=image-price-size]")[1].Change("1792x1024");
        page.FindAll("input[data-testid=image-price-value]")[1].Change("0.12");
        page.Find("[data-testid=rate-save]").Click();

        page.WaitForAssertion(() => Assert.Contains(Api.Requests, r => r.Method == HttpMethod.Put));
        var sent = JsonNode.Parse(Api.Requests.Single(r => r.Method == HttpMethod.Put).Body!)!;
        var table = sent["imagePrices"]!.AsArray();
        Assert.Equal(2, table.Count);
        Assert.Equal("1024x1024", (string?)table[0]!["size"]);
        Assert.Null(table[0]!["quality"]);
        Assert.Equal("0.05", (string?)table[0]!["price"]);
        Assert.Equal("1792x1024", (string?)table[1]!["size"]);
        Assert.Null(table[1]!["quality"]);
        Assert.Equal("0.12", (string?)table[1]!["price"]);
        Assert.Equal("0.01", (string?)sent["outputRate"]);
    }

    private const string SpeechRateId = "55555555-5555-5555-5555-555555555555";

    private const string SpeechRate = $$"""
        {"id":"{{SpeechRateId}}","provider":"openai","model":"tts-1","type":"audio","inputRate":"0","outputRate":"0",
         "cacheWriteRate":null,"cacheReadRate":null,"unitCosts":null,"metadata":null,"deprecated":false,
         "createdAt":"2026-11-01T00:00:00Z","updatedAt":"2026-11-01T00:00:00Z","characterRate":"0.00015","secondRate":"0.006",
         "imagePrices":null}
        """;

    /// <summary>A PUT replaces the whole rate: saving an audio rate from the form keeps its per-character and
    /// per-second prices (the form does not show them; before, they were sent as absent and so removed).</summary>
    [Fact]
    public void Saving_an_audio_rate_keeps_its_character_and_second_prices()
    {
        Api.OnGet("/api/admin/model-rates", $"[{SpeechRate}]")
            .On(HttpMethod.Put, $"/api/admin/model-rates/{SpeechRateId}", HttpStatusCode.OK, SpeechRate);
        var page = Render<ModelRates>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=rates-grid] button")));
        page.FindAll("[data-testid=rates-grid] button").First(b => b.TextContent.Trim() == "Edit").Click();
        page.Find("[data-testid=rate-save]").Click();

        page.WaitForAssertion(() => Assert.Contains(Api.Requests, r => r.Method == HttpMethod.Put));
        var sent = JsonNode.Parse(Api.Requests.Single(r => r.Method == HttpMethod.Put).Body!)!;
        Assert.Equal(("0.00015", "0.006"), ((string?)sent["characterRate"], (string?)sent["secondRate"]));
    }

    [Fact]
    public void A_bulk_margin_change_keeps_an_audio_rates_character_and_second_prices()
    {
        var rate = System.Text.Json.JsonSerializer.Deserialize<AigneHub.Contracts.Billing.ModelRateResponse>(
            SpeechRate.Replace("\"unitCosts\":null", "\"unitCosts\":{\"input\":\"0.00001\",\"output\":null}"),
            new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!;

        var change = Assert.Single(ModelRates.PlanBulk([rate], 20m, 1m));

        Assert.Equal((0.00015m, 0.006m), (change.Request.CharacterRate, change.Request.SecondRate));
    }

    [Fact]
    public void A_price_row_without_a_size_or_a_quality_is_not_sent()
    {
        Api.OnGet("/api/admin/model-rates", $"[{ImageRate}]");
        var page = Render<ModelRates>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=rates-grid] button")));
        page.FindAll("[data-testid=rates-grid] button").First(b => b.TextContent.Trim() == "Edit").Click();

        page.Find("[data-testid=image-price-add]").Click();
        page.FindAll("input[data-testid=image-price-value]")[2].Change("0.3");
        page.Find("[data-testid=rate-save]").Click();

        page.WaitForAssertion(() => Assert.Contains("Price row 3 needs a size, a quality or both.", page.Markup));
        Assert.DoesNotContain(Api.Requests, r => r.Method == HttpMethod.Put);
    }
}
