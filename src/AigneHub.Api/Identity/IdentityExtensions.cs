using AigneHub.Contracts.Identity;
using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Identity;

public static class IdentityExtensions
{
    /// <summary>
    /// Authentication (access keys and sessions as Bearer; signed v1 component calls), the authorization policies,
    /// the key cache with its cross-replica revocation, and the identity routes' services.
    /// </summary>
    /// <summary>The scheme the v1 routes authenticate with (policy <see cref="AuthorizationPolicies.App"/> uses it).</summary>
    public const string AppSignatureScheme = AppSignatureAuthenticationHandler.SchemeName;

    public static IHostApplicationBuilder AddIdentityServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AuthOptions>, ValidateAuthOptions>();
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(IdentityJsonContext.Default));

        services.AddSingleton<AccessKeyCache>();
        services.AddSingleton<AccessKeyRevocations>();
        services.AddSingleton<AccessKeyUsageRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<AccessKeyUsageRecorder>());
        services.AddSingleton<AccessKeyIssuer>();
        services.AddScoped<IdentityServices>();
        services.AddSingleton<OidcTokenValidator>();
        services.AddHttpClient(OidcTokenValidator.HttpClientName);
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddSingleton<LoginThrottle>();
        services.AddSingleton<AppRegistry>();
        services.AddSingleton<IAuthorizationHandler, CurrentSubscriptionHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, IdentityAuthorizationResultHandler>();

        services.AddAuthentication(AccessKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, AccessKeyAuthenticationHandler>(AccessKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AppSignatureAuthenticationHandler>(AppSignatureAuthenticationHandler.SchemeName, null);
        // AddAuthentication registers Data Protection, whose hosted service loads (or creates and writes) its XML key
        // ring at every start. Nothing in the Api protects data (keys and sessions are our own Bearer tokens), so the
        // ring is left to load on first use, if any: ~3 MiB less idle RSS (System.Private.Xml, the ring; bench/README.md).
        foreach (var keyRingPrefetch in services.Where(d => d.ServiceType == typeof(IHostedService)
            && d.ImplementationType?.Assembly == typeof(DataProtectionOptions).Assembly).ToList())
        {
            services.Remove(keyRingPrefetch);
        }

        // Deny by default: only routes that name the Inference policy accept an inference-scoped key.
        services.AddAuthorizationBuilder()
            .AddPolicy(AuthorizationPolicies.Admin, p => p.RequireAuthenticatedUser()
                .RequireRole(RoleNames.Owner, RoleNames.Admin).RequireClaim(AigneHubClaims.Scope, ScopeNames.Full))
            .AddPolicy(AuthorizationPolicies.Owner, p => p.RequireAuthenticatedUser()
                .RequireRole(RoleNames.Owner).RequireClaim(AigneHubClaims.Scope, ScopeNames.Full))
            .AddPolicy(AuthorizationPolicies.Member, p => p.RequireAuthenticatedUser()
                .RequireRole(RoleNames.Owner, RoleNames.Admin, RoleNames.Member).RequireClaim(AigneHubClaims.Scope, ScopeNames.Full))
            .AddPolicy(AuthorizationPolicies.Inference, p => p.RequireAuthenticatedUser()
                .RequireRole(RoleNames.Owner, RoleNames.Admin, RoleNames.Member))
            .AddPolicy(AuthorizationPolicies.SignedIn, p => p.RequireAuthenticatedUser()
                .AddAuthenticationSchemes(AccessKeyAuthenticationHandler.SchemeName))
            // v1: only the component signature counts (never an access key), and the subscription must be current.
            .AddPolicy(AuthorizationPolicies.App, p => p.AddAuthenticationSchemes(AppSignatureAuthenticationHandler.SchemeName)
                .RequireAuthenticatedUser()
                .RequireClaim(AigneHubClaims.AppId)
                .AddRequirements(new CurrentSubscriptionRequirement()));
        return builder;
    }

    /// <summary>All identity routes; each declares its own policy.</summary>
    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        app.MapUsersApi();
        app.MapInvitationsApi();
        app.MapAccessKeysApi();
        app.MapAppsApi();
        app.MapAuthApi();
        app.MapConnectApi();
        return app;
    }
}
