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
/// <list type="number">
/// <item><c>provider/model</c> with a known provider prefix: that provider when it is configured and enabled; the
/// model id is passed on as given. A catalogue entry is not required, but a <em>disabled</em> one withdraws the
/// model. Aliases never apply to such a name.</item>
/// <item>An exact alias: its targets in order (each as in 1; a <c>*</c> in a target is the requested name).</item>
/// <item>The catalogue (including ids such as <c>meta-llama/llama-3</c> whose prefix is no provider): every enabled
/// provider with an enabled catalogue entry for that exact model and type, in catalogue order, skipping providers
/// that need a key and have no active one.</item>
/// <item>The most specific matching alias pattern (<c>claude-*</c>): its targets, as in 2. Patterns come after the
/// catalogue so that an admin's entry for one model is never overridden by a family default.</item>
/// </list>
/// <c>demo/…</c> is the built-in demo provider, when <c>AigneHub:Providers:Demo:Enabled</c> is true. Rates and
/// limits apply to the resolved targets; the call record keeps the requested name beside the serving one.
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
        var snapshot = await catalog.GetAsync(cancellationToken);
        if (Direct(snapshot, requested, type) is { } direct)
        {
            return direct;
        }
        if (snapshot.Aliases.FindExact(requested) is { } exact)
        {
            return Expand(snapshot, exact, requested, type);
        }

        List<ModelTarget> targets = [];
        if (snapshot.ByModel.TryGetValue((requested, type), out var candidates))
        {
            foreach (var entry in candidates)
            {
                if (entry.Enabled && snapshot.ById.TryGetValue(entry.ProviderId, out var provider) && provider.Enabled
                    && (!provider.Kind.RequiresKey || provider.HasActiveCredential))
                {
                    targets.Add(new ModelTarget(provider.Kind, provider.Id, provider.BaseUrl, entry.Model, type) { Settings = provider.Settings });
                }
            }
            return targets;
        }
        return snapshot.Aliases.FindPattern(requested) is { } pattern ? Expand(snapshot, pattern, requested, type) : targets;
    }

    private List<ModelTarget> Expand(ProviderSnapshot snapshot, AliasEntry alias, string requested, ModelType type)
    {
        List<ModelTarget> targets = [];
        foreach (var target in alias.TargetsFor(requested))
        {
            if (Direct(snapshot, target, type) is { Count: > 0 } resolved && !targets.Contains(resolved[0]))
            {
                targets.Add(resolved[0]);
            }
        }
        return targets;
    }

    /// <summary>A <c>provider/model</c> name: its one target, none when that provider cannot serve it, or null when
    /// the name has no known provider prefix.</summary>
    private List<ModelTarget>? Direct(ProviderSnapshot snapshot, string name, ModelType type)
    {
        var slash = name.IndexOf('/');
        var kind = slash > 0 ? ProviderKinds.Find(name[..slash]) : null;
        if (kind is null)
        {
            return null;
        }
        var model = name[(slash + 1)..];
        if (model.Length == 0)
        {
            return [];
        }
        if (kind == ProviderKinds.Demo)
        {
            return demo.CurrentValue.Enabled ? [new ModelTarget(kind, null, kind.DefaultBaseUrl, model, type)] : [];
        }
        if (!snapshot.ByName.TryGetValue(kind.Name, out var provider) || !provider.Enabled)
        {
            return [];
        }
        if (snapshot.ByModel.TryGetValue((model, type), out var entries)
            && entries.FirstOrDefault(e => e.ProviderId == provider.Id) is { Enabled: false })
        {
            return [];
        }
        return [new ModelTarget(kind, provider.Id, provider.BaseUrl, model, type) { Settings = provider.Settings }];
    }
}
