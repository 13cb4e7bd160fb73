using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using AigneHub.Api.Gateway;
using AigneHub.Tests.Fakes;

namespace AigneHub.Tests.Gateway;

/// <summary>Each call is one trace: the server span, a provider span with the GenAI attributes, the id in a header.</summary>
public sealed class GatewayTracingTests(GatewayFixture hub) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task A_chat_call_is_one_trace_with_a_provider_span_carrying_gen_ai_attributes()
    {
        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GatewayTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        hub.Primary.Enqueue(new FakeReply { Text = "traced", InputTokens = 12, OutputTokens = 3 });

        using var response = await hub.Owner.PostAsync("/api/v2/chat/completions", new StringContent(
            """{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"trace me"}]}""", Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        var traceId = response.Headers.GetValues("x-trace-id").Single();

        var span = Assert.Single(spans, s => s.TraceId.ToString() == traceId);
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal("openai", span.GetTagItem("gen_ai.system"));
        Assert.Equal("gpt-4o-mini", span.GetTagItem("gen_ai.request.model"));
        Assert.Equal("chat", span.GetTagItem("gen_ai.operation.name"));
        Assert.Equal(12, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(3, span.GetTagItem("gen_ai.usage.output_tokens"));
        // The provider span hangs under the request's server span, not a trace of its own.
        Assert.NotEqual(default, span.ParentSpanId);
    }
}
