using System.Diagnostics;
using System.Diagnostics.Metrics;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway;

/// <summary>
/// Traces and metrics of the gateway (source and meter <c>AigneHub.Gateway</c>, exported by the service
/// defaults). Span attributes follow the OpenTelemetry GenAI conventions.
/// </summary>
public sealed class GatewayTelemetry : IDisposable
{
    public const string Name = "AigneHub.Gateway";

    public static readonly ActivitySource Source = new(Name);

    private readonly Meter _meter;

    public GatewayTelemetry(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        Requests = _meter.CreateCounter<long>("aignehub.gateway.requests", "{request}", "Gateway requests by model, provider and outcome.");
        Tokens = _meter.CreateCounter<long>("aignehub.gateway.tokens", "{token}", "Tokens by model and direction (input/output).");
        ProviderLatency = _meter.CreateHistogram<double>("aignehub.gateway.provider.duration", "s", "Provider call duration.");
        TimeToFirstByte = _meter.CreateHistogram<double>("aignehub.gateway.ttfb", "s", "Time to the first byte sent to the caller.");
        Overhead = _meter.CreateHistogram<double>("aignehub.gateway.overhead", "s",
            "Time the gateway adds before the first byte: caller TTFB minus provider TTFB.");
    }

    public Counter<long> Requests { get; }

    public Counter<long> Tokens { get; }

    public Histogram<double> ProviderLatency { get; }

    public Histogram<double> TimeToFirstByte { get; }

    public Histogram<double> Overhead { get; }

    public static Activity? StartProviderSpan(ModelTarget target, string operation)
    {
        var activity = Source.StartActivity($"{operation} {target.Model}", ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("gen_ai.operation.name", operation);
            activity.SetTag("gen_ai.system", target.Kind.Name);
            activity.SetTag("gen_ai.request.model", target.Model);
            activity.SetTag("server.address", target.BaseUrl.Host);
        }
        return activity;
    }

    public static void RecordUsage(Activity? activity, TokenUsage? usage)
    {
        if (activity is null || usage is null)
        {
            return;
        }
        activity.SetTag("gen_ai.usage.input_tokens", usage.InputTokens);
        activity.SetTag("gen_ai.usage.output_tokens", usage.OutputTokens);
        if (usage.CacheReadInputTokens > 0)
        {
            activity.SetTag("gen_ai.usage.cache_read_input_tokens", usage.CacheReadInputTokens);
        }
    }

    public void Dispose() => _meter.Dispose();
}
