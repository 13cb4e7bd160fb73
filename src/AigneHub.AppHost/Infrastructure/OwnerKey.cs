namespace AigneHub.AppHost.Infrastructure;

internal static class OwnerKeyExtensions
{
    public const string ParameterName = "owner-key";

    /// <summary>
    /// The bootstrap owner's access key: a secret parameter. Set it with <c>Parameters:owner-key</c> (user secrets,
    /// environment <c>Parameters__owner-key</c>, or the command line). In development, when unset, one is generated
    /// into the data folder and printed the first time, then reused. In publish mode it is a secret input that the
    /// deployer (azd) asks for.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddOwnerKey(this IDistributedApplicationBuilder builder)
    {
        var configKey = $"Parameters:{ParameterName}";
        if (builder.ExecutionContext.IsRunMode && string.IsNullOrWhiteSpace(builder.Configuration[configKey]))
        {
            var dataRoot = DataRoot.Resolve(builder.Configuration);
            var (secret, created) = dataRoot.ReadOrCreateSecret(ParameterName, bytes: 24);
            var key = $"ahk_{secret}";
            builder.Configuration[configKey] = key;
            Console.WriteLine(created
                ? $"""

                   AigneHub owner access key (generated now, shown once; also stored in {dataRoot.Combine(ParameterName)}):
                       {key}
                   Call the Api with: Authorization: Bearer {key}

                   """
                : $"AigneHub owner access key: stored in {dataRoot.Combine(ParameterName)}");
        }
        return builder.AddParameter(ParameterName, secret: true)
            .WithDescription("Access key of the bootstrap owner account (at least 16 characters, no spaces).");
    }
}
