using AigneHub.Data.Identity;
using Microsoft.AspNetCore.Authentication;

namespace AigneHub.Api.Identity;

public static class IdentityExtensions
{
    public static IHostApplicationBuilder AddIdentityServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddMemoryCache();
        builder.Services.AddAuthentication(AccessKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, AccessKeyAuthenticationHandler>(AccessKeyAuthenticationHandler.SchemeName, null);

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AuthorizationPolicies.Admin, p => p.RequireAuthenticatedUser()
                .RequireRole(Role(UserRole.Owner), Role(UserRole.Admin)))
            .AddPolicy(AuthorizationPolicies.Owner, p => p.RequireAuthenticatedUser()
                .RequireRole(Role(UserRole.Owner)))
            .AddPolicy(AuthorizationPolicies.Member, p => p.RequireAuthenticatedUser()
                .RequireRole(Role(UserRole.Owner), Role(UserRole.Admin), Role(UserRole.Member)));
        return builder;
    }

    private static string Role(UserRole role) => role.ToString().ToLowerInvariant();
}
