using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Usage;

/// <summary>Per-key and per-user attribution through real gateway calls: the breakdowns, the call list's names and the CSV.</summary>
public sealed class UsageBreakdownTests
{
    [Fact]
    public async Task Calls_are_attributed_to_their_key_and_user_by_name_in_breakdowns_the_call_list_and_the_csv()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "true");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await owner.CreateProviderAsync("openai", fake.BaseUrl.ToString());
        await owner.AddCredentialAsync(provider, "sk-breakdown-0123456789");
        using (var rate = await owner.PostAsJsonAsync("/api/admin/model-rates", new { provider = "openai", model = "gpt-4o-mini", type = "chat", inputRate = "0.001", outputRate = "0.002" }))
        {
            Assert.True(rate.IsSuccessStatusCode, await rate.Content.ReadAsStringAsync());
        }
        const string email = "attributed@test.local";
        var (member, firstKey) = await owner.CreateMemberAsync(email);
        using (var grant = await owner.PostAsJsonAsync($"/api/admin/users/{member}/credits/grants", new { amount = "10", category = "paid" }))
        {
            Assert.True(grant.IsSuccessStatusCode, await grant.Content.ReadAsStringAsync());
        }
        using var first = api.CreateClient(firstKey);
        var second = await AdminClient.ReadAsync(await first.PostAsJsonAsync("/api/v2/access-keys", new { name = "laptop" }));
        using var laptop = api.CreateClient(second["key"]!.GetValue<string>());

        // The fake reports 11 prompt and 7 completion tokens per call: 11 × 0.001 + 7 × 0.002 = 0.025 credits each.
        const decimal perCall = 11 * 0.001m + 7 * 0.002m;
        await ChatAsync(first);
        await ChatAsync(laptop);
        await ChatAsync(laptop);
        await api.WaitForSettlementsAsync();

        var mine = await AdminClient.ReadAsync(await first.GetAsync("/api/v2/usage/breakdown?by=key"));
        var rows = mine["rows"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.Equal("laptop", rows[0]!["label"]!.GetValue<string>());
        Assert.Equal(2, rows[0]!["calls"]!.GetValue<long>());
        Assert.Equal(2 * perCall, decimal.Parse(rows[0]!["credits"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("test", rows[1]!["label"]!.GetValue<string>());
        Assert.Equal(perCall, decimal.Parse(rows[1]!["credits"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(18, rows[1]!["tokens"]!.GetValue<long>());

        var byUser = await AdminClient.ReadAsync(await owner.GetAsync("/api/admin/usage/breakdown?by=user"));
        var userRow = Assert.Single(byUser["rows"]!.AsArray())!;
        Assert.Equal(email, userRow["label"]!.GetValue<string>());
        Assert.Equal(3, userRow["calls"]!.GetValue<long>());
        var byModel = await AdminClient.ReadAsync(await owner.GetAsync("/api/admin/usage/breakdown?by=model"));
        Assert.Equal("openai/gpt-4o-mini", Assert.Single(byModel["rows"]!.AsArray())!["label"]!.GetValue<string>());
        using (var bad = await owner.GetAsync("/api/admin/usage/breakdown?by=weather"))
        {
            await AdminClient.AssertErrorAsync(bad, HttpStatusCode.BadRequest, "by");
        }
        using (var memberOnly = await first.GetAsync("/api/v2/usage/breakdown?by=user"))
        {
            await AdminClient.AssertErrorAsync(memberOnly, HttpStatusCode.BadRequest, "by");
        }

        // The call list: found by the user's email (any case), each call with its key's name.
        var listed = await AdminClient.ReadAsync(await owner.GetAsync($"/api/admin/model-calls?userEmail={Uri.EscapeDataString("Attributed@Test.local")}"));
        Assert.Equal(3, listed["total"]!.GetValue<long>());
        var items = listed["items"]!.AsArray();
        Assert.All(items, i => Assert.Equal(email, i!["userEmail"]!.GetValue<string>()));
        Assert.Equal(["laptop", "laptop", "test"], items.Select(i => i!["accessKeyName"]!.GetValue<string>()).Order());
        var nobody = await AdminClient.ReadAsync(await owner.GetAsync("/api/admin/model-calls?userEmail=nobody@test.local"));
        Assert.Equal(0, nobody["total"]!.GetValue<long>());
        var laptopId = second["id"]!.GetValue<Guid>();
        var byKey = await AdminClient.ReadAsync(await owner.GetAsync($"/api/admin/model-calls?accessKeyId={laptopId}"));
        Assert.Equal(2, byKey["total"]!.GetValue<long>());

        using var export = await owner.GetAsync("/api/admin/model-calls/export");
        var lines = (await export.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        var header = lines[0].Split(',');
        var firstRow = lines[1].Split(',');
        Assert.Equal(email, firstRow[Array.IndexOf(header, "user_email")]);
        Assert.Equal("laptop", firstRow[Array.IndexOf(header, "access_key_name")]);
        Assert.Equal(laptopId.ToString(), firstRow[Array.IndexOf(header, "access_key_id")]);
        Assert.Equal("200", firstRow[Array.IndexOf(header, "status_code")]);
    }

    private static async Task ChatAsync(HttpClient client)
    {
        using var response = await client.PostAsJsonAsync("/api/v2/chat/completions", new JsonObject
        {
            ["model"] = "openai/gpt-4o-mini",
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }),
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }
}
