using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Identity;
using AigneHub.Tests.Infrastructure;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Item 10 of the security issue: what members and strangers may read about the hub's insides. Provider errors reach
/// members without internal hosts, URLs or stack text (admins keep the full text); /health is status only unless an
/// admin asks; the OpenAPI document needs a sign-in outside Development.
/// </summary>
public sealed class InformationLeakTests
{
    /// <summary>What an internal deployment's provider error can carry: a private address, a URL and a stack line.</summary>
    private const string InternalError = "Could not fetch http://10.0.3.7:9000/bucket/scan.png from minio.corp.internal\n   at Minio.Client.GetObject()";

    [Fact]
    public async Task A_member_sees_provider_errors_without_internal_hosts_urls_or_stack_text_while_admins_keep_them()
    {
        await using var fake = await FakeOpenAI.StartAsync();
        await using var api = await ApiFactory.StartAsync(configure: f => f.Settings["AigneHub:Billing:Enabled"] = "false");
        using var owner = api.CreateClient(ApiFactory.OwnerKey);
        var rejecting = await owner.CreateProviderAsync("xai", fake.BaseUrl.ToString());
        await owner.AddCredentialAsync(rejecting, "xai-key-000000000001");
        // A self-hosted model server the hub cannot reach: the transport error names its address.
        var down = await owner.CreateProviderAsync("deepseek", "http://127.0.0.1:9/v1");
        await owner.AddCredentialAsync(down, "ds-key-0000000000001");
        var (_, memberKey) = await owner.CreateMemberAsync();
        using var member = api.CreateClient(memberKey);

        fake.Enqueue(new FakeReply { FailStatus = 400, FailMessage = InternalError });
        var rejected = await ErrorMessageAsync(await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("xai/grok-test")), HttpStatusCode.BadRequest);
        var unreachable = await ErrorMessageAsync(await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("deepseek/deepseek-chat")), HttpStatusCode.BadGateway);
        var streamed = await member.PostAsJsonAsync("/api/v2/chat/completions", Chat("deepseek/deepseek-chat", stream: true));
        var status = await AdminClient.ReadAsync(await member.GetAsync("/api/v2/status?model=deepseek/deepseek-chat"));
        var myCalls = await member.GetStringAsync("/api/v2/model-calls");
        var myExport = await member.GetStringAsync("/api/v2/model-calls/export");

        Assert.Contains("Could not fetch", rejected); // the provider's reason itself still helps the caller
        Assert.Contains("deepseek", unreachable);
        Assert.False((bool)status["available"]!);
        foreach (var (what, text) in new[] { ("rejected", rejected), ("unreachable", unreachable), ("stream", await streamed.Content.ReadAsStringAsync()),
                     ("status", status.ToJsonString()), ("calls", myCalls), ("export", myExport) })
        {
            foreach (var secret in new[] { "10.0.3.7", "http://", "minio.corp.internal", "Minio.Client", "127.0.0.1" })
            {
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{what} shows '{secret}': {text}");
            }
        }

        // Admins debugging the hub still get the provider's full words in the call log.
        var allCalls = await owner.GetStringAsync("/api/admin/model-calls");
        Assert.Contains("10.0.3.7", allCalls);
        Assert.Contains("127.0.0.1", allCalls);
    }

    [Fact]
    public async Task Anonymous_health_answers_status_only_and_the_openapi_document_needs_a_sign_in_outside_development()
    {
        await using var api = await ApiFactory.StartAsync();
        var (_, memberKey) = await IdentityTestClient.CreateUserWithKeyAsync(api, "member");
        using var anonymous = api.CreateClient(bearer: null);
        using var member = api.CreateClient(memberKey);
        using var owner = api.CreateClient(ApiFactory.OwnerKey);

        foreach (var client in new[] { anonymous, member })
        {
            using var health = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            var body = await AdminClient.ReadAsync(health);
            Assert.Equal(["status"], body.AsObject().Select(p => p.Key));
            Assert.Equal("Healthy", (string?)body["status"]);
        }
        var detailed = await AdminClient.ReadAsync(await owner.GetAsync("/health"));
        Assert.Contains(detailed["checks"]!.AsArray(), c => (string?)c!["name"] == "database-migrations");

        // The tests run as "Testing": not Development.
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
        using var document = await member.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, document.StatusCode);
        Assert.Contains("/api/v2/chat/completions", await document.Content.ReadAsStringAsync());
    }

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
            return (string)JsonNode.Parse(body)!["error"]!["message"]!;
        }
    }

    private static JsonObject Chat(string model, bool stream = false) => new()
    {
        ["model"] = model,
        ["stream"] = stream,
        ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "describe scan.png" }),
    };
}
