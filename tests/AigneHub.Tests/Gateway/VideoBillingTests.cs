#pragma warning disable OPENAI001 // the SDK marks its video client experimental
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Tests.Billing;
using AigneHub.Tests.Fakes;
using AigneHub.Tests.Infrastructure;
using OpenAI.Videos;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Video through the AIGNE-native <c>POST /api/v2/video</c> with credit billing on, against the fakes' job wires
/// (OpenAI's videos API, Gemini's predictLongRunning and operations): reserved the seconds asked for × the rate,
/// charged the seconds delivered × the rate; a failed job charged nothing; a provider without video refused before
/// anything is reserved or recorded; the call is <c>processing</c> while the provider's job runs. And the OpenAI
/// videos API through the official .NET SDK's <see cref="VideoClient"/>: the job answered at once, followed by the
/// hub, retrieved and downloaded by its creator only, the call settled when the job ends.
/// </summary>
public sealed class VideoBillingTests
{
    private const string SecondRate = "0.05";
    private static readonly decimal Rate = decimal.Parse(SecondRate, CultureInfo.InvariantCulture);

    private static async Task<(BillingHost Host, FakeOpenAI OpenAi, FakeGemini Gemini, Guid Member, HttpClient Client)> StartAsync(Action<ApiFactory>? configure = null)
    {
        var openAi = await FakeOpenAI.StartAsync();
        var gemini = await FakeGemini.StartAsync();
        gemini.ApiKey = "gemini-test-video-0123456789";
        var host = await BillingHost.StartAsync(f =>
        {
            f.Settings["AigneHub:Gateway:Video:PollInterval"] = "00:00:00.020";
            configure?.Invoke(f);
        });
        using var owner = host.Owner;
        await GatewayFixture.AddProviderAsync(owner, "openai", openAi.BaseUrl, "sk-test-video-0123456789", "sora-2:video");
        await GatewayFixture.AddProviderAsync(owner, "google", gemini.BaseUrl, gemini.ApiKey, "veo-3.1-generate-preview:video");
        await GatewayFixture.AddProviderAsync(owner, "deepseek", openAi.BaseUrl, "sk-test-video-deepseek-0123", "deepseek-chat:video");
        await host.AddRateAsync(new ModelTarget(ProviderKinds.OpenAI, null, openAi.BaseUrl, "sora-2", ModelType.Video), "0", SecondRate);
        await host.AddRateAsync(new ModelTarget(ProviderKinds.Google, null, gemini.BaseUrl, "veo-3.1-generate-preview", ModelType.Video), "0", SecondRate);
        await host.AddRateAsync(new ModelTarget(ProviderKinds.DeepSeek, null, openAi.BaseUrl, "deepseek-chat", ModelType.Video), "0", SecondRate);
        var (member, key) = await owner.CreateMemberAsync();
        await host.GrantAsync(member, "100");
        return (host, openAi, gemini, member, host.Api.CreateClient(key));
    }

    /// <summary>The body <c>AIGNEHubVideoModel.process</c> sends: the input with <c>model</c> and
    /// <c>modelOptions.model</c> set, the video options in <c>modelOptions</c>, <c>streaming: false</c>.</summary>
    private static HttpRequestMessage SdkRequest(string model, string prompt, string seconds, string size, string outputFileType) =>
        new(HttpMethod.Post, "/api/v2/video")
        {
            Content = new StringContent(new JsonObject
            {
                ["input"] = new JsonObject
                {
                    ["prompt"] = prompt,
                    ["model"] = model,
                    ["outputFileType"] = outputFileType,
                    ["modelOptions"] = new JsonObject { ["model"] = model, ["seconds"] = seconds, ["size"] = size },
                },
                ["options"] = new JsonObject { ["streaming"] = false },
            }.ToJsonString(), Encoding.UTF8, "application/json"),
            Headers = { { "x-aigne-hub-client-did", "@aigne/aigne-hub:test-host" } },
        };

