using AigneHub.Api.Providers;
using AigneHub.Api.Providers.Gemini;
using AigneHub.Tests.Fakes;
using Microsoft.Extensions.Options;

namespace AigneHub.Tests.Providers.Gemini;

public sealed class GeminiEmbeddingAdapterTests : IAsyncLifetime
{
    private FakeGemini _fake = null!;
    private ProviderHttp _http = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeGemini.StartAsync();
        _fake.ApiKey = "AIza-test";
        _http = new ProviderHttp(Options.Create(new ProviderHttpOptions()));
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _fake.DisposeAsync();
    }

    private ProviderEndpoint Endpoint(string key = "AIza-test") => new("google", _fake.BaseUrl, key, _http.Client);

    [Fact]
    public async Task Batch_embeddings_come_back_in_input_order_with_estimated_usage()
    {
        var adapter = new GeminiEmbeddingAdapter(_http);
        string[] inputs = ["The quick brown fox", "jumps over", "the lazy dog."];

        var response = await adapter.EmbedAsync(Endpoint(), new EmbeddingRequest { Model = "gemini-embedding-001", Inputs = inputs, Dimensions = 16 }, CancellationToken.None);

        var sent = _fake.LastRequest;
        Assert.Equal("/v1beta/models/gemini-embedding-001:batchEmbedContents", sent.Path);
        var requests = sent.RequiredBody["requests"]!.AsArray();
        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal("models/gemini-embedding-001", (string?)r!["model"]));
        Assert.All(requests, r => Assert.Equal(16, (int?)r!["outputDimensionality"]));
        Assert.Equal("jumps over", (string?)requests[1]!["content"]!["parts"]![0]!["text"]);

        Assert.Equal("gemini-embedding-001", response.Model);
        Assert.Equal(inputs.Select(i => FakeGemini.FakeVector(i, 16)), response.Embeddings);
        // 19, 10 and 13 characters: about four per token, rounded up.
        Assert.Equal(5 + 3 + 4, response.Usage.InputTokens);
        Assert.Equal(0, response.Usage.OutputTokens);
    }

    [Fact]
    public async Task A_models_prefix_is_not_doubled_and_errors_are_classified()
    {
        var adapter = new GeminiEmbeddingAdapter(_http);
        var response = await adapter.EmbedAsync(Endpoint(), new EmbeddingRequest { Model = "models/text-embedding-004", Inputs = ["hi"] }, CancellationToken.None);
        Assert.Equal("/v1beta/models/text-embedding-004:batchEmbedContents", _fake.LastRequest.Path);
        Assert.Equal(8, response.Embeddings[0].Length);
        Assert.Null(_fake.LastRequest.RequiredBody["requests"]![0]!["outputDimensionality"]);

        _fake.Enqueue(new FakeReply { FailStatus = 429, FailMessage = "Resource has been exhausted (e.g. check quota)." });
        var error = await Assert.ThrowsAsync<ProviderException>(() =>
            adapter.EmbedAsync(Endpoint(), new EmbeddingRequest { Model = "text-embedding-004", Inputs = ["hi"] }, CancellationToken.None));
        Assert.Equal(ProviderErrorClass.RateLimited, error.ErrorClass);
        Assert.Contains("Resource has been exhausted", error.Message);

        var badKey = await Assert.ThrowsAsync<ProviderException>(() =>
            adapter.EmbedAsync(Endpoint("AIza-wrong"), new EmbeddingRequest { Model = "text-embedding-004", Inputs = ["hi"] }, CancellationToken.None));
        Assert.Equal(ProviderErrorClass.InvalidCredential, badKey.ErrorClass);
    }
}
