using AigneHub.Api.Management;

namespace AigneHub.Api.Routing;

public static class RoutingExtensions
{
    /// <summary>
    /// The hot-path routing core: <see cref="IModelResolver"/> (requested name → candidates), the in-memory
    /// <see cref="IModelCatalog"/> snapshot, <see cref="ICredentialPool"/> (weighted rotation, cool-downs) and
    /// <see cref="IModelHealthTracker"/> (+ <see cref="IModelHealthView"/>), their snapshots kept in the
    /// <see cref="Infrastructure.ReplicatedCache"/>. The admin APIs that edit them live in <c>Management/</c> and
    /// report changes to <see cref="ProviderConfigChanges"/>.
    /// </summary>
    public static IHostApplicationBuilder AddModelRouting(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<DemoProviderOptions>().BindConfiguration(DemoProviderOptions.Section);
        services.AddSingleton<ProviderCatalog>();
        services.AddSingleton<IModelCatalog>(sp => sp.GetRequiredService<ProviderCatalog>());
        services.AddSingleton<ModelHealthTracker>();
        services.AddSingleton<IModelHealthTracker>(sp => sp.GetRequiredService<ModelHealthTracker>());
        services.AddSingleton<IModelHealthView>(sp => sp.GetRequiredService<ModelHealthTracker>());
        services.AddSingleton<ProviderConfigChanges>();
        services.AddSingleton<IModelResolver, ModelResolver>();
        services.AddOptions<CooldownOptions>().BindConfiguration(CooldownOptions.Section)
            .Validate(o => o.FirstBackoff > TimeSpan.Zero && o.MaxCooldown >= o.FirstBackoff,
                $"{CooldownOptions.Section}:FirstBackoff must be positive and {CooldownOptions.Section}:MaxCooldown at least as long.")
            .ValidateOnStart();
        services.AddSingleton<CredentialPool>();
        services.AddSingleton<ICredentialPool>(sp => sp.GetRequiredService<CredentialPool>());
        return builder;
    }
}
