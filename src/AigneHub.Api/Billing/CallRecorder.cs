using System.Collections.Concurrent;
using AigneHub.Api.Gateway;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Billing;

/// <summary>
/// The gateway's billing seam. Start: rate limits (Redis), candidates without a rate dropped when billing is on,
/// then ONE statement that inserts the <c>processing</c> call and — for a billed v2 call — reserves its worst case
/// against the available balance. Complete: ONE statement guarded by <c>status = 'processing'</c> that records the
/// outcome, settles or releases the reservation, and for a charge writes the ledger debit and the meter event.
/// </summary>
internal sealed partial class CallRecorder(
    BillingDatabase database,
    IRateCatalog rates,
    CreditAccounts accounts,
    IRateLimiter rateLimiter,
    IOptionsMonitor<BillingOptions> options,
    TimeProvider time,
    ILogger<CallRecorder> logger) : ICallRecorder
{
    // Who to charge output tokens to for tokens-per-minute limits; the ticket does not carry the caller. Only
    // populated while token limits are configured.
    private readonly ConcurrentDictionary<Guid, (Guid? User, Guid? Key)> _tokenOwners = new();

    public async ValueTask<CallTicket> StartAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate, CancellationToken cancellationToken)
    {
        try
        {
            return await StartCoreAsync(context, candidates, estimate, cancellationToken);
        }
        catch (GatewayException refusal)
        {
            // A refused call is still a call: it gets its one record, `failed` with the reason, and costs nothing.
            await RecordRefusalAsync(context, candidates, estimate, refusal, cancellationToken);
            throw;
        }
    }

    private async Task RecordRefusalAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate,
        GatewayException refusal, CancellationToken cancellationToken)
    {
        var first = candidates.Count > 0 ? candidates[0] : null;
        var id = Guid.CreateVersion7();
        var now = time.GetUtcNow();
        try
        {
            await BillingSql.StartCallAsync(database.DataSource, NewCall(id, context, first, estimate, reserve: null, billed: false), cancellationToken);
            await BillingSql.SettleCallAsync(database.DataSource, new SettleCallCommand
            {
                Id = id,
                Status = ModelCallStatus.Failed,
                Provider = first?.Kind.Name,
                Model = first?.Model,
                DurationMs = Milliseconds(now - context.StartedAt),
                Attempts = 0,
                StatusCode = refusal.Status,
                ErrorReason = refusal.Message,
                CompletedAt = now,
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.RefusalNotRecorded(logger, ex, context.RequestId);
        }
    }

    private async ValueTask<CallTicket> StartCoreAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;

        // :: Step 1: rate limits, the cheapest refusal, before any database work.
        await rateLimiter.AcquireAsync(context.UserId, context.AccessKeyId, estimate.PromptTokens, cancellationToken);

        // :: Step 2: no silent zero price — with billing on, only rated candidates may serve.
        var snapshot = await rates.GetAsync(cancellationToken);
        IReadOnlyList<ModelTarget> targets = candidates;
        decimal worstCase = 0;
        if (o.Enabled)
        {
            List<ModelTarget> rated = new(candidates.Count);
            foreach (var target in candidates)
            {
                if (snapshot.Find(target.Kind.Name, target.Model, target.Type) is { } rate)
                {
                    rated.Add(target);
                    worstCase = Math.Max(worstCase, WorstCase(rate, estimate, o));
                }
            }
            if (rated.Count == 0)
            {
                throw GatewayException.BadRequest($"Unsupported model: {context.RequestedModel}", "model", "model_not_supported");
            }
            targets = rated;
        }

        // :: Step 3: the durable record, and the reservation when credits apply (one round trip).
        var billed = o.Enabled && context.Surface == ApiSurface.V2 && context.UserId is not null;
        if (billed)
        {
            await accounts.EnsureAsync(context.UserId!.Value, cancellationToken);
        }
        var first = targets.Count > 0 ? targets[0] : null;
        var id = Guid.CreateVersion7();
        var started = await BillingSql.StartCallAsync(database.DataSource,
            NewCall(id, context, first, estimate, billed ? worstCase : null, billed), cancellationToken);
        if (!started)
        {
            throw new GatewayException(402, "insufficient_quota",
                "Insufficient credits: your available balance does not cover this request. Add credits to continue.",
                code: "insufficient_quota")
            {
                Link = o.PaymentLink,
            };
        }
        if (rateLimiter.CountsTokens)
        {
            _tokenOwners[id] = (context.UserId, context.AccessKeyId);
        }
        // The reservation assumed the configured cap when the caller gave none: hold the provider to it.
        var cap = billed && estimate.MaxOutputTokens is null && context.Type == ModelType.Chat ? o.DefaultMaxOutputTokens : (int?)null;
        return new CallTicket(id, targets, cap);
    }

    public async ValueTask CompleteAsync(CallTicket ticket, CallResult result, CancellationToken cancellationToken)
    {
        var target = result.Target ?? (ticket.Targets.Count > 0 ? ticket.Targets[0] : null);
        var usage = result.Usage;
        decimal credits = 0;
        if (result.Success && target is not null)
        {
            var snapshot = await rates.GetAsync(cancellationToken);
            if (snapshot.Find(target.Kind.Name, target.Model, target.Type) is { } rate)
            {
                credits = CreditFormula.Compute(rate, new MeteredUsage(
                    usage?.InputTokens ?? 0,
                    usage?.OutputTokens ?? 0,
                    usage?.CacheCreationInputTokens ?? 0,
                    usage?.CacheReadInputTokens ?? 0,
                    result.Images,
                    ToDecimal(result.VideoSeconds)));
            }
            else if (options.CurrentValue.Enabled)
            {
                Log.RateVanished(logger, ticket.CallId, target.PublicName);
            }
        }

        var command = new SettleCallCommand
        {
            Id = ticket.CallId,
            Status = result.Success ? ModelCallStatus.Success : ModelCallStatus.Failed,
            Provider = target?.Kind.Name,
            Model = target?.Model,
            CredentialId = result.CredentialId,
            PromptTokens = usage?.InputTokens ?? 0,
            CompletionTokens = usage?.OutputTokens ?? 0,
            CacheCreationTokens = usage?.CacheCreationInputTokens ?? 0,
            CacheReadTokens = usage?.CacheReadInputTokens ?? 0,
            Images = result.Images,
            VideoSeconds = result.VideoSeconds is null ? null : ToDecimal(result.VideoSeconds),
            Credits = credits,
            Estimated = result.UsageEstimated,
            DurationMs = Milliseconds(result.Duration),
            GatewayTtfbMs = Milliseconds(result.GatewayTimeToFirstByte),
            ProviderTtfbMs = Milliseconds(result.ProviderTimeToFirstByte),
            Attempts = result.Attempts,
            StatusCode = result.StatusCode == 0 ? null : result.StatusCode,
            ErrorReason = result.ErrorReason ?? (result.CallerDisconnected && !result.Success ? "Caller disconnected" : null),
            CompletedAt = time.GetUtcNow(),
        };

        try
        {
            if (!await BillingSql.SettleCallAsync(database.DataSource, command, cancellationToken))
            {
                // Someone settled it first (the stale-call cleanup after a long stall): the guard kept it single.
                Log.AlreadySettled(logger, ticket.CallId);
            }
        }
        catch (Exception ex)
        {
            // The call stays `processing`; the Worker's cleanup closes it and releases its reservation. The
            // caller's response is not the place for a bookkeeping error.
            Log.SettleFailed(logger, ex, ticket.CallId);
        }

        if (_tokenOwners.TryRemove(ticket.CallId, out var owner) && usage is { OutputTokens: > 0 })
        {
            await rateLimiter.AddTokensAsync(owner.User, owner.Key, usage.OutputTokens);
        }
    }

    /// <summary>The most the call can cost: the prompt estimate at the dearer of the input and cache-write rates plus
    /// the output cap at the output rate (images or video seconds for those types), through the same formula as the
    /// real charge.</summary>
    internal static decimal WorstCase(RateCard rate, CallEstimate estimate, BillingOptions o) => rate.Type switch
    {
        ModelType.Image => CreditFormula.Compute(rate, new MeteredUsage(estimate.PromptTokens, 0, Images: Math.Max(1, estimate.Images))),
        ModelType.Video => CreditFormula.Compute(rate, new MeteredUsage(estimate.PromptTokens, 0, VideoSeconds: o.DefaultMaxVideoSeconds)),
        ModelType.Embedding => CreditFormula.Compute(rate, new MeteredUsage(estimate.PromptTokens, 0)),
        _ => CreditFormula.Compute(rate, CreditFormula.WorstCasePrompt(rate, estimate.PromptTokens, estimate.MaxOutputTokens ?? o.DefaultMaxOutputTokens)),
    };

    /// <summary>The <c>processing</c> row of a call, as it is written before any provider is called.</summary>
    private static StartCallCommand NewCall(Guid id, CallContext context, ModelTarget? first, CallEstimate estimate, decimal? reserve, bool billed) => new()
    {
        Id = id,
        UserId = context.UserId,
        AppId = context.AppId,
        AccessKeyId = context.AccessKeyId,
        Surface = context.Surface == ApiSurface.V1 ? CallSurface.V1 : CallSurface.V2,
        Provider = first?.Kind.Name,
        Model = first?.Model,
        RequestedModel = context.RequestedModel,
        Type = context.Type,
        Images = estimate.Images,
        ImageSize = estimate.ImageSize,
        ImageQuality = estimate.ImageQuality,
        Parameters = estimate.Parameters?.ToJsonString(),
        Reserve = reserve,
        Billed = billed,
        RequestId = context.RequestId,
        TraceId = context.TraceId,
        CreatedAt = context.StartedAt,
    };

    private static decimal ToDecimal(double? seconds) =>
        seconds is { } s && double.IsFinite(s) && s > 0 ? Math.Round((decimal)s, 3) : 0m;

    private static int? Milliseconds(TimeSpan? span) =>
        span is { } s ? (int)Math.Clamp(s.TotalMilliseconds, 0, int.MaxValue) : null;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Model call {CallId} was already settled; this settlement was ignored.")]
        public static partial void AlreadySettled(ILogger logger, Guid callId);

        [LoggerMessage(2, LogLevel.Error, "Settling model call {CallId} failed; the stale-call cleanup will close it.")]
        public static partial void SettleFailed(ILogger logger, Exception exception, Guid callId);

        [LoggerMessage(3, LogLevel.Warning, "Model call {CallId} on {Target} completed after its rate was removed; it is recorded without charge.")]
        public static partial void RateVanished(ILogger logger, Guid callId, string target);

        [LoggerMessage(4, LogLevel.Error, "Recording the refused call of request {RequestId} failed.")]
        public static partial void RefusalNotRecorded(ILogger logger, Exception exception, string requestId);
    }
}
