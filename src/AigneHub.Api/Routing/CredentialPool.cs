using System.Collections.Concurrent;
using System.Globalization;
using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace AigneHub.Api.Routing;

/// <summary>Configuration <c>AigneHub:Routing:Cooldown</c>: how long a provider's 429 takes a credential out.</summary>
public sealed class CooldownOptions
{
    public const string Section = "AigneHub:Routing:Cooldown";

    /// <summary>The longest a credential sits out, whatever the provider asked (a day-long Retry-After is a quota
    /// the admin should see on the credential, not a silent outage).</summary>
    public TimeSpan MaxCooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The cool-down after a 429 that gave no hint; it doubles on each such 429 after a cool-down.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Picks a credential per call by smooth weighted round-robin (nginx's algorithm: every candidate's running score
/// grows by its effective weight, the highest wins and pays back the total, so weights 5:1:1 give a a b a c a a —
/// spread out, not bunched) and learns from outcomes. The state is per replica and in memory; the weights and
/// statuses come from the <see cref="ProviderCatalog"/> snapshot, so the hot path never touches Postgres.
/// <list type="bullet">
/// <item>401: the credential leaves the rotation at once, is marked inactive in Postgres (all replicas are
/// told) and <see cref="CredentialMaintenanceService"/> re-checks it with back-off until it works.</item>
/// <item>403: a caller's content can provoke one (a file the project may not read), and keys rotate, so a member
/// sending N such requests would otherwise switch off N credentials. The credential's own test call decides: refused
/// too (401/403) and it is deactivated as after a 401; answered and only that call fails. Each unreproduced 403 counts
/// toward a breaker per credential and model: <see cref="BreakerThreshold"/> within <see cref="BreakerWindow"/>
/// pause that credential for that model for <see cref="BreakerPause"/> — bounded and self-healing, never a
/// deactivation.</item>
/// <item>429: the credential sits out for as long as the provider asked (<see cref="RateLimitHint"/>: Retry-After
/// and its kin, capped by <see cref="CooldownOptions.MaxCooldown"/>) — only for the model when the provider said the
/// limit is the model's — and without a hint for <see cref="CooldownOptions.FirstBackoff"/>, doubling on each 429
/// that follows a cool-down, capped alike. Its effective weight halves, so it comes back gently. While every
/// credential of the provider is cooling for the model, <see cref="AcquireAsync"/> throws
/// <see cref="ProviderErrorClass.RateLimited"/> carrying the time left, so the gateway fails over instead of
/// hammering the provider and tells the caller the real wait.</item>
/// <item>Success: the credential's weight is restored, its cool-down and back-off forgotten.</item>
/// </list>
/// </summary>
public sealed partial class CredentialPool(
    ProviderCatalog catalog,
    IServiceScopeFactory scopes,
    ICredentialTester tester,
    TimeProvider time,
    IOptions<CooldownOptions> cooldownOptions,
    ILogger<CredentialPool> logger) : ICredentialPool
{
    private readonly CooldownOptions _cooldown = cooldownOptions.Value;

    /// <summary>First re-check of a deactivated credential; it doubles per failed check up to <see cref="MaxRecheckDelay"/>.</summary>
    public static readonly TimeSpan FirstRecheckDelay = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan MaxRecheckDelay = TimeSpan.FromMinutes(30);

    /// <summary>A credential's test call answered after a 403 is trusted this long: later 403s only count toward the breaker.</summary>
    public static readonly TimeSpan ForbiddenRecheckInterval = TimeSpan.FromMinutes(1);

    /// <summary>Unreproduced 403s of one credential and model within <see cref="BreakerWindow"/> that pause the pair.</summary>
    public const int BreakerThreshold = 5;

    public static readonly TimeSpan BreakerWindow = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan BreakerPause = TimeSpan.FromMinutes(1);

    /// <summary>LastUsedAt is written at most this often per credential.</summary>
    public static readonly TimeSpan LastUsedWriteInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<Guid, Rotation> _rotations = new();

    /// <summary>One test call per credential at a time, however many 403s arrive together.</summary>
    private readonly ConcurrentDictionary<Guid, Lazy<Task<CredentialTestResult>>> _verifying = new();

    /// <summary>When each credential's last test call after a 403 was answered (not refused).</summary>
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _verifiedAt = new();

    public async ValueTask<CredentialLease?> AcquireAsync(ModelTarget target, CancellationToken cancellationToken)
    {
        if (target.ProviderId is not { } providerId)
        {
            return null;
        }
        var snapshot = await catalog.GetAsync(cancellationToken);
        if (!snapshot.ById.TryGetValue(providerId, out var provider))
        {
            return target.Kind.RequiresKey
                ? throw new ProviderException(target.Kind.Name, ProviderErrorClass.InvalidCredential, null,
                    $"{target.Kind.Name} is not configured.")
                : null;
        }
        var rotation = RotationFor(provider, snapshot);
        var now = time.GetUtcNow();
        lock (rotation)
        {
            Slot? best = null;
            var total = 0;
            var active = 0;
            var usable = 0;
            var cooling = 0;
            DateTimeOffset? coolEnds = null;
            DateTimeOffset? pauseEnds = null;
            foreach (var slot in rotation.Slots)
            {
                if (!slot.Active)
                {
                    continue;
                }
                active++;
                if (slot.PausedUntil(target.Model, now) is { } paused)
                {
                    pauseEnds = pauseEnds is null || paused < pauseEnds ? paused : pauseEnds;
                    continue;
                }
                usable++;
                if (slot.CoolingUntil(target.Model, now) is { } until)
                {
                    cooling++;
                    coolEnds = coolEnds is null || until < coolEnds ? until : coolEnds;
                }
            }
            if (active == 0)
            {
                return provider.Kind.RequiresKey
                    ? throw new ProviderException(provider.Kind.Name, ProviderErrorClass.InvalidCredential, null,
                        $"{provider.Kind.Name} has no active credential.")
                    : null;
            }
            if (usable == 0)
            {
                var seconds = Math.Ceiling((pauseEnds!.Value - now).TotalSeconds).ToString(CultureInfo.InvariantCulture);
                throw new ProviderException(provider.Kind.Name, ProviderErrorClass.Forbidden, null,
                    $"{provider.Kind.Name} refused model '{target.Model}' repeatedly (403); it is paused for {seconds} s.");
            }
            if (cooling == usable)
            {
                var left = coolEnds!.Value - now;
                var seconds = Math.Ceiling(left.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                throw new ProviderException(provider.Kind.Name, ProviderErrorClass.RateLimited, 429,
                    $"Every credential of {provider.Kind.Name} is rate limited; cooling down for {seconds} s.")
                {
                    RetryAfter = left,
                };
            }
            // :: Smooth weighted round-robin over the credentials that may serve the model now.
            foreach (var slot in rotation.Slots)
            {
                if (!slot.Active || slot.PausedUntil(target.Model, now) is not null || slot.CoolingUntil(target.Model, now) is not null)
                {
                    continue;
                }
                slot.Current += slot.EffectiveWeight;
                total += slot.EffectiveWeight;
                if (best is null || slot.Current > best.Current)
                {
                    best = slot;
                }
            }
            best!.Current -= total;
            best.LastUsedAt = now;
            return new CredentialLease(best.Id, best.Secret);
        }
    }

    public async ValueTask ReportAsync(ModelTarget target, CredentialLease lease, ProviderException? error, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        Rotation? rotation = null;
        Slot? slot = null;
        if (target.ProviderId is { } providerId && _rotations.TryGetValue(providerId, out rotation))
        {
            slot = rotation.Slots.FirstOrDefault(s => s.Id == lease.CredentialId);
        }
        switch (error?.ErrorClass)
        {
            case null:
                if (slot is not null)
                {
                    lock (rotation!)
                    {
                        slot.EndCooldown(target.Model);
                        slot.ForgetForbidden(target.Model);
                    }
                }
                break;
            case ProviderErrorClass.Forbidden:
                var test = await VerifyAfterForbiddenAsync(target, lease, now);
                if (test is { Ok: false, ErrorClass: ProviderErrorClass.InvalidCredential or ProviderErrorClass.Forbidden })
                {
                    await DeactivateNowAsync(target, rotation, slot, lease, $"{error.Message} (its test call was refused too: {test.Error})", now, cancellationToken);
                    break;
                }
                if (slot is not null)
                {
                    bool paused;
                    lock (rotation!)
                    {
                        paused = slot.CountForbidden(target.Model, now);
                    }
                    if (paused)
                    {
                        Log.Paused(logger, target.Kind.Name, lease.CredentialId, target.Model, BreakerThreshold);
                    }
                }
                break;
            case ProviderErrorClass.RateLimited:
                var wait = TimeSpan.Zero;
                if (slot is not null)
                {
                    lock (rotation!)
                    {
                        wait = slot.CoolDown(target.Model, error, now, _cooldown);
                    }
                }
                Log.RateLimited(logger, target.Kind.Name, lease.CredentialId, error.ModelScoped ? target.Model : "every model",
                    Math.Ceiling(wait.TotalSeconds), error.RetryAfter is not null);
                break;
            case ProviderErrorClass.InvalidCredential:
                await DeactivateNowAsync(target, rotation, slot, lease, error.Message, now, cancellationToken);
                break;
        }
    }

    public TimeSpan? CooldownLeft(ModelTarget target)
    {
        if (target.ProviderId is not { } providerId || !_rotations.TryGetValue(providerId, out var rotation))
        {
            return null;
        }
        var now = time.GetUtcNow();
        lock (rotation)
        {
            DateTimeOffset? soonest = null;
            foreach (var slot in rotation.Slots)
            {
                if (!slot.Active || slot.PausedUntil(target.Model, now) is not null)
                {
                    continue;
                }
                if (slot.CoolingUntil(target.Model, now) is not { } until)
                {
                    return null;
                }
                soonest = soonest is null || until < soonest ? until : soonest;
            }
            return soonest - now;
        }
    }

    private async Task DeactivateNowAsync(ModelTarget target, Rotation? rotation, Slot? slot, CredentialLease lease, string message,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (slot is not null)
        {
            lock (rotation!)
            {
                slot.Active = false;
                slot.DeactivatedAt = now;
            }
        }
        await DeactivateAsync(target.Kind.Name, lease.CredentialId, message, now, cancellationToken);
    }

    /// <summary>
    /// The credential's own test call (the one the admin's Test button makes), at most once per
    /// <see cref="ForbiddenRecheckInterval"/> per credential and never twice at once; null when a recent test answered.
    /// </summary>
    private async Task<CredentialTestResult?> VerifyAfterForbiddenAsync(ModelTarget target, CredentialLease lease, DateTimeOffset now)
    {
        if (target.ProviderId is not { } providerId
            || (_verifiedAt.TryGetValue(lease.CredentialId, out var at) && now - at < ForbiddenRecheckInterval))
        {
            return null;
        }
        var verification = _verifying.GetOrAdd(lease.CredentialId, _ => new Lazy<Task<CredentialTestResult>>(async () =>
        {
            var snapshot = await catalog.GetAsync(CancellationToken.None);
            var model = CredentialTestModels.For(snapshot, target.Kind, providerId);
            return await tester.TestAsync(target.Kind, target.BaseUrl, target.Settings, lease.Secret, model, CancellationToken.None);
        }));
        try
        {
            var result = await verification.Value;
            if (result.Ok || result.ErrorClass is not (ProviderErrorClass.InvalidCredential or ProviderErrorClass.Forbidden))
            {
                _verifiedAt[lease.CredentialId] = time.GetUtcNow();
            }
            return result;
        }
        finally
        {
            _verifying.TryRemove(new KeyValuePair<Guid, Lazy<Task<CredentialTestResult>>>(lease.CredentialId, verification));
        }
    }

    /// <summary>Credentials used since their LastUsedAt was last written, at most once per <see cref="LastUsedWriteInterval"/>.</summary>
    internal IReadOnlyList<(Guid Id, DateTimeOffset LastUsedAt)> TakeLastUsed()
    {
        var now = time.GetUtcNow();
        List<(Guid, DateTimeOffset)> due = [];
        foreach (var rotation in _rotations.Values)
        {
            lock (rotation)
            {
                foreach (var slot in rotation.Slots)
                {
                    if (slot.LastUsedAt is { } used && used != slot.LastUsedWritten
                        && (slot.LastUsedWritten is null || now - slot.LastUsedWritten >= LastUsedWriteInterval))
                    {
                        slot.LastUsedWritten = used;
                        due.Add((slot.Id, used));
                    }
                }
            }
        }
        return due;
    }

    /// <summary>
    /// Read-only, for the admin's provider health: what this replica has learnt about each credential it rotates —
    /// out of rotation since a refusal, or cooling down until when. Credentials it has not rotated yet are absent.
    /// </summary>
    public IReadOnlyDictionary<Guid, CredentialPoolState> Snapshot()
    {
        Dictionary<Guid, CredentialPoolState> states = [];
        foreach (var rotation in _rotations.Values)
        {
            lock (rotation)
            {
                foreach (var slot in rotation.Slots)
                {
                    states[slot.Id] = new CredentialPoolState(slot.Active, slot.CredentialCoolingUntil);
                }
            }
        }
        return states;
    }

    private async Task DeactivateAsync(string provider, Guid credentialId, string message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
            var error = message.Length > 1000 ? message[..1000] : message;
            // Only the first report flips it (several calls may fail at once, on several replicas).
            var changed = await db.Set<ProviderCredential>()
                .Where(c => c.Id == credentialId && c.Status == CredentialStatus.Active)
                .ExecuteUpdateAsync(u => u
                    .SetProperty(c => c.Status, CredentialStatus.Inactive)
                    .SetProperty(c => c.LastError, error)
                    .SetProperty(c => c.LastErrorAt, now)
                    .SetProperty(c => c.NextCheckAt, now + FirstRecheckDelay)
                    .SetProperty(c => c.FailedChecks, 0)
                    .SetProperty(c => c.UpdatedAt, now), CancellationToken.None);
            if (changed > 0)
            {
                Log.Deactivated(logger, provider, credentialId);
                await catalog.InvalidateAsync();
            }
        }
        catch (Exception ex) when (ex is DbUpdateException or NpgsqlException or InvalidOperationException)
        {
            // This replica already stopped using it; the next 401 tries to record it again.
            Log.DeactivateFailed(logger, ex, provider, credentialId);
        }
    }

    private Rotation RotationFor(ProviderEntry provider, ProviderSnapshot snapshot)
    {
        if (_rotations.TryGetValue(provider.Id, out var rotation) && ReferenceEquals(rotation.Source, snapshot))
        {
            return rotation;
        }
        lock (_rotations)
        {
            if (_rotations.TryGetValue(provider.Id, out rotation) && ReferenceEquals(rotation.Source, snapshot))
            {
                return rotation;
            }
            var rebuilt = new Rotation(snapshot, [.. provider.Credentials.Where(c => c.Secret is not null).Select(c => new Slot(c.Id, c.Secret!, c.Weight))]);
            if (rotation is not null)
            {
                lock (rotation)
                {
                    rebuilt.CarryOver(rotation, provider.Credentials);
                }
            }
            else
            {
                rebuilt.CarryOver(null, provider.Credentials);
            }
            _rotations[provider.Id] = rebuilt;
            return rebuilt;
        }
    }

    private sealed class Rotation(ProviderSnapshot source, List<Slot> slots)
    {
        public ProviderSnapshot Source { get; } = source;

        public List<Slot> Slots { get; } = slots;

        /// <summary>
        /// Keeps what this replica learnt (scores, cool-downs, a deactivation newer than the snapshot's read)
        /// across a reload; status and weight otherwise come from the database.
        /// </summary>
        public void CarryOver(Rotation? previous, IReadOnlyList<CredentialEntry> entries)
        {
            foreach (var slot in Slots)
            {
                var entry = entries.First(e => e.Id == slot.Id);
                slot.Active = entry.Active;
                var old = previous?.Slots.FirstOrDefault(s => s.Id == slot.Id);
                if (old is null)
                {
                    continue;
                }
                slot.Current = old.Current;
                slot.CarryForbidden(old);
                slot.LastUsedAt = old.LastUsedAt;
                slot.LastUsedWritten = old.LastUsedWritten;
                slot.CarryCooldown(old);
                if (old.DeactivatedAt is { } at && at >= Source.LoadStartedAt)
                {
                    slot.Active = false;
                    slot.DeactivatedAt = at;
                }
            }
        }
    }

    private sealed class Slot(Guid id, string secret, int weight)
    {
        public Guid Id { get; } = id;

        public string Secret { get; } = secret;

        public int Weight { get; } = weight;

        public int EffectiveWeight { get; set; } = weight;

        public int Current { get; set; }

        public bool Active { get; set; }

        public DateTimeOffset? DeactivatedAt { get; set; }

        public DateTimeOffset? LastUsedAt { get; set; }

        public DateTimeOffset? LastUsedWritten { get; set; }

        /// <summary>Unreproduced 403s per model: the breaker's count, its window's start and the end of a pause.</summary>
        private Dictionary<string, (int Count, DateTimeOffset Since, DateTimeOffset? PausedUntil)> _forbidden = new(StringComparer.Ordinal);

        /// <summary>A 429 for every model of the credential ends then.</summary>
        private DateTimeOffset? _coolingUntil;

        /// <summary>429s the provider said were the model's own limit.</summary>
        private Dictionary<string, DateTimeOffset> _modelCooling = new(StringComparer.Ordinal);

        /// <summary>429s without a hint since the last success, each after the previous cool-down had ended.</summary>
        private int _strikes;

        /// <summary>When a cool-down of the whole credential ends (a model's own cool-down aside).</summary>
        public DateTimeOffset? CredentialCoolingUntil => _coolingUntil;

        /// <summary>When the cool-down for <paramref name="model"/> ends; null when the credential may serve it now.</summary>
        public DateTimeOffset? CoolingUntil(string model, DateTimeOffset now)
        {
            DateTimeOffset? until = _coolingUntil > now ? _coolingUntil : null;
            if (_modelCooling.TryGetValue(model, out var modelUntil))
            {
                if (modelUntil <= now)
                {
                    _modelCooling.Remove(model);
                }
                else if (until is null || modelUntil > until)
                {
                    until = modelUntil;
                }
            }
            return until;
        }

        /// <summary>Starts (or lengthens) a cool-down after a 429; returns how long it lasts from now.</summary>
        public TimeSpan CoolDown(string model, ProviderException error, DateTimeOffset now, CooldownOptions options)
        {
            var alreadyCooling = CoolingUntil(model, now) is not null;
            TimeSpan wait;
            if (error.RetryAfter is { } asked)
            {
                wait = asked < options.MaxCooldown ? asked : options.MaxCooldown;
            }
            else
            {
                // Calls in flight when the limit hit all come back 429 at once: one strike, not one per call.
                if (!alreadyCooling)
                {
                    _strikes = Math.Min(_strikes + 1, 30);
                }
                var backoff = options.FirstBackoff * Math.Pow(2, Math.Max(0, _strikes - 1));
                wait = backoff < options.MaxCooldown ? backoff : options.MaxCooldown;
            }
            var until = now + wait;
            if (error.ModelScoped)
            {
                if (!_modelCooling.TryGetValue(model, out var known) || known < until)
                {
                    _modelCooling[model] = until;
                }
            }
            else if (_coolingUntil is null || _coolingUntil < until)
            {
                _coolingUntil = until;
            }
            EffectiveWeight = Math.Max(1, EffectiveWeight / 2);
            return wait;
        }

        /// <summary>A success: the credential works (for this model at least).</summary>
        public void EndCooldown(string model)
        {
            _coolingUntil = null;
            _modelCooling.Remove(model);
            _strikes = 0;
            EffectiveWeight = Weight;
        }

        public void CarryCooldown(Slot old)
        {
            if (old.Weight != Weight)
            {
                return; // an admin changed the weight: start afresh with it
            }
            _coolingUntil = old._coolingUntil;
            _modelCooling = old._modelCooling;
            _strikes = old._strikes;
            EffectiveWeight = old.EffectiveWeight;
        }

        public DateTimeOffset? PausedUntil(string model, DateTimeOffset now) =>
            _forbidden.TryGetValue(model, out var state) && state.PausedUntil is { } until && until > now ? until : null;

        /// <summary>Counts a 403 for <paramref name="model"/>; true when this one opens the breaker.</summary>
        public bool CountForbidden(string model, DateTimeOffset now)
        {
            var state = _forbidden.TryGetValue(model, out var known) && now - known.Since < BreakerWindow && known.PausedUntil is null
                ? known with { Count = known.Count + 1 }
                : (1, now, null);
            if (state.Count >= BreakerThreshold)
            {
                _forbidden[model] = (0, now, now + BreakerPause);
                return true;
            }
            _forbidden[model] = state;
            return false;
        }

        public void ForgetForbidden(string model) => _forbidden.Remove(model);

        public void CarryForbidden(Slot old) => _forbidden = old._forbidden;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "{Provider} rejected credential {CredentialId}; it is deactivated and will be re-checked.")]
        public static partial void Deactivated(ILogger logger, string provider, Guid credentialId);

        [LoggerMessage(2, LogLevel.Warning, "Could not record the deactivation of {Provider} credential {CredentialId}.")]
        public static partial void DeactivateFailed(ILogger logger, Exception exception, string provider, Guid credentialId);

        [LoggerMessage(3, LogLevel.Information, "{Provider} rate limited credential {CredentialId} for {Scope}; it cools down for {Seconds} s (provider's hint: {Hinted}).")]
        public static partial void RateLimited(ILogger logger, string provider, Guid credentialId, string scope, double seconds, bool hinted);

        [LoggerMessage(4, LogLevel.Warning, "{Provider} refused credential {CredentialId} for {Model} {Count} times (403) while its test call works; the pair is paused.")]
        public static partial void Paused(ILogger logger, string provider, Guid credentialId, string model, int count);
    }
}

/// <summary>One credential as a replica's pool sees it (<see cref="CredentialPool.Snapshot"/>); a past
/// <paramref name="CoolingUntil"/> means it has cooled down and is restored on its next use.</summary>
public sealed record CredentialPoolState(bool Active, DateTimeOffset? CoolingUntil);
