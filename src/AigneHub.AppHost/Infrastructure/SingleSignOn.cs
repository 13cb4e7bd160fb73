namespace AigneHub.AppHost.Infrastructure;

internal static class SingleSignOn
{
    private const string Section = "AigneHub:Auth:Oidc";

    /// <summary>
    /// Enterprise sign-in, off unless <c>AigneHub:Auth:Oidc:Authority</c> and <c>ClientId</c> are set on the AppHost
    /// (user secrets or environment). Both the Api (which validates the ID token) and the Admin (which runs the
    /// code flow) get the same settings; the client secret travels as the secret parameter <c>oidc-client-secret</c>.
    /// </summary>
    public static void WithSingleSignOn(this IDistributedApplicationBuilder builder, params IResourceBuilder<IResourceWithEnvironment>[] services)
    {
        var authority = builder.Configuration[$"{Section}:Authority"];
        var clientId = builder.Configuration[$"{Section}:ClientId"];
        if (string.IsNullOrWhiteSpace(authority) || string.IsNullOrWhiteSpace(clientId))
        {
            return;
        }
        var secret = builder.AddParameterFromConfiguration("oidc-client-secret", $"{Section}:ClientSecret", secret: true);
        var displayName = builder.Configuration[$"{Section}:DisplayName"];
        foreach (var service in services)
        {
            service.WithEnvironment("AigneHub__Auth__Oidc__Authority", authority)
                .WithEnvironment("AigneHub__Auth__Oidc__ClientId", clientId)
                .WithEnvironment("AigneHub__Auth__Oidc__ClientSecret", secret);
            if (!string.IsNullOrWhiteSpace(displayName))
            {
                service.WithEnvironment("AigneHub__Auth__Oidc__DisplayName", displayName);
            }
        }
    }
}
