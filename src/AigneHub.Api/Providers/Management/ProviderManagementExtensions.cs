using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Providers.Management;

public static class ProviderManagementExtensions
{
    /// <summary>
    /// Provider configuration, encrypted credentials, the model catalogue and routing: <see cref="IModelResolver"/>,
    /// <see cref="ICredentialPool"/>, <see cref="IModelHealthTracker"/> (+ <see cref="IModelHealthView"/>),
    /// <see cref="IModelCatalog"/>, <see cref="ICredentialTester"/>, the credential re-check worker and the Redis
    /// change notifications. Requires Postgres and Redis (<c>AddDataServices</c>) and the master key
    /// <c>AigneHub:Secrets:MasterKey</c>, validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddProviderManagement(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SecretsOptions>().BindConfiguration(SecretsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecretsOptions>, ValidateSecretsOptions>();
        services.AddOptions<DemoProviderOptions>().BindConfiguration(DemoProviderOptions.Section);
        services.AddOptions<ProviderHttpOptions>().BindConfiguration(ProviderHttpOptions.Section);
        services.TryAddSingleton<ProviderHttp>();
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<CredentialProtector>();
        services.AddSingleton<ProviderCatalog>();
        services.AddSingleton<IModelCatalog>(sp => sp.GetRequiredService<ProviderCatalog>());
        services.AddSingleton<ModelHealthTracker>();
        services.AddSingleton<IModelHealthTracker>(sp => sp.GetRequiredService<ModelHealthTracker>());
        services.AddSingleton<IModelHealthView>(sp => sp.GetRequiredService<ModelHealthTracker>());
        services.AddSingleton<ProviderConfigChanges>();
        services.AddHostedService(sp => sp.GetRequiredService<ProviderConfigChanges>());
        services.AddSingleton<IModelResolver, ModelResolver>();
        services.AddSingleton<CredentialPool>();
        services.AddSingleton<ICredentialPool>(sp => sp.GetRequiredService<CredentialPool>());
        services.TryAddSingleton<ICredentialTester, ChatCredentialTester>();
        services.AddHostedService<CredentialMaintenanceService>();

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ProviderManagementJson.Default));
        return builder;
    }
}
