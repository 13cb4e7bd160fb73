using AigneHub.Api.Management;
using AigneHub.Api.Providers;
using AigneHub.Data;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Routing;

/// <summary>Configuration <c>AigneHub:Providers:Demo</c>.</summary>
public sealed class DemoProviderOptions
{
    public const string Section = "AigneHub:Providers:Demo";

    /// <summary>Whether <c>demo/&lt;anything&gt;</c> resolves to the built-in demo provider.</summary>
    public bool Enabled { get; set; }
}

/// <summary>
/// Resolves requested model names from the in-memory <see cref="ProviderSnapshot"/> (no database per request).
/// <list type="bullet">
/// <item><c>provider/model</c> with a known provider prefix: that provider when it is configured and enabled; the
/// model id is passed on as given. A catalogue entry is not required, but a <em>disabled</em> one withdraws the
/// model.</item>
/// <item>Anything else (including ids such as <c>meta-llama/llama-3</c> whose prefix is no provider): every enabled
/// provider with an enabled catalogue entry for that exact model and type, in catalogue order, skipping providers
/// that need a key and have no active one.</item>
/// <item><c>demo/…</c>: the built-in demo provider, when <c>AigneHub:Providers:Demo:Enabled</c> is true.</item>
/// </list>
/// </summary>
public sealed class ModelResolver(ProviderCatalog catalog, IOptionsMonitor<DemoProviderOptions> demo) : IModelResolver
{
    public async ValueTask<IReadOnlyList<ModelTarget>> ResolveAsync(string requestedModel, ModelType type, CancellationToken cancellationToken)
    {
        var requested = requestedModel.Trim();
        if (requested.Length == 0)
        {
            return [];
        }

        var slash = requested.IndexOf('/');
        var kind = slash > 0 ? ProviderKinds.Find(requested[..slash]) : null;
        if (kind is not null)
        {
            var model = requested[(slash + 1)..];
            if (model.Length == 0)
            {
                return [];
            }
            if (kind == ProviderKinds.Demo)
            {
                return demo.CurrentValue.Enabled ? [new ModelTarget(kind, null, kind.DefaultBaseUrl, model, type)] : [];
            }
            var snapshot = await catalog.GetAsync(cancellationToken);
            if (!snapshot.ByName.TryGetValue(kind.Name, out var provider) || !provider.Enabled)
            {
                return [];
            }
            if (snapshot.ByModel.TryGetValue((model, type), out var entries)
                && entries.FirstOrDefault(e => e.ProviderId == provider.Id) is { Enabled: false })
            {
                return [];
            }
            return [new ModelTarget(kind, provider.Id, provider.BaseUrl, model, type)];
        }

        var all = await catalog.GetAsync(cancellationToken);
        if (!all.ByModel.TryGetValue((requested, type), out var candidates))
        {
            return [];
        }
        List<ModelTarget> targets = [];
        foreach (var entry in candidates)
        {
            if (entry.Enabled && all.ById.TryGetValue(entry.ProviderId, out var provider) && provider.Enabled
                && (!provider.Kind.RequiresKey || provider.HasActiveCredential))
            {
                targets.Add(new ModelTarget(provider.Kind, provider.Id, provider.BaseUrl, entry.Model, type));
            }
        }
        return targets;
    }
}
