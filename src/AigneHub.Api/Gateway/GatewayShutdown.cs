using Microsoft.Extensions.Options;

namespace AigneHub.Api.Gateway;

/// <summary>Configuration <c>AigneHub:Gateway</c>.</summary>
public sealed class GatewayShutdownOptions
{
    public const string Section = "AigneHub:Gateway";

    /// <summary>How long calls in flight may go on after the process is asked to stop (SIGTERM) before they are ended.</summary>
    public int ShutdownDrainSeconds { get; set; } = 15;
}

/// <summary>
/// Graceful shutdown of the gateway. On SIGTERM Kestrel stops accepting connections and waits for the requests in
/// flight; they get <see cref="GatewayShutdownOptions.ShutdownDrainSeconds"/> to finish, then <see cref="Drained"/>
/// fires and the pipeline ends every call still running — a stream with its protocol's error event, an answer not
/// yet begun with a 503 and Retry-After — and settles it. The host waits the drain plus the settlement budget
/// (<c>AigneHub:Billing:SettleSeconds</c>) plus the kept settlements' last try (its <c>ShutdownTimeout</c>, 30 s by
/// default, would cut streams with no word to the caller, which is what this replaces).
/// </summary>
public sealed class GatewayShutdown : IDisposable
{
    private readonly CancellationTokenSource _drained;
    private readonly CancellationTokenRegistration _stopping;

    public GatewayShutdown(IHostApplicationLifetime lifetime, IOptions<GatewayShutdownOptions> options, TimeProvider time)
    {
        _drained = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        var drain = TimeSpan.FromSeconds(options.Value.ShutdownDrainSeconds);
        _stopping = lifetime.ApplicationStopping.Register(() => _drained.CancelAfter(drain));
    }

    /// <summary>Cancelled when the drain after a stop request has run out.</summary>
    public CancellationToken Drained => _drained.Token;

    public void Dispose()
    {
        _stopping.Dispose();
        _drained.Dispose();
    }
}

internal sealed class ValidateGatewayShutdownOptions : IValidateOptions<GatewayShutdownOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayShutdownOptions options) =>
        options.ShutdownDrainSeconds is < 0 or > 3_600
            ? ValidateOptionsResult.Fail($"{GatewayShutdownOptions.Section}:ShutdownDrainSeconds must be between 0 and 3600.")
            : ValidateOptionsResult.Success;
}
