using System.Diagnostics;
using AigneHub.Api.Identity;
using AigneHub.Api.Infrastructure;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;

namespace AigneHub.Api.Gateway;

/// <summary>One provider attempt of a call. The attempt's code sets <see cref="Committed"/> once a byte reached the caller.</summary>
public sealed class Attempt(ModelTarget target, ProviderEndpoint endpoint, CredentialLease? lease, Activity? span)
{
    public ModelTarget Target { get; } = target;

    public ProviderEndpoint Endpoint { get; } = endpoint;

    public CredentialLease? Lease { get; } = lease;

    public Activity? Span { get; } = span;

    /// <summary>The most output tokens the provider may produce for this call (see <see cref="CallTicket.OutputTokenCap"/>).</summary>
    public int? OutputTokenCap { get; init; }

    public long StartedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>From here on, failing over would send the caller a second answer: it is forbidden.</summary>
    public bool Committed { get; set; }

    public long? ProviderFirstByteAt { get; private set; }

    public void MarkProviderFirstByte() => ProviderFirstByteAt ??= Stopwatch.GetTimestamp();
}

/// <summary>What an attempt achieved.</summary>
public sealed record AttemptResult
{
    public TokenUsage? Usage { get; init; }

    public bool UsageEstimated { get; init; }

    public int Images { get; init; }

    public bool CallerGone { get; init; }

    /// <summary>Stopwatch timestamp of the first byte written to the caller.</summary>
    public long? CallerFirstByteAt { get; init; }
}

