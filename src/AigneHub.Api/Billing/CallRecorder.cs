using System.Collections.Concurrent;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Billing;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Api.Billing;

/// <summary>
/// The gateway's billing seam. Start: rate limits (Redis), candidates without a rate dropped when billing is on,
/// then ONE statement that inserts the <c>processing</c> call and — for a billed v2 call — reserves its worst case
/// against the available balance (group-committed with the starts that arrive meanwhile: <see cref="CallStarts"/>). Complete: ONE statement guarded by <c>status = 'processing'</c> that records the
/// outcome, settles or releases the reservation, and for a charge writes the ledger debit and the meter event.
/// </summary>
internal sealed partial class CallRecorder(
    NpgsqlDataSource database,
    IRateCatalog rates,
    CreditAccounts accounts,
    IRateLimiter rateLimiter,
    CallLeases leases,
    PendingSettlements pending,
    CallStarts starts,
    CallSettlements settlements,
    BillingTelemetry telemetry,
    IOptionsMonitor<BillingOptions> options,
    TimeProvider time,
    ILogger<CallRecorder> logger) : ICallRecorder
{
    // Who to charge output tokens to for tokens-per-minute limits; the ticket does not carry the caller. Only
    // populated while token limits are configured.
    private readonly ConcurrentDictionary<Guid, (Guid? User, Guid? Key)> _tokenOwners = new();

    /// <summary>A refused call's record is written even after its caller left, within this long.</summary>
    private static readonly TimeSpan RecordTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan BusyRetryAfter = TimeSpan.FromSeconds(2);

    /// <summary>Settlements this process is making, per account: the answer ends for its caller before its settlement
    /// commits, so a start of the same account refused meanwhile waits for them and is tried once more.</summary>
    private readonly ConcurrentDictionary<Guid, int> _settling = new();

    /// <summary>First pause before a settlement is retried after a transient database error; doubles each time.</summary>
    private static readonly TimeSpan SettleRetryDelay = TimeSpan.FromMilliseconds(100);

    public async ValueTask<Admission> StartAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate, CancellationToken cancellationToken)
    {
        Admission admission;
        try
        {
            admission = await StartCoreAsync(context, candidates, estimate, cancellationToken);
        }
        catch (NpgsqlException ex) when (ex.IsTransient)
        {
            // The database is overloaded or restarting (no connection within the pool's timeout, a failover): the
            // caller is told to come back, in its protocol, rather than given a 500.
            Log.AdmissionUnavailable(logger, ex, context.RequestId);
            admission = Admission.Refuse(new Refusal(RefusalKind.Unavailable, "AigneHub is busy; retry shortly.") { RetryAfter = BusyRetryAfter });
        }
        if (admission.Refusal is { } refusal)
        {
            // A refused call is still a call: it gets its one record, `failed` with the reason, and costs nothing.
            await RecordRefusalAsync(context, candidates, estimate, refusal);
        }
        return admission;
    }

    private async Task RecordRefusalAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate, Refusal refusal)
    {
        var first = candidates.Count > 0 ? candidates[0] : null;
        var id = Guid.CreateVersion7();
        var now = time.GetUtcNow();
        // The caller may already be gone (a refusal is often why it leaves): the record outlives its connection.
        using var timeout = new CancellationTokenSource(RecordTimeout);
        var cancellationToken = timeout.Token;
        try
        {
            await BillingSql.StartCallAsync(database, NewCall(id, context, first, estimate, reserve: null, billed: false), cancellationToken);
            await BillingSql.SettleCallAsync(database, new SettleCallCommand
            {
                Id = id,
                Status = ModelCallStatus.Failed,
                Provider = first?.Kind.Name,
                Model = first?.Model,
                DurationMs = Milliseconds(now - context.StartedAt),
                Attempts = 0,
                StatusCode = refusal.StatusCode,
                ErrorReason = refusal.Message,
                CompletedAt = now,
            }, cancellationToken);
        }
        catch (Exception ex)
        {
            Log.RefusalNotRecorded(logger, ex, context.RequestId);
        }
    }

    private async ValueTask<Admission> StartCoreAsync(CallContext context, IReadOnlyList<ModelTarget> candidates, CallEstimate estimate, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;

        // :: Step 1: rate limits, the cheapest refusal, before any database work.
        if (await rateLimiter.AcquireAsync(context.UserId, context.AccessKeyId, estimate.PromptTokens, cancellationToken) is { } limited)
        {
            return Admission.Refuse(limited);
        }

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
                    worstCase = Math.Max(worstCase, WorstCase(rate, estimate.PromptTokensFor(target.Kind), estimate, o));
                }
            }
            if (rated.Count == 0)
            {
                // Say why: the model resolves, only its price is missing, and an admin can fix that.
                var unrated = string.Join(", ", candidates.Select(c => c.PublicName).Distinct(StringComparer.Ordinal));
                return Admission.Refuse(new Refusal(RefusalKind.UnsupportedModel,
                    $"Unsupported model: {context.RequestedModel} (no rate is set for {unrated}; with credit billing on, an admin sets one under Models)"));
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
        var call = NewCall(id, context, first, estimate, billed ? worstCase : null, billed);
        var started = await starts.StartAsync(call, cancellationToken);
        if (!started && billed && await SettledMeanwhileAsync(context.UserId!.Value, cancellationToken))
        {
            // Nothing was written by the refused start: the same command is tried again on the released balance.
            started = await starts.StartAsync(call, cancellationToken);
        }
        if (!started)
        {
            return Admission.Refuse(new Refusal(RefusalKind.InsufficientCredits,
                "Insufficient credits: your available balance does not cover this request. Add credits to continue.")
            {
                Link = o.PaymentLink,
            });
        }
        if (rateLimiter.CountsTokens)
        {
            _tokenOwners[id] = (context.UserId, context.AccessKeyId);
        }
        // The provider is held to the cap the reservation assumed: the caller's, else (billed) the configured one.
        var cap = context.Type != ModelType.Chat ? null
            : billed ? estimate.MaxOutputTokens ?? o.DefaultMaxOutputTokens
            : estimate.MaxOutputTokens;
        leases.Hold(id);
        return Admission.Admit(new CallTicket(id, targets, cap)
        {
            MaxDuration = TimeSpan.FromMinutes(o.MaxCallMinutes),
            Reserved = billed ? worstCase : null,
            Account = billed ? context.UserId : null,
            ImageSize = estimate.ImageSize,
            ImageQuality = estimate.ImageQuality,
        });
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
                    result.VideoSeconds ?? 0,
                    result.Characters,
                    result.AudioSeconds ?? 0,
                    ticket.ImageSize,
                    ticket.ImageQuality));
            }
            else if (options.CurrentValue.Enabled)
            {
                Log.RateVanished(logger, ticket.CallId, target.PublicName);
            }
        }
        if (ticket.Reserved is > 0 and var reserved && result.Success)
        {
            telemetry.ReservationUse.Record((double)(credits / reserved));
            if (credits > reserved)
            {
                // Billed as used; the estimate missed. The account may go below zero, and is refused until topped up.
                telemetry.ChargesOverReservation.Add(1);
                Log.ChargeOverReservation(logger, ticket.CallId, target?.PublicName ?? "", credits, reserved);
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
            VideoSeconds = result.VideoSeconds,
            Characters = (int)Math.Min(result.Characters, int.MaxValue),
            AudioSeconds = result.AudioSeconds,
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

        var kept = false;
        if (ticket.Account is { } settlingAccount)
        {
            _settling.AddOrUpdate(settlingAccount, 1, (_, n) => n + 1);
        }
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(TimeSpan.FromSeconds(options.CurrentValue.SettleSeconds));
        try
        {
            if (!await SettleWithRetriesAsync(command, budget.Token))
            {
                // Someone settled it first (the stale-call cleanup after a long stall, or our own earlier attempt
                // whose answer was lost with its connection): the guard kept it single.
                Log.AlreadySettled(logger, ticket.CallId);
            }
        }
        catch (Exception ex) when (PendingSettlements.Retryable(ex))
        {
            // The database is away or too slow for the request's budget: the settlement is kept and lands when it
            // answers (the lease stays held meanwhile, so the cleanup leaves the call alone).
            kept = pending.TryKeep(command);
        }
        catch (Exception ex)
        {
            // The call stays `processing`; the Worker's cleanup closes it and releases its reservation. The
            // caller's response is not the place for a bookkeeping error.
            Log.SettleFailed(logger, ex, ticket.CallId);
        }
        finally
        {
            // Settled, or left for the cleanup: either way this request no longer vouches for the call.
            if (!kept)
            {
                leases.Release(ticket.CallId);
            }
            if (ticket.Account is { } settledAccount && _settling.AddOrUpdate(settledAccount, 0, (_, n) => n - 1) == 0)
            {
                _settling.TryRemove(KeyValuePair.Create(settledAccount, 0));
            }
        }

        if (_tokenOwners.TryRemove(ticket.CallId, out var owner) && usage is { OutputTokens: > 0 })
        {
            await rateLimiter.AddTokensAsync(owner.User, owner.Key, usage.OutputTokens);
        }
    }

    /// <summary>Whether settlements of <paramref name="account"/> were in flight here; if so, waits (a millisecond at a
    /// time, at most the settlement budget) until none is. Only a refused start of such an account pays this.</summary>
    private async Task<bool> SettledMeanwhileAsync(Guid account, CancellationToken cancellationToken)
    {
        if (!_settling.ContainsKey(account))
        {
            return false;
        }
        var deadline = time.GetUtcNow().AddSeconds(options.CurrentValue.SettleSeconds);
        while (_settling.ContainsKey(account) && time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken);
        }
        return true;
    }

    /// <summary>
    /// Retries a settlement that failed transiently (serialization failure, deadlock, a dropped connection, an
    /// exhausted pool) until <paramref name="cancellationToken"/> — the caller's settlement budget — runs out.
    /// Retrying is safe: a failed statement changed nothing, and one that did commit before its answer was lost is
    /// refused by the <c>status = 'processing'</c> guard.
    /// </summary>
    private async Task<bool> SettleWithRetriesAsync(SettleCallCommand command, CancellationToken cancellationToken)
    {
        var delay = SettleRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await settlements.SettleAsync(command, cancellationToken);
            }
            catch (Exception ex) when (PendingSettlements.Retryable(ex) && !cancellationToken.IsCancellationRequested)
            {
                Log.SettleRetried(logger, ex, command.Id, attempt);
                await Task.Delay(delay, time, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    /// <summary>The most the call can cost: the prompt estimate at the dearer of the input and cache-write rates plus
    /// the output cap at the output rate (images or video seconds for those types; audio: its characters and the
    /// upload's most seconds), through the same formula as the real charge.</summary>
    internal static decimal WorstCase(RateCard rate, int promptTokens, CallEstimate estimate, BillingOptions o) => rate.Type switch
    {
        ModelType.Image => CreditFormula.Compute(rate, new MeteredUsage(promptTokens, 0, Images: Math.Max(1, estimate.Images),
            ImageSize: estimate.ImageSize, ImageQuality: estimate.ImageQuality)),
        ModelType.Video => CreditFormula.Compute(rate, new MeteredUsage(promptTokens, 0, VideoSeconds: estimate.VideoSeconds ?? o.DefaultMaxVideoSeconds)),
        ModelType.Embedding => CreditFormula.Compute(rate, new MeteredUsage(promptTokens, 0)),
        ModelType.Audio => CreditFormula.Compute(rate, new MeteredUsage(0, 0, Characters: estimate.Characters, AudioSeconds: estimate.AudioSeconds)),
        _ => CreditFormula.Compute(rate, CreditFormula.WorstCasePrompt(rate, promptTokens, estimate.MaxOutputTokens ?? o.DefaultMaxOutputTokens)),
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

        [LoggerMessage(5, LogLevel.Warning, "Settling model call {CallId} failed transiently (attempt {Attempt}); retrying.")]
        public static partial void SettleRetried(ILogger logger, Exception exception, Guid callId, int attempt);

        [LoggerMessage(6, LogLevel.Warning, "Admitting request {RequestId} failed on a transient database error; answered 503.")]
        public static partial void AdmissionUnavailable(ILogger logger, Exception exception, string requestId);

        [LoggerMessage(7, LogLevel.Warning, "Model call {CallId} on {Target} was charged {Credits} credits, above its reservation of {Reserved}: the prompt estimate missed.")]
        public static partial void ChargeOverReservation(ILogger logger, Guid callId, string target, decimal credits, decimal reserved);
    }
}
