using AigneHub.Api.Providers;
using AigneHub.Api.Routing;
using AigneHub.Contracts.Aliases;
using AigneHub.Contracts.Management;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Management;

public static class ProviderManagementExtensions
{
    /// <summary>
    /// Provider configuration and encrypted credentials (edited through the admin APIs), <see cref="ICredentialTester"/>
    /// and the credential re-check worker; the routing core they feed is <see cref="RoutingExtensions.AddModelRouting"/>.
    /// Requires Postgres and Redis (<c>AddDataServices</c>), the provider adapters (<c>AddProviders</c>) and the master key <c>AigneHub:Secrets:MasterKey</c>,
    /// validated at start.
    /// </summary>
    public static IHostApplicationBuilder AddProviderManagement(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SecretsOptions>().BindConfiguration(SecretsOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecretsOptions>, ValidateSecretsOptions>();
        services.TryAddSingleton(TimeProvider.System);

        services.AddSingleton<CredentialProtector>();
        services.TryAddSingleton<ICredentialTester, ChatCredentialTester>();
        services.TryAddSingleton<ProviderModelList>();
        services.AddHostedService<CredentialMaintenanceService>();

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, ManagementJsonContext.Default);
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, AliasesJsonContext.Default);
        });
        return builder;
    }
}
