using System.Diagnostics;
using AigneHub.Api.Billing;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>One provider attempt of a call: where it goes, with which credential, under which span.</summary>
public sealed class Attempt(ModelTarget target, ProviderEndpoint endpoint, CredentialLease? lease, Activity? span)
{
    public ModelTarget Target { get; } = target;

    public ProviderEndpoint Endpoint { get; } = endpoint;

    public CredentialLease? Lease { get; } = lease;

    public Activity? Span { get; } = span;

    /// <summary>The most output tokens the provider may produce for this call (see <see cref="CallTicket.OutputTokenCap"/>).</summary>
    public int? OutputTokenCap { get; init; }

    public long StartedAt { get; } = Stopwatch.GetTimestamp();

    public long? ProviderFirstByteAt { get; private set; }

    /// <summary>The provider's answer arrived (a whole answer, or a stream's first event).</summary>
    public void MarkProviderFirstByte() => ProviderFirstByteAt ??= Stopwatch.GetTimestamp();
}

/// <summary>What an attempt achieved.</summary>
public sealed record AttemptResult
{
    /// <summary>More than any upload or job holds (a provider reporting more is not believed beyond it).</summary>
    private const double MaxSeconds = 1e9;

    /// <summary>Seconds (of audio heard, of video delivered) as recorded and billed: to the millisecond, rounded up
    /// (never less than was delivered).</summary>
    public static decimal BilledSeconds(double seconds) =>
        double.IsFinite(seconds) && seconds > 0 ? Math.Ceiling((decimal)Math.Min(seconds, MaxSeconds) * 1000m) / 1000m : 0m;

    public TokenUsage? Usage { get; init; }

    public bool UsageEstimated { get; init; }

    public int Images { get; init; }

    /// <summary>Audio: characters spoken.</summary>
    public long Characters { get; init; }

    /// <summary>Audio: seconds heard, as billed.</summary>
    public decimal? AudioSeconds { get; init; }

    /// <summary>Video: seconds delivered, as billed.</summary>
    public decimal? VideoSeconds { get; init; }

    /// <summary>The caller left before the answer was complete (what was generated is still billed).</summary>
    public bool CallerGone { get; init; }

    /// <summary>The provider failed after part of the answer reached the caller: that part is billed (its usage
    /// estimated unless the provider had reported it), and this is the reason on the record.</summary>
    public ProviderException? ProviderCut { get; init; }
}

/// <summary>How one protocol answers its caller, for any kind of call; it writes through <see cref="Caller"/>.</summary>
public interface IAnswerWriter
{
    CallerResponse Caller { get; }

    /// <summary>Tells the caller about a provider failure after it was sent bytes (a stream's error event; a JSON
    /// answer has no way to, so such writers do nothing).</summary>
    Task WriteFailureAfterCommitAsync(string message);
}
