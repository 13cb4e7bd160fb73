using System.Text.Json.Nodes;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Billing;

/// <summary>Which front door a call came through: v1 (signed component, subscription) or v2 (user, credits).</summary>
public enum ApiSurface
{
    V1,
    V2,
}

/// <summary>Who is calling and for what, fixed when the request is authenticated and parsed.</summary>
public sealed record CallContext
{
    public Guid? UserId { get; init; }

    public Guid? AccessKeyId { get; init; }

    /// <summary>The calling app: the v1 app id, else the <c>x-aigne-hub-client-did</c> header, else null.</summary>
    public string? AppId { get; init; }

    public required ApiSurface Surface { get; init; }

    /// <summary>The model name as the caller wrote it (<c>provider/model</c> or unprefixed).</summary>
    public required string RequestedModel { get; init; }

    public required ModelType Type { get; init; }

    /// <summary><c>x-request-id</c> if the caller sent one, else the server's trace identifier.</summary>
    public required string RequestId { get; init; }

    public string? TraceId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public bool Streaming { get; init; }
}

/// <summary>What the call may cost at most, known before the provider is called (for the credit reservation).</summary>
public sealed record CallEstimate
{
    /// <summary>Estimated prompt tokens for any provider (rate limits, the record): see <see cref="TokenEstimator"/>.</summary>
    public int PromptTokens { get; init; }

    /// <summary>A chat prompt's estimate per provider family (the reservation takes each candidate's own bound);
    /// null for kinds of call whose prompt is one text (<see cref="PromptTokens"/> then).</summary>
    public PromptEstimate? Prompt { get; init; }

    /// <summary>The prompt bound for one candidate.</summary>
    public int PromptTokensFor(ProviderKind kind) => Prompt?.For(kind) ?? PromptTokens;

    /// <summary>The caller's max output tokens, if it set one (else billing applies its configured cap).</summary>
    public int? MaxOutputTokens { get; init; }

    public int Images { get; init; }

    public string? ImageSize { get; init; }

    public string? ImageQuality { get; init; }

    /// <summary>Audio: characters to speak (known exactly before the call).</summary>
    public long Characters { get; init; }

    /// <summary>Audio: the most seconds the upload can hold (its container's duration, else a bound from its size).</summary>
    public decimal AudioSeconds { get; init; }

    /// <summary>Video: the seconds asked for (null: <see cref="BillingOptions.DefaultMaxVideoSeconds"/> is reserved).</summary>
    public int? VideoSeconds { get; init; }

    /// <summary>Model parameters to keep on the call record (temperature, max_tokens, size, ...).</summary>
    public JsonObject? Parameters { get; init; }
}

/// <summary>
/// Returned by <see cref="ICallRecorder.StartAsync"/>: the durable call id, the candidates the caller may be served
/// by (billing removes the ones without a rate), in the resolver's order, and for a chat call the output cap the
/// provider must be held to (the caller's, else the one the reservation assumed), so no answer outgrows its
/// reservation; null only when neither the caller nor billing set one.
/// </summary>
public sealed record CallTicket(Guid CallId, IReadOnlyList<ModelTarget> Targets, int? OutputTokenCap = null)
{
    /// <summary>The longest the call may run; the gateway ends it then, billing what was delivered.</summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>The credits reserved for a billed call (its worst case); null when nothing was reserved.</summary>
    public decimal? Reserved { get; init; }

    /// <summary>The credit account a billed call reserved from and settles into; null when it touches none.</summary>
    public Guid? Account { get; init; }

    /// <summary>Image: the size and quality asked for, which price each image returned as they priced the reservation.</summary>
    public string? ImageSize { get; init; }

    /// <inheritdoc cref="ImageSize"/>
    public string? ImageQuality { get; init; }
}

/// <summary>How the call ended. Exactly one per ticket.</summary>
public sealed record CallResult
{
    public required bool Success { get; init; }

    /// <summary>The target that finally served (or last failed) the call.</summary>
    public ModelTarget? Target { get; init; }

    public Guid? CredentialId { get; init; }

    public TokenUsage? Usage { get; init; }

    public int Images { get; init; }

    /// <summary>Video: seconds delivered, as billed.</summary>
    public decimal? VideoSeconds { get; init; }

