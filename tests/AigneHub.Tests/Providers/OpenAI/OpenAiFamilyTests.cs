using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Providers.OpenAI;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Gateway;
using AigneHub.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Providers.OpenAI;

/// <summary>
/// Mistral, Groq and Azure OpenAI behind one billing Api, each in front of a fake that speaks its variant of the wire
/// (<see cref="FakeOpenAiDialect"/>): Mistral refuses fields it does not know, Groq reports stream usage under
/// <c>x_groq</c>, Azure addresses deployments with an <c>api-key</c> and an <c>api-version</c>.
/// </summary>
public sealed class OpenAiFamilyFixture : IAsyncLifetime
{
    public const string AzureKey = "azure-test-key-0123456789";
    public const string AzureApiVersion = "2025-01-01-preview";

    /// <summary>Credits per token, input and output, on every model here: a charge is (input × 0.001 + output × 0.002).</summary>
    public const decimal InputRate = 0.001m;
    public const decimal OutputRate = 0.002m;

    internal BillingHost Host { get; private set; } = null!;

    public FakeOpenAI Mistral { get; private set; } = null!;

    public FakeOpenAI Groq { get; private set; } = null!;

    public FakeOpenAI Azure { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Mistral = await FakeOpenAI.StartAsync(FakeOpenAiDialect.Mistral);
        Groq = await FakeOpenAI.StartAsync(FakeOpenAiDialect.Groq);
        Azure = await FakeOpenAI.StartAsync(FakeOpenAiDialect.Azure);
        Host = await BillingHost.StartAsync();
        using var owner = Host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "mistral", Mistral.BaseUrl, "mistral-test-key-0123456789", "mistral-small-latest");
        await GatewayFixture.AddProviderAsync(owner, "groq", Groq.BaseUrl, "gsk-test-key-0123456789", "llama-3.1-8b-instant");
        using var created = await owner.PostAsJsonAsync("/api/admin/providers", new
        {
            name = "azure",
            baseUrl = Azure.BaseUrl.ToString(),
            settings = new { apiVersion = AzureApiVersion, deployments = new Dictionary<string, string> { ["gpt-4o"] = "prod-gpt4o" } },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await owner.AddCredentialAsync((await AdminClient.ReadAsync(created))["id"]!.GetValue<Guid>(), AzureKey);
        foreach (var (kind, model) in new[]
        {
            (ProviderKinds.Mistral, "mistral-small-latest"), (ProviderKinds.Groq, "llama-3.1-8b-instant"),
            (ProviderKinds.Azure, "gpt-4o"), (ProviderKinds.Azure, "gpt-4o-mini"),
        })
        {
            await Host.AddRateAsync(new ModelTarget(kind, null, new Uri("http://127.0.0.1:1/"), model, ModelType.Chat),
                InputRate.ToString(System.Globalization.CultureInfo.InvariantCulture), OutputRate.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A member with credits to spend and their key.</summary>
    public async Task<(Guid Member, HttpClient Client)> MemberAsync()
    {
        using var owner = Host.Owner;
        var (member, key) = await owner.CreateMemberAsync();
        await Host.GrantAsync(member, "100");
        return (member, Host.Api.CreateClient(key));
    }

    public async Task DisposeAsync()
    {
        await Host.DisposeAsync();
        await Mistral.DisposeAsync();
        await Groq.DisposeAsync();
        await Azure.DisposeAsync();
    }
}

public sealed class OpenAiFamilyTests(OpenAiFamilyFixture hub) : IClassFixture<OpenAiFamilyFixture>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static decimal Charge(int input, int output) => input * OpenAiFamilyFixture.InputRate + output * OpenAiFamilyFixture.OutputRate;

    [Fact]
    public async Task Mistral_gets_max_tokens_and_no_stream_options_and_the_stream_is_billed_from_its_last_chunk()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Mistral.Requests.Count;
        hub.Mistral.Enqueue(new FakeReply { Text = "Bonjour tout le monde", InputTokens = 21, OutputTokens = 9 });

        using var response = await client.PostAsync("/api/v2/chat/completions", Json("""
            {"model":"mistral/mistral-small-latest","messages":[{"role":"user","content":"hi"}],"stream":true,
             "max_completion_tokens":50,"stream_options":{"include_usage":true}}
            """));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Bonjour", text);
        var sent = (JsonObject)hub.Mistral.Requests.Skip(before).Single().RequiredBody;
        Assert.Equal(50, (int?)sent["max_tokens"]);
        Assert.All(FakeOpenAI.MistralForbiddenFields, field => Assert.False(sent.ContainsKey(field), field));
        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal((21, 9), (call.PromptTokens, call.CompletionTokens));
        Assert.False(call.Estimated);
        Assert.Equal(Charge(21, 9), call.Credits);
    }

    [Fact]
    public async Task A_mistral_refusal_whose_message_is_an_object_reaches_the_caller_as_its_422_with_the_detail()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;

        // The caller's own field goes through untouched in a pass-through; Mistral refuses it.
        using var response = await client.PostAsync("/api/v2/chat/completions", Json("""
            {"model":"mistral/mistral-small-latest","messages":[{"role":"user","content":"hi"}],"user":"someone"}
            """));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Contains("extra_forbidden", body);
        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Failed, call.Status);
        Assert.Equal(0m, call.Credits);
    }