/// <summary>
/// The request pipeline every AI route shares: authenticate (done by ASP.NET Core) → resolve model/provider →
/// pre-checks and the durable call record (<see cref="ICallRecorder.StartAsync"/>) → call the provider, failing
/// over along the candidates while nothing has reached the caller → settle exactly once.
/// </summary>
public sealed partial class GatewayPipeline(
    IModelResolver resolver,
    ICredentialPool credentials,
    IModelHealthTracker health,
    ICallRecorder recorder,
    ProviderHttp http,
    GatewayTelemetry telemetry,
    TimeProvider time,
    ILogger<GatewayPipeline> logger)
{
    /// <summary>The settlement must outlive the caller's connection, but not forever.</summary>
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

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

    public async Task<IReadOnlyList<ModelTarget>> ResolveAsync(string requestedModel, ModelType type, CancellationToken cancellationToken)
    {
        var candidates = await resolver.ResolveAsync(requestedModel, type, cancellationToken);
        if (candidates.Count == 0)
        {
            throw new GatewayException(404, "invalid_request_error",
                $"The model '{requestedModel}' does not exist or no enabled provider serves it.", "model", "model_not_found");
        }
        return candidates;
    }

    /// <summary>
    /// Runs the call. <paramref name="attempt"/> talks to one provider and writes the caller's answer;
    /// <paramref name="writeMidStreamError"/> tells the caller about a failure after it has been sent bytes.
    /// Refusals before any byte are thrown as <see cref="GatewayException"/> for the route to write.
    /// </summary>
    public async Task RunAsync(HttpContext context, CallContext call, CallEstimate estimate, IReadOnlyList<ModelTarget> candidates,
        Func<Attempt, CancellationToken, Task<AttemptResult>> attempt, Func<string, Task> writeMidStreamError)
    {
        var started = Stopwatch.GetTimestamp();
        var aborted = context.RequestAborted;

        // :: Step 1: durable record and pre-checks (credits, rates, rate limits) before any provider is called.
        var ticket = await recorder.StartAsync(call, candidates, estimate, aborted);
        context.Response.Headers["x-aignehub-call-id"] = ticket.CallId.ToString();

        var attempts = 0;
        ModelTarget? lastTarget = null;
        Attempt? current = null;
        AttemptResult? outcome = null;
        Exception? failure = null;
        GatewayException? refusal = null;
        try
        {
            // :: Step 2: providers in order; fail over only while nothing has reached the caller.
            foreach (var target in ticket.Targets)
            {
                lastTarget = target;
                CredentialLease? lease;
                try
                {
                    lease = await credentials.AcquireAsync(target, aborted);
                }
                catch (ProviderException ex)
                {
                    failure = ex;
                    continue; // no usable credential here (all cooling down or deactivated): next provider
                }

                attempts++;
                using var span = GatewayTelemetry.StartProviderSpan(target, call.Type == ModelType.Chat ? "chat" : call.Type.ToString().ToLowerInvariant());
                current = new Attempt(target, new ProviderEndpoint(target.Kind.Name, target.BaseUrl, lease?.Secret, http.Client), lease, span)
                {
                    OutputTokenCap = ticket.OutputTokenCap,
                };
                try
                {
                    outcome = await attempt(current, aborted);
                    failure = null;
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
                    Log.ProviderFailed(logger, target.Kind.Name, target.Model, ex.ErrorClass, ex.ProviderStatus, current.Committed);
                    if (current.Committed || !ex.IsRetryable)
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (aborted.IsCancellationRequested)
                {
                    failure = new OperationCanceledException("The caller disconnected.");
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
                if (current?.Committed == true)
                {
                    await writeMidStreamError(MidStreamMessage(providerFailure));
                }
                else
                {
                    refusal = ToGatewayException(providerFailure);
                }
            }
            else if (failure is null && outcome is null)
            {
                refusal = new GatewayException(503, "api_error", $"No provider is available for '{call.RequestedModel}' right now.");
            }
        }
        finally
        {
            // :: Step 3: settle exactly once, whatever happened, on a token that outlives the caller.
            var end = Stopwatch.GetTimestamp();
            var status = refusal?.Status ?? (failure is null ? 200 : failure is OperationCanceledException ? 499 : 502);
            var result = new CallResult
            {
                Success = failure is null && outcome is not null,
                Target = current?.Target ?? lastTarget,
                CredentialId = current?.Lease?.CredentialId,
                Usage = outcome?.Usage,
                UsageEstimated = outcome?.UsageEstimated ?? false,
                Images = outcome?.Images ?? 0,
                ErrorReason = failure?.Message,
                StatusCode = status,
                CallerDisconnected = outcome?.CallerGone ?? aborted.IsCancellationRequested,
                Duration = Stopwatch.GetElapsedTime(started, end),
                GatewayTimeToFirstByte = outcome?.CallerFirstByteAt is long cf ? Stopwatch.GetElapsedTime(started, cf) : null,
                ProviderTimeToFirstByte = current?.ProviderFirstByteAt is long pf ? Stopwatch.GetElapsedTime(current.StartedAt, pf) : null,
                Attempts = Math.Max(attempts, 1),
            };
            Record(call, result);
            using var settle = new CancellationTokenSource(SettleTimeout);
            await recorder.CompleteAsync(ticket, result, settle.Token);
        }

        if (refusal is not null)
        {
            throw refusal;
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

    /// <summary>
    /// Provider failures in the caller's terms: a provider's 401/403/429 is not the caller's auth or rate problem.
    /// Callers are members, so the provider's own words pass only through <see cref="CallerErrorText"/> (no URLs,
    /// hosts or stack text), and transport failures say nothing beyond their kind; the full text is in the logs and
    /// the admins' call log.
    /// </summary>
    public static GatewayException ToGatewayException(ProviderException ex) => ex.ErrorClass switch
    {
        ProviderErrorClass.BadRequest => new GatewayException(ex.ProviderStatus is 422 ? 422 : 400, "invalid_request_error", CallerErrorText.Sanitize(ex.Message), code: "provider_rejected_request"),
        ProviderErrorClass.ModelNotFound => new GatewayException(404, "invalid_request_error", CallerErrorText.Sanitize(ex.Message), "model", "model_not_found"),
        ProviderErrorClass.RateLimited => new GatewayException(503, "api_error",
            $"Provider '{ex.Provider}' is rate limiting AigneHub; try again shortly. ({CallerErrorText.Sanitize(ex.Message)})", code: "provider_rate_limited") { RetryAfterSeconds = 30 },
        ProviderErrorClass.InvalidCredential => new GatewayException(502, "api_error",
            $"Provider '{ex.Provider}' refused AigneHub's credential; an administrator has to fix it.", code: "provider_auth_failed"),
        ProviderErrorClass.Forbidden => new GatewayException(502, "api_error",
            $"Provider '{ex.Provider}' refused this request. ({CallerErrorText.Sanitize(ex.Message)})", code: "provider_forbidden"),
        ProviderErrorClass.Timeout => new GatewayException(504, "api_error", $"Provider '{ex.Provider}' did not answer in time.", code: "provider_timeout"),
        _ => new GatewayException(502, "api_error", $"Provider '{ex.Provider}' is temporarily unavailable.", code: "provider_unavailable"),
    };

    private static string MidStreamMessage(ProviderException ex) => ex.ErrorClass is ProviderErrorClass.Unavailable or ProviderErrorClass.Timeout
        ? $"Provider '{ex.Provider}' failed mid-answer."
        : $"Provider '{ex.Provider}' failed mid-answer: {CallerErrorText.Sanitize(ex.Message)}";

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Provider {Provider} failed for {Model}: {ErrorClass} (status {Status}); committed to caller: {Committed}.")]
        public static partial void ProviderFailed(ILogger logger, string provider, string model, ProviderErrorClass errorClass, int? status, bool committed);

        [LoggerMessage(2, LogLevel.Error, "Processing the answer of {Provider} for {Model} failed.")]
        public static partial void AttemptCrashed(ILogger logger, Exception exception, string provider, string model);
    }
}
