using System.Diagnostics;
using AigneHub.Api.Billing;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway.Pipeline;

/// <summary>
/// The core every kind of call shares (its runners — <see cref="ChatRunner"/>, <see cref="EmbeddingRunner"/>,
/// <see cref="ImageRunner"/> — supply the attempt): resolve model/provider → admission and the durable call
/// record (<see cref="ICallRecorder.StartAsync"/>) → call the provider, failing over along the candidates while
/// nothing has reached the caller → settle exactly once. The commit point is the answer writer's first write
/// (<see cref="CallerResponse.Committed"/>).
/// </summary>
public sealed partial class GatewayPipeline(
    IModelResolver resolver,
    ICredentialPool credentials,
    IModelHealthTracker health,
    ICallRecorder recorder,
    DetachedSettlements detached,
    ProviderHttp http,
    GatewayTelemetry telemetry,
    GatewayShutdown shutdown,
    TimeProvider time,
    ILogger<GatewayPipeline> logger)
{
    /// <summary>Credentials one candidate may try in one call after credential-specific refusals (401, 429).</summary>
    internal const int CredentialsPerTarget = 3;

    public CallContext CreateContext(HttpContext context, ApiSurface surface, string requestedModel, ModelType type, bool streaming)
    {
        var user = context.User;
        string? appId = user.FindFirst(AigneHubClaims.AppId)?.Value;
        if (appId is null && context.Request.Headers.TryGetValue("x-aigne-hub-client-did", out var did) && did.Count == 1)
        {
            appId = Uri.UnescapeDataString(did.ToString());
            if (appId.Length > 200)
            {
                throw GatewayException.BadRequest("The x-aigne-hub-client-did header is too long.");
            }
            if (appId.Any(char.IsControl))
            {
                // %00 and the like: the call record could not store it, and no DID contains one.
                throw GatewayException.BadRequest("The x-aigne-hub-client-did header must not contain control characters.");
            }
        }
        string requestId = context.Request.Headers.TryGetValue("x-request-id", out var rid) && rid.ToString() is { Length: > 0 and <= 128 } r
            ? r
            : context.TraceIdentifier;
        return new CallContext
        {
            UserId = user.GetUserId(),
            AccessKeyId = user.GetAccessKeyId(),
            AppId = appId,
            Surface = surface,
            RequestedModel = requestedModel,
            Type = type,
            RequestId = requestId,
            TraceId = Activity.Current?.TraceId.ToString(),
            StartedAt = time.GetUtcNow(),
            Streaming = streaming,
        };
    }

    /// <summary>
    /// Runs the call. <paramref name="attempt"/> talks to one provider and writes the answer through
    /// <paramref name="writer"/>. A refusal before any byte (no such model, billing's refusal, every provider
    /// failed) is thrown as a <see cref="GatewayException"/> for the route's protocol to write.
    /// </summary>
    /// <param name="unserved">Why a candidate cannot serve this kind of call at all (a provider without image
    /// generation, one that does not transcribe), or null when it can: such candidates are dropped before
    /// admission, and when none is left the call is a 400 with that reason — nothing reserved, no call recorded.</param>
    public Task RunAsync(HttpContext context, CallContext call, CallEstimate estimate, IAnswerWriter writer,
        Func<Attempt, CancellationToken, Task<AttemptResult>> attempt, Func<ModelTarget, string?> unserved) =>
        RunAsync(context, call, estimate, writer, attempt, refused: target => unserved(target) is { } reason ? GatewayErrors.Unserved(reason) : null);

    /// <param name="refused">As <c>unserved</c>, for refusals that need their own status or field (a 413 for an
    /// upload one provider's wire cannot carry): the error of the first candidate when every one refuses.</param>
    public async Task RunAsync(HttpContext context, CallContext call, CallEstimate estimate, IAnswerWriter writer,
        Func<Attempt, CancellationToken, Task<AttemptResult>> attempt, Func<ModelTarget, GatewayException?>? refused = null)
    {
        var started = Stopwatch.GetTimestamp();
        var aborted = context.RequestAborted;
        var caller = writer.Caller;

        // :: Step 1: the candidates, in order.
        var candidates = await resolver.ResolveAsync(call.RequestedModel, call.Type, aborted);
        if (candidates.Count == 0)
        {
            throw GatewayErrors.NoSuchModel(call.RequestedModel);
        }
        if (refused is not null && candidates.Any(c => refused(c) is not null))
        {
            var served = candidates.Where(c => refused(c) is null).ToList();
            candidates = served.Count > 0 ? served : throw refused(candidates[0])!;
        }

        // :: Step 2: admission — rate limits, rates, credits — and the durable record, before any provider is called.
        var admission = await recorder.StartAsync(call, candidates, estimate, aborted);
        if (!admission.Admitted)
        {
            throw GatewayErrors.FromRefusal(admission.Refusal);
        }
        var ticket = admission.Ticket;
        context.Response.Headers["x-aignehub-call-id"] = ticket.CallId.ToString();
        caller.CallId = ticket.CallId;

        // The call's own deadline, and the end of the drain when the Api is stopping: either cancels the attempt
        // and the call ends cleanly.
        using var deadline = new CancellationTokenSource(ticket.MaxDuration ?? Timeout.InfiniteTimeSpan, time);
        using var callCancellation = CancellationTokenSource.CreateLinkedTokenSource(aborted, deadline.Token, shutdown.Drained);
        var callToken = callCancellation.Token;
        string? endedBy = null;
        string? EndReason() => deadline.IsCancellationRequested ? OverranMessage(ticket)
            : shutdown.Drained.IsCancellationRequested ? GatewayErrors.ShuttingDownMessage
            : null;

        var attempts = 0;
        ModelTarget? lastTarget = null;
        Attempt? current = null;
        AttemptResult? outcome = null;
        Exception? failure = null;
        GatewayException? refusal = null;
        try
        {
            // :: Step 3: providers in order, each with up to CredentialsPerTarget of its credentials while the
            // failures are the credential's own (a 401 or 429 took it out of the rotation, so the next acquire
            // picks another); fail over only while nothing has reached the caller.
            ModelTarget? exhausted = null;
            HashSet<Guid> triedOnTarget = [];
            foreach (var target in EachUpTo(ticket.Targets, CredentialsPerTarget))
            {
                if (ReferenceEquals(target, exhausted))
                {
                    continue;
                }
                var again = ReferenceEquals(target, lastTarget);
                lastTarget = target;
                CredentialLease? lease;
                try
                {
                    lease = await credentials.AcquireAsync(target, callToken);
                }
                catch (ProviderException ex)
                {
                    // No usable credential here (all cooling down or deactivated): next provider. After this
                    // target's own failure, that failure says more than "none left".
                    failure = again ? failure : ex;
                    exhausted = target;
                    continue;
                }
                if (!again)
                {
                    triedOnTarget.Clear();
                }
                if (lease is not null && !triedOnTarget.Add(lease.CredentialId))
                {
                    exhausted = target; // the pool offers a credential this call already tried: no other is left
                    continue;
                }

                attempts++;
                using var span = GatewayTelemetry.StartProviderSpan(target, call.Type == ModelType.Chat ? "chat" : call.Type.ToString().ToLowerInvariant());
                current = new Attempt(target, new ProviderEndpoint(target.Kind.Name, target.BaseUrl, lease?.Secret, http.Client) { Settings = target.Settings }, lease, span)
                {
                    OutputTokenCap = ticket.OutputTokenCap,
                };
                try
                {
                    outcome = await attempt(current, callToken);
                    failure = null;
                    if (outcome.ProviderCut is { } cut)
                    {
                        // Cut by the provider after the caller had part of the answer: billed for that part, the
                        // caller told in-stream, the provider's failure reported like any other.
                        span?.SetStatus(ActivityStatusCode.Error, cut.Message);
                        await ReportAsync(current, cut);
                        Log.ProviderFailed(logger, target.Kind.Name, target.Model, cut.ErrorClass, cut.ProviderStatus, true);
                        await WriteInStreamAsync(writer, GatewayErrors.MidStreamMessage(cut));
                        break;
                    }
                    if (EndReason() is { } reason && !aborted.IsCancellationRequested)
                    {
                        // The answer was cut at the deadline or the shutdown after it had started: what was
                        // delivered is billed, and the caller is told why its stream ended.
                        endedBy = reason;
                        await WriteInStreamAsync(writer, reason);
                    }
                    GatewayTelemetry.RecordUsage(span, outcome.Usage);
                    await ReportAsync(current, null);
                    break;
                }
                catch (ProviderException ex)
                {
                    failure = ex;
                    span?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    span?.SetTag("error.type", ex.ErrorClass.ToString());
                    await ReportAsync(current, ex);
                    Log.ProviderFailed(logger, target.Kind.Name, target.Model, ex.ErrorClass, ex.ProviderStatus, caller.Committed);
                    if (caller.Committed || !ex.IsRetryable)
                    {
                        break;
                    }
                    if (lease is null || ex.ErrorClass is not (ProviderErrorClass.InvalidCredential or ProviderErrorClass.RateLimited))
                    {
                        exhausted = target; // another credential would not help
                    }
                }
                catch (OperationCanceledException) when (aborted.IsCancellationRequested)
                {
                    failure = new OperationCanceledException("The caller disconnected.");
                    break;
                }
                catch (OperationCanceledException) when (deadline.IsCancellationRequested)
                {
                    failure = new ProviderException(target.Kind.Name, ProviderErrorClass.Timeout, null, OverranMessage(ticket));
                    break;
                }
                catch (OperationCanceledException) when (shutdown.Drained.IsCancellationRequested)
                {
                    failure = GatewayErrors.ShuttingDown();
                    break;
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // An answer we could not read or translate: the caller gets a clean error, never a torn
                    // connection, and the call is still settled. It is a defect to fix, so it is logged as one.
                    Log.AttemptCrashed(logger, ex, target.Kind.Name, target.Model);
                    failure = new ProviderException(target.Kind.Name, ProviderErrorClass.Unavailable, null,
                        $"The answer of provider '{target.Kind.Name}' could not be processed.", ex);
                    span?.SetStatus(ActivityStatusCode.Error, ex.Message);
                    break;
                }
            }

            if (failure is ProviderException providerFailure)
            {
                if (caller.Committed)
                {
                    await WriteInStreamAsync(writer, GatewayErrors.MidStreamMessage(providerFailure));
                }
                else
                {
                    refusal = GatewayErrors.FromProvider(providerFailure, SoonestServable(ticket.Targets));
                }
            }
            else if (failure is GatewayException ended)
            {
                // Ended by the shutdown: before the answer began, a 503 the caller retries elsewhere.
                await EndAsync(ended);
            }
            else if (failure is null && outcome is null)
            {
                refusal = GatewayErrors.NoProviderAvailable(call.RequestedModel);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            failure = new OperationCanceledException("The caller disconnected.");
        }
        catch (OperationCanceledException) when (shutdown.Drained.IsCancellationRequested)
        {
            // The drain ran out while no attempt was running (waiting for a credential).
            failure = GatewayErrors.ShuttingDown();
            await EndAsync((GatewayException)failure);
        }
        catch (GatewayException ex)
        {
            failure = ex;
            refusal = ex;
        }
        catch (Exception ex)
        {
            // A defect of the hub itself (not a provider's failure): the call keeps its one record, with status 500
            // and the defect named for the admins; the caller gets a clean error and none of the exception's text.
            Log.PipelineCrashed(logger, ex, call.RequestedModel);
            failure = new InvalidOperationException($"Internal error ({ex.GetType().Name}): {ex.Message}", ex);
            refusal = GatewayErrors.Internal();
            if (caller.Committed)
            {
                await WriteInStreamAsync(writer, refusal.Message);
            }
        }
        finally
        {
            // :: Step 4: settle exactly once, whatever happened, on a token that outlives the caller.
            var end = Stopwatch.GetTimestamp();
            var status = refusal?.Status ?? (failure is null ? 200 : failure is OperationCanceledException ? 499 : 502);
            if (caller.Committed && refusal is not null)
            {
                refusal = null; // already told in-stream; nothing is left to throw for the protocol to write
            }
            var result = new CallResult
            {
                Success = failure is null && outcome is not null,
                Target = current?.Target ?? lastTarget,
                CredentialId = current?.Lease?.CredentialId,
                Usage = outcome?.Usage,
                UsageEstimated = outcome?.UsageEstimated ?? false,
                Images = outcome?.Images ?? 0,
                Characters = outcome?.Characters ?? 0,
                AudioSeconds = outcome?.AudioSeconds,
                VideoSeconds = outcome?.VideoSeconds,
                ErrorReason = failure?.Message ?? outcome?.ProviderCut?.Message ?? endedBy,
                StatusCode = status,
                CallerDisconnected = outcome is not null ? outcome.CallerGone || caller.Gone : aborted.IsCancellationRequested,
                Duration = Stopwatch.GetElapsedTime(started, end),
                GatewayTimeToFirstByte = outcome is not null && caller.FirstByteAt is long cf ? Stopwatch.GetElapsedTime(started, cf) : null,
                ProviderTimeToFirstByte = current?.ProviderFirstByteAt is long pf ? Stopwatch.GetElapsedTime(current.StartedAt, pf) : null,
                Attempts = Math.Max(attempts, 1),
            };
            Record(call, result);
            // Not the caller's token: the settlement outlives the caller's connection (the recorder bounds the wait).
            if (refusal is null && caller.Committed)
            {
                // The answer is whole and nothing more will be written: end it for the caller now, and (within the
                // bound) let the request end without waiting for the settlement's commit, which is then on no caller's
                // latency — not this one's, nor the next request's on the same keep-alive connection (the host waits
                // for it at shutdown).
                await caller.CompleteAsync();
            }
            if (refusal is null && caller.Committed && detached.HasRoom)
            {
                detached.Track(recorder.CompleteAsync(ticket, result, CancellationToken.None));
            }
            else
            {
                await recorder.CompleteAsync(ticket, result, CancellationToken.None);
            }
        }

        if (refusal is not null)
        {
            throw refusal;
        }

        async Task EndAsync(GatewayException ended)
        {
            if (caller.Committed)
            {
                await WriteInStreamAsync(writer, ended.Message);
            }
            else
            {
                refusal = ended;
            }
        }
    }

    private static IEnumerable<ModelTarget> EachUpTo(IReadOnlyList<ModelTarget> targets, int times)
    {
        foreach (var target in targets)
        {
            for (var i = 0; i < times; i++)
            {
                yield return target;
            }
        }
    }

    /// <summary>The shortest cool-down left among the candidates, when every one of them is cooling after 429s.</summary>
    private TimeSpan? SoonestServable(IReadOnlyList<ModelTarget> targets)
    {
        TimeSpan? soonest = null;
        foreach (var target in targets)
        {
            if (credentials.CooldownLeft(target) is not { } left)
            {
                continue;
            }
            soonest = soonest is null || left < soonest ? left : soonest;
        }
        return soonest;
    }

    private static string OverranMessage(CallTicket ticket) =>
        $"The call reached its maximum duration of {ticket.MaxDuration?.TotalMinutes:0.##} minutes and was ended.";

    private async Task WriteInStreamAsync(IAnswerWriter writer, string message)
    {
        try
        {
            await writer.WriteFailureAfterCommitAsync(message);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            Log.InStreamErrorLost(logger, ex);
        }
    }

    private async Task ReportAsync(Attempt attempt, ProviderException? error)
    {
        // Outcome bookkeeping must not be cancelled by the caller leaving.
        var elapsed = Stopwatch.GetElapsedTime(attempt.StartedAt);
        telemetry.ProviderLatency.Record(elapsed.TotalSeconds,
            new("gen_ai.system", attempt.Target.Kind.Name), new("gen_ai.request.model", attempt.Target.Model));
        if (attempt.Lease is not null)
        {
            await credentials.ReportAsync(attempt.Target, attempt.Lease, error, CancellationToken.None);
        }
        // A refusal of this request (its content, or a 403 the credential's test call did not reproduce) says
        // nothing about the model's health; recording it would let one member mark a model down for everyone.
        if (error?.ErrorClass is not (ProviderErrorClass.BadRequest or ProviderErrorClass.Forbidden))
        {
            await health.RecordAsync(attempt.Target, error, elapsed, CancellationToken.None);
        }
    }

    private void Record(CallContext call, CallResult result)
    {
        var provider = result.Target?.Kind.Name ?? "none";
        telemetry.Requests.Add(1, new("gen_ai.request.model", call.RequestedModel), new("gen_ai.system", provider),
            new("http.response.status_code", result.StatusCode));
        if (result.Usage is { } usage)
        {
            telemetry.Tokens.Add(usage.InputTokens, new("gen_ai.request.model", call.RequestedModel), new("gen_ai.token.type", "input"));
            telemetry.Tokens.Add(usage.OutputTokens, new("gen_ai.request.model", call.RequestedModel), new("gen_ai.token.type", "output"));
        }
        if (result.GatewayTimeToFirstByte is { } ttfb)
        {
            telemetry.TimeToFirstByte.Record(ttfb.TotalSeconds, new KeyValuePair<string, object?>("gen_ai.system", provider));
            if (result.ProviderTimeToFirstByte is { } providerTtfb)
            {
                telemetry.Overhead.Record(Math.Max(0, (ttfb - providerTtfb).TotalSeconds), new KeyValuePair<string, object?>("gen_ai.system", provider));
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Provider {Provider} failed for {Model}: {ErrorClass} (status {Status}); committed to caller: {Committed}.")]
        public static partial void ProviderFailed(ILogger logger, string provider, string model, ProviderErrorClass errorClass, int? status, bool committed);

        [LoggerMessage(2, LogLevel.Error, "Processing the answer of {Provider} for {Model} failed.")]
        public static partial void AttemptCrashed(ILogger logger, Exception exception, string provider, string model);

        [LoggerMessage(3, LogLevel.Error, "The gateway failed while serving {Model}; the call is recorded as an internal error.")]
        public static partial void PipelineCrashed(ILogger logger, Exception exception, string model);

        [LoggerMessage(4, LogLevel.Debug, "The in-stream error could not reach the caller.")]
        public static partial void InStreamErrorLost(ILogger logger, Exception exception);
    }
}