    [Fact]
    public async Task Mistral_translated_requests_name_the_seed_random_seed_and_carry_no_user()
    {
        using var http = new ProviderHttp(Options.Create(new ProviderHttpOptions()));
        var adapter = new OpenAiChatAdapter(http);
        var endpoint = new ProviderEndpoint("mistral", hub.Mistral.BaseUrl, "mistral-test-key-0123456789", http.Client);
        var request = new ChatRequest
        {
            Model = "mistral-small-latest",
            Messages = [new ChatMessage { Role = ChatRole.User, Content = [new TextPart("hi")] }],
            Seed = 42,
            EndUser = "user-1",
            MaxOutputTokens = 5,
        };
        hub.Mistral.Enqueue(new FakeReply { InputTokens = 4, OutputTokens = 3 }, new FakeReply { Text = "a b", InputTokens = 6, OutputTokens = 2 });

        var answer = await adapter.CompleteAsync(endpoint, request, CancellationToken.None);
        var sent = (JsonObject)hub.Mistral.LastRequest.RequiredBody;
        var updates = await Anthropic.AnthropicChatAdapterTests.CollectAsync(adapter.StreamAsync(endpoint, request, CancellationToken.None));

        Assert.Equal(42, (long?)sent["random_seed"]);
        Assert.Equal(5, (int?)sent["max_tokens"]);
        Assert.All(FakeOpenAI.MistralForbiddenFields, field => Assert.False(sent.ContainsKey(field), field));
        Assert.Equal((4, 3), (answer.Usage!.InputTokens, answer.Usage.OutputTokens));
        var usage = Assert.Single(updates, u => u.Usage is not null).Usage!;
        Assert.Equal((6, 2), (usage.InputTokens, usage.OutputTokens));
    }

    [Fact]
    public async Task Groq_gets_max_completion_tokens_and_its_x_groq_stream_usage_is_billed_once()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Groq.Requests.Count;
        hub.Groq.Enqueue(new FakeReply { Text = "fast answer here", InputTokens = 30, OutputTokens = 12 });