    [Fact]
    public async Task A_sora_video_is_reserved_the_seconds_asked_for_and_charged_the_seconds_delivered()
    {
        var (host, openAi, gemini, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;
        openAi.Videos.Enqueue(new FakeVideoJob { PollsBeforeDone = 3, Seconds = "8" });

        using var response = await client.SendAsync(SdkRequest("openai/sora-2", "A calico cat plays the piano", "12", "1280x720", "url"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var job = Assert.Single(openAi.Videos.All);
        Assert.Equal(3, job.Polls);
        var sent = openAi.Requests.Single(r => r.Path == "/v1/videos").RequiredBody;
        Assert.Equal("sora-2", (string?)sent["model"]);
        Assert.Equal("12", (string?)sent["seconds"]);
        Assert.Equal("1280x720", (string?)sent["size"]);
        var video = body["videos"]![0]!;
        Assert.Equal("url", (string?)video["type"]);
        Assert.Equal($"data:video/mp4;base64,{Convert.ToBase64String(FakeVideoJobs.ContentFor(job.Id))}", (string?)video["url"]);
        Assert.Equal(8m, (decimal?)body["seconds"]);
        Assert.Equal("openai/sora-2", (string?)body["modelWithProvider"]);

        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(ModelType.Video, call.Type);
        Assert.Equal(8m, call.VideoSeconds);
        Assert.Equal(12 * Rate, call.ReservedCredits);
        Assert.Equal(8 * Rate, call.Credits);
        Assert.Equal(8 * Rate, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
        Assert.Equal("@aigne/aigne-hub:test-host", call.AppId);
    }

    [Fact]
    public async Task A_veo_video_is_charged_its_seconds_times_the_rate()
    {
        var (host, openAi, gemini, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;

        using var response = await client.SendAsync(SdkRequest("google/veo-3.1-generate-preview", "Waves at dusk", "6", "1280x720", "file"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var job = Assert.Single(gemini.Videos.All);
        var sent = gemini.Requests.Single(r => r.Path.EndsWith(":predictLongRunning", StringComparison.Ordinal));
        Assert.Equal("/v1beta/models/veo-3.1-generate-preview:predictLongRunning", sent.Path);
        Assert.Equal(6, (int?)sent.RequiredBody["parameters"]!["durationSeconds"]);
        Assert.Equal("16:9", (string?)sent.RequiredBody["parameters"]!["aspectRatio"]);
        Assert.Equal("720p", (string?)sent.RequiredBody["parameters"]!["resolution"]);
        var video = body["videos"]![0]!;
        Assert.Equal("file", (string?)video["type"]);
        Assert.Equal(Convert.ToBase64String(FakeVideoJobs.ContentFor(job.Id)), (string?)video["data"]);
        Assert.Equal("video/mp4", (string?)video["mimeType"]);

        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(6m, call.VideoSeconds);
        Assert.Equal(6 * Rate, call.Credits);
        Assert.Equal(6 * Rate, await host.DebitsAsync(member));
    }

    [Fact]
    public async Task A_failed_job_is_an_aigne_error_charged_nothing_with_its_reservation_released()
    {
        var (host, openAi, gemini, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;
        gemini.Videos.Enqueue(new FakeVideoJob { PollsBeforeDone = 2, FailMessage = "The prompt was blocked." });

        using var response = await client.SendAsync(SdkRequest("google/veo-3.1-generate-preview", "Something blocked", "8", "720x1280", "file"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Contains("The prompt was blocked.", (string?)error["message"]);
        Assert.NotNull((string?)error["type"]);
        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Failed, call.Status);
        Assert.Equal(0m, call.Credits);
        Assert.Equal(8 * Rate, call.ReservedCredits);
        Assert.Equal(0m, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task A_provider_without_video_is_refused_before_anything_is_reserved_or_recorded()
    {
        var (host, openAi, gemini, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;

        using var response = await client.SendAsync(SdkRequest("deepseek/deepseek-chat", "A cat", "4", "1280x720", "url"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("DeepSeek does not generate video.", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["message"]);
        Assert.Empty(await host.CallsAsync(member));
        Assert.Empty(openAi.Requests);
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task The_call_is_processing_while_the_providers_job_runs()
    {
        var (host, openAi, gemini, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        openAi.Videos.Enqueue(new FakeVideoJob { PollsBeforeDone = 1, Seconds = "4", Hold = hold });

        var pending = client.SendAsync(SdkRequest("openai/sora-2", "A long take", "4", "720x1280", "file"));
        await AigneHub.Tests.Routing.RoutingTests.WaitUntilAsync(() => Task.FromResult(openAi.Videos.All.SingleOrDefault()?.Polls >= 3));

        var running = Assert.Single(await host.CallsAsync(member));
        Assert.Equal(ModelCallStatus.Processing, running.Status);
        Assert.Equal(4 * Rate, (await host.AccountAsync(member)).Reserved);
        Assert.False(pending.IsCompleted);

        hold.SetResult();
        using var response = await pending;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(4 * Rate, call.Credits);
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    private static VideoClient Sdk(HttpClient client, string key) =>
        new(new System.ClientModel.ApiKeyCredential(key), new VideoClientOptions { Endpoint = new Uri(client.BaseAddress!, "api/v2/") });

    private static System.ClientModel.BinaryContent Form(out string contentType, params (string Name, string Value)[] fields)
    {
        var boundary = Guid.NewGuid().ToString("N");
        contentType = $"multipart/form-data; boundary=\"{boundary}\"";
        var multipart = new MultipartFormDataContent(boundary);
        foreach (var (name, value) in fields)
        {
            multipart.Add(new StringContent(value, Encoding.UTF8, "text/plain"), name);
        }
        return System.ClientModel.BinaryContent.Create(multipart.ReadAsStream());
    }

    private static async Task<JsonNode> JsonOf(Task<System.ClientModel.ClientResult> result) =>
        JsonNode.Parse((await result).GetRawResponse().Content.ToString())!;

    [Fact]
    public async Task The_openai_videos_api_answers_the_job_at_once_and_the_hub_follows_it_to_its_content()
    {
        var (host, openAi, gemini, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;
        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        openAi.Videos.Enqueue(new FakeVideoJob { PollsBeforeDone = 1, Seconds = "8", Hold = hold });
        var sdk = Sdk(client, client.DefaultRequestHeaders.Authorization!.Parameter!);

        var created = await JsonOf(sdk.CreateVideoAsync(Form(out var type, ("model", "openai/sora-2"), ("prompt", "A paper boat"), ("seconds", "8"), ("size", "1280x720")), type));
        var id = (string)created["id"]!;
        Assert.StartsWith("video_", id);
        Assert.Equal("video", (string?)created["object"]);
        Assert.Contains((string?)created["status"], new[] { "queued", "in_progress" });
        Assert.Equal("8", (string?)created["seconds"]);
        Assert.Equal("1280x720", (string?)created["size"]);

        // The caller has its answer; the job is still running at the provider and the call is still open.
        Assert.Equal(ModelCallStatus.Processing, Assert.Single(await host.CallsAsync(member)).Status);
        Assert.Equal(8 * Rate, (await host.AccountAsync(member)).Reserved);
        Assert.Equal("in_progress", (string?)(await JsonOf(sdk.GetVideoAsync(id, null)))["status"]);

        // Another user finds nothing.
        using (var owner = host.Owner)
        {
            var (_, otherKey) = await owner.CreateMemberAsync();
            using var other = host.Api.CreateClient(otherKey);
            using var hidden = await other.GetAsync($"/api/v2/videos/{id}");
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
            Assert.Equal("not_found", (string?)JsonNode.Parse(await hidden.Content.ReadAsStringAsync())!["error"]!["code"]);
        }

        hold.SetResult();
        JsonNode done = created;
        await AigneHub.Tests.Routing.RoutingTests.WaitUntilAsync(async () => (string?)(done = await JsonOf(sdk.GetVideoAsync(id, null)))["status"] == "completed");
        Assert.Equal(100, (int?)done["progress"]);
        var content = await sdk.DownloadVideoAsync(id, null, null);
        var job = Assert.Single(openAi.Videos.All);
        Assert.Equal(FakeVideoJobs.ContentFor(job.Id), content.GetRawResponse().Content.ToArray());
        Assert.Equal("8", (string?)openAi.Requests.Single(r => r.Path == "/v1/videos").RequiredBody["seconds"]);

        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Success, call.Status);
        Assert.Equal(8m, call.VideoSeconds);
        Assert.Equal(8 * Rate, call.Credits);
        Assert.Equal(8 * Rate, await host.DebitsAsync(member));
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
    }

    [Fact]
    public async Task A_failed_job_of_the_openai_videos_api_reads_failed_and_is_charged_nothing()
    {
        var (host, openAi, gemini, member, client) = await StartAsync();
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;
        openAi.Videos.Enqueue(new FakeVideoJob { PollsBeforeDone = 2, FailMessage = "Blocked by moderation." });

        using var response = await client.PostAsync("/api/v2/videos", new StringContent(
            new JsonObject { ["model"] = "openai/sora-2", ["prompt"] = "Something blocked", ["seconds"] = "4" }.ToJsonString(), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;

        var call = await host.WaitForSettledAsync(member);
        Assert.Equal(ModelCallStatus.Failed, call.Status);
        Assert.Equal(0m, call.Credits);
        Assert.Equal(0m, (await host.AccountAsync(member)).Reserved);
        var view = JsonNode.Parse(await client.GetStringAsync($"/api/v2/videos/{id}"))!;
        Assert.Equal("failed", (string?)view["status"]);
        Assert.Contains("Blocked by moderation.", (string?)view["error"]!["message"]);
        using var content = await client.GetAsync($"/api/v2/videos/{id}/content");
        Assert.Equal(HttpStatusCode.NotFound, content.StatusCode);
    }

    [Fact]
    public async Task Finished_videos_beyond_the_memory_bound_let_the_oldest_go_and_its_content_answers_410()
    {
        const int bound = 1 << 20;
        const int videoBytes = 400 * 1024;
        var (host, openAi, gemini, member, client) = await StartAsync(f => f.Settings["AigneHub:Gateway:Video:MaxKeptVideoBytes"] = bound.ToString(CultureInfo.InvariantCulture));
        await using var _ = host;
        await using var __ = openAi;
        await using var ___ = gemini;
        using var ____ = client;

        // Each finished video is 400 KiB against a 1 MiB bound: the first two fit, the third lets the oldest go.
        List<string> ids = [];
        for (var i = 0; i < 3; i++)
        {
            openAi.Videos.Enqueue(new FakeVideoJob { PollsBeforeDone = 1, ContentBytes = videoBytes });
            using var response = await client.PostAsync("/api/v2/videos", new StringContent(
                new JsonObject { ["model"] = "openai/sora-2", ["prompt"] = $"Video {i}", ["seconds"] = "4" }.ToJsonString(), Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var id = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!;
            await AigneHub.Tests.Routing.RoutingTests.WaitUntilAsync(async () =>
                (string?)JsonNode.Parse(await client.GetStringAsync($"/api/v2/videos/{id}"))!["status"] == "completed");
            ids.Add(id);
        }
        var kept = (int)(bound / videoBytes);

        using (var oldest = await client.GetAsync($"/api/v2/videos/{ids[0]}/content"))
        {
            Assert.Equal(HttpStatusCode.Gone, oldest.StatusCode);
            Assert.Equal("video_expired", (string?)JsonNode.Parse(await oldest.Content.ReadAsStringAsync())!["error"]!["code"]);
        }
        foreach (var id in ids.Skip(ids.Count - kept))
        {
            using var content = await client.GetAsync($"/api/v2/videos/{id}/content");
            Assert.Equal(HttpStatusCode.OK, content.StatusCode);
            Assert.Equal(videoBytes, (await content.Content.ReadAsByteArrayAsync()).Length);
        }
        // The job itself stays retrievable, completed, and every call was charged its seconds.
        Assert.Equal("completed", (string?)JsonNode.Parse(await client.GetStringAsync($"/api/v2/videos/{ids[0]}"))!["status"]);
        await AigneHub.Tests.Routing.RoutingTests.WaitUntilAsync(async () => (await host.CallsAsync(member)).All(c => c.Status == ModelCallStatus.Success));
        Assert.Equal(3 * 4 * Rate, await host.DebitsAsync(member));
    }
}
