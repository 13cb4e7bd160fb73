using System.Diagnostics;
using System.Text;
using AigneHub.Tests.Infrastructure;
using Xunit.Abstractions;

namespace AigneHub.Tests.Gateway;

/// <summary>
/// Measures the time to first byte the gateway adds to a streamed chat: the same request sent straight to the fake
/// provider and through AigneHub, sequentially, after a warm-up. Prints the figures; asserts only that every call
/// streamed (a wall-clock assertion would make the test flaky, and the number belongs in a report, not a gate).
/// </summary>
public sealed class GatewayOverheadBenchmark(GatewayFixture hub, ITestOutputHelper output) : IClassFixture<GatewayFixture>
{
    private const int Warmup = 20;
    private const int Samples = 200;

    [Fact]
    public async Task Measure_first_byte_overhead_of_a_streamed_chat()
    {
        using var direct = new HttpClient { BaseAddress = hub.Primary.BaseUrl };
        direct.DefaultRequestHeaders.Authorization = new("Bearer", GatewayFixture.ProviderKey);

        var directTimes = await MeasureAsync(direct, "chat/completions", "gpt-4o-mini");
        var gatewayTimes = await MeasureAsync(hub.Owner, "/api/v2/chat/completions", "openai/gpt-4o-mini");

        output.WriteLine($"TTFB direct to provider: p50 {P(directTimes, 50):0.00} ms, p95 {P(directTimes, 95):0.00} ms");
        output.WriteLine($"TTFB through AigneHub:   p50 {P(gatewayTimes, 50):0.00} ms, p95 {P(gatewayTimes, 95):0.00} ms");
        output.WriteLine($"Added by the gateway:    p50 {P(gatewayTimes, 50) - P(directTimes, 50):0.00} ms, p95 {P(gatewayTimes, 95) - P(directTimes, 95):0.00} ms ({Samples} sequential streamed calls, billing off)");
        Assert.Equal(Samples, gatewayTimes.Count);
    }

    private static async Task<List<double>> MeasureAsync(HttpClient client, string path, string model)
    {
        var body = $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hello"}],"stream":true}""";
        var times = new List<double>(Samples);
        for (var i = 0; i < Warmup + Samples; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            var start = Stopwatch.GetTimestamp();
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            await using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[1];
            Assert.Equal(1, await stream.ReadAsync(buffer));
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            await stream.CopyToAsync(Stream.Null);
            if (i >= Warmup)
            {
                times.Add(elapsed);
            }
        }
        return times;
    }

    private static double P(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }
}
