using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Data;

namespace AigneHub.Api.Routing;

/// <summary>One place a requested model can be served: a provider (its protocol and base URL) and its model id.</summary>
public sealed record ModelTarget(ProviderKind Kind, Guid? ProviderId, Uri BaseUrl, string Model, ModelType Type)
{
    /// <summary>The provider's settings (region, API version, deployments), from the same snapshot as <see cref="BaseUrl"/>.</summary>
    public ProviderSettings Settings { get; init; } = ProviderSettings.None;

    /// <summary>The canonical public name, <c>provider/model</c>.</summary>
    public string PublicName => $"{Kind.Name}/{Model}";
}

/// <summary>
/// Resolves what a caller asked for into where it can be served. <c>provider/model</c> names one provider; an
/// unprefixed name resolves through the model catalogue to every enabled provider that serves it, in order of
/// preference (the gateway fails over along that list, never after the first byte reached the caller).
/// </summary>
public interface IModelResolver
{
    /// <returns>Candidates in order; empty when nothing enabled serves the model.</returns>
    ValueTask<IReadOnlyList<ModelTarget>> ResolveAsync(string requestedModel, ModelType type, CancellationToken cancellationToken);
}

/// <summary>A credential chosen for one call. The secret lives only in memory, never in logs.</summary>
public sealed record CredentialLease(Guid CredentialId, string Secret)
{
    public override string ToString() => $"CredentialLease {{ CredentialId = {CredentialId} }}";
}

/// <summary>
/// The provider credentials: picks one per call by smooth weighted round-robin among the usable ones, and learns
/// from outcomes (401/403 deactivates the credential until a background re-check succeeds; 429 lowers its weight
/// and cools the provider down).
/// </summary>
public interface ICredentialPool
{
    /// <returns>A lease, or null when the provider needs no key (Ollama, the demo).</returns>
    /// <exception cref="ProviderException">No usable credential (all deactivated or cooling down).</exception>
    ValueTask<CredentialLease?> AcquireAsync(ModelTarget target, CancellationToken cancellationToken);

    /// <summary>The outcome of a call made with <paramref name="lease"/>: null on success.</summary>
    ValueTask ReportAsync(ModelTarget target, CredentialLease lease, ProviderException? error, CancellationToken cancellationToken);

    /// <summary>How long until a credential of the target's provider may serve its model again after 429s; null when
    /// one may now (or nothing is known).</summary>
    TimeSpan? CooldownLeft(ModelTarget target) => null;
}

/// <summary>Per provider+model+type availability, written only when it flips.</summary>
public interface IModelHealthTracker
{
    ValueTask RecordAsync(ModelTarget target, ProviderException? error, TimeSpan elapsed, CancellationToken cancellationToken);
}