    /// <summary>Audio: characters spoken.</summary>
    public long Characters { get; init; }

    /// <summary>Audio: seconds heard, as billed.</summary>
    public decimal? AudioSeconds { get; init; }

    /// <summary>Usage was estimated by the gateway (the provider reported none, e.g. the stream was cut).</summary>
    public bool UsageEstimated { get; init; }

    public string? ErrorReason { get; init; }

    /// <summary>The HTTP status the caller received (or would have, had it stayed).</summary>
    public int StatusCode { get; init; }

    public bool CallerDisconnected { get; init; }

    public required TimeSpan Duration { get; init; }

    /// <summary>Time to the first byte sent to the caller.</summary>
    public TimeSpan? GatewayTimeToFirstByte { get; init; }

    /// <summary>Time to the provider's first byte (headers, for a stream the first event).</summary>
    public TimeSpan? ProviderTimeToFirstByte { get; init; }

    /// <summary>Provider attempts made (failover); the call is still one record.</summary>
    public int Attempts { get; init; } = 1;
}

/// <summary>
/// The billing boundary of the request pipeline. <see cref="StartAsync"/> runs after authentication and model
/// resolution and before any provider call: it makes the call durable as <c>processing</c> and, where credit
/// billing applies, reserves the worst-case cost — or refuses it (a <see cref="Refusal"/>: rate limited,
/// insufficient credits, unsupported model), still recording the refused call. <see cref="CompleteAsync"/>
/// settles an admitted call exactly once, success or failure. Billing says why; the gateway says it in the
/// caller's protocol.
/// </summary>
public interface ICallRecorder
{
    ValueTask<Admission> StartAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate, CancellationToken cancellationToken);

    /// <summary>Settles the call, waiting at most <see cref="BillingOptions.SettleSeconds"/> (or until
    /// <paramref name="cancellationToken"/>); a settlement the database cannot take in that time is kept and retried
    /// (<see cref="PendingSettlements"/>), never dropped with the request. The gateway passes no token: the
    /// settlement outlives the caller's connection.</summary>
    ValueTask CompleteAsync(CallTicket ticket, CallResult result, CancellationToken cancellationToken);
}

/// <summary>Why billing refused a call before any provider was called.</summary>
public enum RefusalKind
{
    /// <summary>A requests- or tokens-per-minute limit would be exceeded (nothing was counted).</summary>
    RateLimited,
    /// <summary>The available balance does not cover the call's worst case.</summary>
    InsufficientCredits,
    /// <summary>Credit billing is on and no candidate has a rate: no model is served at a silent zero price.</summary>
    UnsupportedModel,
    /// <summary>What admission needs (Redis for rate limits, the database for the record) is failing right now:
    /// the call is refused rather than served unmetered or unlimited.</summary>
    Unavailable,
}

/// <summary>A refused call: the reason, what the caller may do about it (wait, or follow a link to buy credits).</summary>
public sealed record Refusal(RefusalKind Kind, string Message)
{
    /// <summary>When a rate-limited (or <see cref="RefusalKind.Unavailable"/>) caller may try again.</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Where to buy credits (<see cref="RefusalKind.InsufficientCredits"/>).</summary>
    public string? Link { get; init; }

    /// <summary>The status the refused call is recorded with: the one the gateway answers it with.</summary>
    public int StatusCode => Kind switch
    {
        RefusalKind.RateLimited => 429,
        RefusalKind.InsufficientCredits => 402,
        RefusalKind.Unavailable => 503,
        _ => 400,
    };
}

/// <summary>The outcome of <see cref="ICallRecorder.StartAsync"/>: a ticket to call providers with, or a refusal.</summary>
public sealed record Admission
{
    private Admission(CallTicket? ticket, Refusal? refusal) => (Ticket, Refusal) = (ticket, refusal);

    public CallTicket? Ticket { get; }

    public Refusal? Refusal { get; }

    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Ticket))]
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(false, nameof(Refusal))]
    public bool Admitted => Ticket is not null;

    public static Admission Admit(CallTicket ticket) => new(ticket, null);

    public static Admission Refuse(Refusal refusal) => new(null, refusal);
}
