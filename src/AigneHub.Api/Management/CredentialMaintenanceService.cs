using System.Security.Cryptography;
using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Data;
using AigneHub.Data.Gateway;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Api.Management;

/// <summary>
/// Two chores of the credential pool, on one <see cref="PeriodicTimer"/> driven by the injected
/// <see cref="TimeProvider"/>:
/// <list type="number">
/// <item>Re-checks deactivated credentials that are due (<c>NextCheckAt</c>) with a live test call; success
/// re-activates the credential, failure doubles the delay (1 min, 2, 4, ... capped at 30 min). Every replica
/// runs this, so each due credential is first claimed with a conditional update and only the winner tests it.</item>
/// <item>Writes the credentials' <c>LastUsedAt</c>, at most once a minute each, so calls never write it.</item>
/// </list>
/// </summary>
public sealed partial class CredentialMaintenanceService(
    IServiceScopeFactory scopes,
    ProviderCatalog catalog,
    CredentialPool pool,
    CredentialProtector protector,
    ICredentialTester tester,
    ProviderConfigChanges changes,
    TimeProvider time,
    ILogger<CredentialMaintenanceService> logger) : BackgroundService
{
    public static readonly TimeSpan Tick = TimeSpan.FromSeconds(15);

    /// <summary>How long a claimed re-check is reserved for the replica that claimed it.</summary>
    private static readonly TimeSpan ClaimLease = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Tick, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await RecheckDueAsync(stoppingToken);
                await WriteLastUsedAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.TickFailed(logger, ex);
            }
        }
    }

    internal async Task RecheckDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        var due = await db.Set<ProviderCredential>().AsNoTracking()
            .Where(c => c.Status == CredentialStatus.Inactive && c.NextCheckAt != null && c.NextCheckAt <= now)
            .OrderBy(c => c.NextCheckAt)
            .Take(20)
            .ToListAsync(cancellationToken);
        if (due.Count == 0)
        {
            return;
        }
        var snapshot = await catalog.GetAsync(cancellationToken);
        var changed = false;
        foreach (var credential in due)
        {
            var claimed = await db.Set<ProviderCredential>()
                .Where(c => c.Id == credential.Id && c.Status == CredentialStatus.Inactive && c.NextCheckAt == credential.NextCheckAt)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.NextCheckAt, now + ClaimLease), cancellationToken);
            if (claimed == 0 || !snapshot.ById.TryGetValue(credential.ProviderId, out var provider))
            {
                continue;
            }

            CredentialTestResult result;
            try
            {
                var secret = protector.Unprotect(credential.Id, credential.EncryptedValue);
                result = await tester.TestAsync(provider.Kind, provider.BaseUrl, provider.Settings, secret,
                    CredentialTestModels.For(snapshot, provider.Kind, provider.Id), cancellationToken);
            }
            catch (CryptographicException)
            {
                result = new CredentialTestResult(false, 0, "The stored credential cannot be decrypted with the configured master key.");
            }

            var checkedAt = time.GetUtcNow();
            if (result.Ok)
            {
                await db.Set<ProviderCredential>().Where(c => c.Id == credential.Id)
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(c => c.Status, CredentialStatus.Active)
                        .SetProperty(c => c.LastError, (string?)null)
                        .SetProperty(c => c.NextCheckAt, (DateTimeOffset?)null)
                        .SetProperty(c => c.FailedChecks, 0)
                        .SetProperty(c => c.UpdatedAt, checkedAt), cancellationToken);
                Log.Reactivated(logger, provider.Kind.Name, credential.Id);
                changed = true;
            }
            else
            {
                var failed = credential.FailedChecks + 1;
                var error = result.Error is { Length: > 1000 } e ? e[..1000] : result.Error;
                await db.Set<ProviderCredential>().Where(c => c.Id == credential.Id)
                    .ExecuteUpdateAsync(u => u
                        .SetProperty(c => c.LastError, error)
                        .SetProperty(c => c.LastErrorAt, checkedAt)
                        .SetProperty(c => c.NextCheckAt, checkedAt + BackoffAfter(failed))
                        .SetProperty(c => c.FailedChecks, failed)
                        .SetProperty(c => c.UpdatedAt, checkedAt), cancellationToken);
                Log.StillFailing(logger, provider.Kind.Name, credential.Id, BackoffAfter(failed));
            }
        }
        if (changed)
        {
            await changes.PublishAsync("credential");
        }
    }

    /// <summary>1 min after deactivation, then 2, 4, 8, 16, 30, 30, ... minutes.</summary>
    public static TimeSpan BackoffAfter(int failedChecks) =>
        TimeSpan.FromTicks(Math.Min(CredentialPool.MaxRecheckDelay.Ticks,
            CredentialPool.FirstRecheckDelay.Ticks << Math.Min(failedChecks, 10)));

    private async Task WriteLastUsedAsync(CancellationToken cancellationToken)
    {
        var used = pool.TakeLastUsed();
        if (used.Count == 0)
        {
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AigneHubDbContext>();
        foreach (var (id, at) in used)
        {
            await db.Set<ProviderCredential>().Where(c => c.Id == id && (c.LastUsedAt == null || c.LastUsedAt < at))
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.LastUsedAt, at), cancellationToken);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "{Provider} credential {CredentialId} works again; re-activated.")]
        public static partial void Reactivated(ILogger logger, string provider, Guid credentialId);

        [LoggerMessage(2, LogLevel.Information, "{Provider} credential {CredentialId} still fails its re-check; next try in {Delay}.")]
        public static partial void StillFailing(ILogger logger, string provider, Guid credentialId, TimeSpan delay);

        [LoggerMessage(3, LogLevel.Warning, "Credential maintenance failed; retrying on the next tick.")]
        public static partial void TickFailed(ILogger logger, Exception exception);
    }
}