        using var response = await client.PostAsync("/api/v2/chat/completions", Json("""
            {"model":"groq/llama-3.1-8b-instant","messages":[{"role":"user","content":"hi"}],"stream":true,"max_tokens":40}
            """));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("answer", text);
        var sent = (JsonObject)hub.Groq.Requests.Skip(before).Single().RequiredBody;
        Assert.Equal(40, (int?)sent["max_completion_tokens"]);
        Assert.False(sent.ContainsKey("max_tokens"));
        var call = await hub.Host.WaitForSettledAsync(member);
        Assert.Equal((30, 12), (call.PromptTokens, call.CompletionTokens));
        Assert.False(call.Estimated);
        Assert.Equal(Charge(30, 12), call.Credits);
    }

    [Fact]
    public async Task Azure_calls_go_to_the_models_deployment_with_the_api_key_header_and_the_configured_version()
    {
        var (member, client) = await hub.MemberAsync();
        using var _ = client;
        var before = hub.Azure.Requests.Count;
        hub.Azure.Enqueue(new FakeReply { Text = "from azure", InputTokens = 8, OutputTokens = 4 }, new FakeReply { Text = "unmapped" });

        using var mapped = await client.PostAsync("/api/v2/chat/completions", Json("""
            {"model":"azure/gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":20}
            """));
        var mappedBody = await mapped.Content.ReadAsStringAsync();
        var call = await hub.Host.WaitForSettledAsync(member);
        using var unmapped = await client.PostAsync("/api/v2/chat/completions", Json("""
            {"model":"azure/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}
            """));

        Assert.Equal(HttpStatusCode.OK, mapped.StatusCode);
        Assert.Contains("from azure", mappedBody);
        Assert.Equal(HttpStatusCode.OK, unmapped.StatusCode);
        var requests = hub.Azure.Requests.Skip(before).ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal("/openai/deployments/prod-gpt4o/chat/completions", requests[0].Path);
        Assert.Equal("/openai/deployments/gpt-4o-mini/chat/completions", requests[1].Path);
        Assert.All(requests, r =>
        {
            Assert.Equal($"?api-version={OpenAiFamilyFixture.AzureApiVersion}", r.Query);
            Assert.Equal(OpenAiFamilyFixture.AzureKey, r.Header("api-key"));
            Assert.Null(r.Header("Authorization"));
        });
        Assert.Equal(20, (int?)requests[0].RequiredBody["max_completion_tokens"]);
        Assert.Equal(Charge(8, 4), call.Credits);
    }

    [Fact]
    public async Task Provider_settings_are_checked_against_the_kind()
    {
        using var owner = hub.Host.Owner;

        using var noUrl = await owner.PostAsJsonAsync("/api/admin/providers", new { name = "azure" });
        using var foreign = await owner.PostAsJsonAsync("/api/admin/providers", new { name = "groq", settings = new { region = "us-east-1" } });
        using var badVersion = await owner.PostAsJsonAsync("/api/admin/providers",
            new { name = "azure", baseUrl = "https://x.openai.azure.com/", settings = new { apiVersion = "latest" } });
        using var badDeployment = await owner.PostAsJsonAsync("/api/admin/providers",
            new { name = "azure", baseUrl = "https://x.openai.azure.com/", settings = new { deployments = new Dictionary<string, string> { ["gpt-4o"] = "has space" } } });
        using var list = await owner.GetAsync("/api/admin/providers");
        var azure = (await list.Content.ReadFromJsonAsync<JsonArray>())!.Single(p => (string?)p!["name"] == "azure")!;

        await AdminClient.AssertErrorAsync(noUrl, HttpStatusCode.BadRequest, "baseUrl");
        await AdminClient.AssertErrorAsync(foreign, HttpStatusCode.BadRequest, "settings.region");
        await AdminClient.AssertErrorAsync(badVersion, HttpStatusCode.BadRequest, "settings.apiVersion");
        await AdminClient.AssertErrorAsync(badDeployment, HttpStatusCode.BadRequest, "settings.deployments");
        Assert.Equal(OpenAiFamilyFixture.AzureApiVersion, (string?)azure["settings"]!["apiVersion"]);
        Assert.Equal("prod-gpt4o", (string?)azure["settings"]!["deployments"]!["gpt-4o"]);
    }
}
