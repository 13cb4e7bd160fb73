using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Tests.Infrastructure;
using AigneHub.Tests.Routing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace AigneHub.Tests.Management;

public sealed class CredentialTesterTests
{
    /// <summary>The Api with a recording chat adapter registered the way the real ones are: keyed by protocol.</summary>
    public sealed class AdapterApiFactory : ApiFactory
    {
        public RecordingChatAdapter Adapter { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddKeyedSingleton<IChatAdapter>(ProviderProtocol.Anthropic, Adapter));
        }
    }

    public sealed class RecordingChatAdapter : IChatAdapter
    {
        public List<(ProviderEndpoint Endpoint, ChatRequest Request)> Calls { get; } = [];

        public Task<ChatResponse> CompleteAsync(ProviderEndpoint endpoint, ChatRequest request, CancellationToken cancellationToken)
        {
            lock (Calls)
            {
                Calls.Add((endpoint, request));
            }
            return endpoint.ApiKey == "sk-ant-good-key-0000001"
                ? Task.FromResult(new ChatResponse { Id = "msg_1", Model = request.Model, Text = "p" })
                : throw new ProviderException(endpoint.Provider, ProviderErrorClass.InvalidCredential, 401, "anthropic: invalid x-api-key");
        }

        public async IAsyncEnumerable<ChatStreamUpdate> StreamAsync(ProviderEndpoint endpoint, ChatRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new NotSupportedException("the tester must not stream");
#pragma warning disable CS0162 // an iterator needs a yield
            yield break;
#pragma warning restore CS0162
        }
    }

    [Fact]
    public async Task Test_route_pings_through_the_protocol_adapter_with_one_token()
    {
        await using var api = await ApiFactory.StartAsync<AdapterApiFactory>();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var anthropic = await client.CreateProviderAsync("anthropic", baseUrl: "http://127.0.0.1:9/v1");
        var good = await client.AddCredentialAsync(anthropic, "sk-ant-good-key-0000001");
        var bad = await client.AddCredentialAsync(anthropic, "sk-ant-bad-key-00000002");
        // Nothing listens on port 9: the tester reports the transport failure rather than throwing.
        var google = await client.CreateProviderAsync("google", baseUrl: "http://127.0.0.1:9/v1beta");
        var unreachable = await client.AddCredentialAsync(google, "AIza-000000000000000001");

        var ok = await AdminClient.ReadAsync(await client.PostAsJsonAsync(
            $"/api/admin/providers/{anthropic}/credentials/{good}/test", new { model = "claude-3-5-haiku-latest" }));
        Assert.True(ok["ok"]!.GetValue<bool>());
        Assert.True(ok["latencyMs"]!.GetValue<long>() >= 0);
        var (endpoint, request) = Assert.Single(api.Adapter.Calls);
        Assert.Equal(("anthropic", new Uri("http://127.0.0.1:9/v1/"), "sk-ant-good-key-0000001"), (endpoint.Provider, endpoint.BaseUrl, endpoint.ApiKey));
        Assert.Equal("claude-3-5-haiku-latest", request.Model);
        Assert.Equal(1, request.MaxOutputTokens);
        Assert.Equal("ping", Assert.Single(request.Messages).Text);

        var rejected = await AdminClient.ReadAsync(await client.PostAsJsonAsync(
            $"/api/admin/providers/{anthropic}/credentials/{bad}/test", new { model = "claude-3-5-haiku-latest" }));
        Assert.False(rejected["ok"]!.GetValue<bool>());
        Assert.Equal("anthropic: invalid x-api-key", rejected["error"]!.GetValue<string>());

        var down = await AdminClient.ReadAsync(await client.PostAsJsonAsync(
            $"/api/admin/providers/{google}/credentials/{unreachable}/test", new { model = "gemini-2.0-flash" }));
        Assert.False(down["ok"]!.GetValue<bool>());
        Assert.Contains("google is unreachable", down["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Last_used_time_is_written_in_the_background_at_most_once_a_minute()
    {
        await using var api = await ApiFactory.StartAsync<ManagementApiFactory>();
        using var client = api.CreateClient(ApiFactory.OwnerKey);
        var provider = await client.CreateProviderAsync("poe");
        var credential = await client.AddCredentialAsync(provider, "poe-key-000000000000001");
        var pool = api.Services.GetRequiredService<ICredentialPool>();
        var target = Assert.Single(await api.Services.GetRequiredService<IModelResolver>().ResolveAsync("poe/GPT-4o", ModelType.Chat, default));
        var t0 = api.Time.GetUtcNow();

        await pool.AcquireAsync(target, default);
        Assert.Null((await RoutingTests.CredentialAsync(api, credential)).LastUsedAt);
        api.Time.Advance(TimeSpan.FromSeconds(15));
        await RoutingTests.WaitUntilAsync(async () => (await RoutingTests.CredentialAsync(api, credential)).LastUsedAt == t0);

        // Used again 15 s later: not written before a minute has passed since the last write.
        await pool.AcquireAsync(target, default);
        api.Time.Advance(TimeSpan.FromSeconds(15));
        await Task.Delay(300);
        Assert.Equal(t0, (await RoutingTests.CredentialAsync(api, credential)).LastUsedAt);
        api.Time.Advance(TimeSpan.FromSeconds(45));
        await RoutingTests.WaitUntilAsync(async () =>
            (await RoutingTests.CredentialAsync(api, credential)).LastUsedAt == t0 + TimeSpan.FromSeconds(15));
    }
}
