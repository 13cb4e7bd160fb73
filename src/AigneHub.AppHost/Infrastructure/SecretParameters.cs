namespace AigneHub.AppHost.Infrastructure;

/// <summary>
/// The AppHost's secrets as secret parameters. Set one with <c>Parameters:&lt;name&gt;</c> (user secrets, environment
/// <c>Parameters__&lt;name&gt;</c>, or the command line). In development, when unset, it is generated once into the
/// data folder (mode 0600) and reused. In publish mode it is a secret input that the deployer (azd) asks for.
/// </summary>
internal static class SecretParameters
{
    public const string OwnerKey = "owner-key";
    public const string MasterKey = "master-key";

    /// <summary>The bootstrap owner's access key; printed the first time it is generated.</summary>
    public static IResourceBuilder<ParameterResource> AddOwnerKey(this IDistributedApplicationBuilder builder) =>
        builder.AddSecret(OwnerKey, "Access key of the bootstrap owner account (at least 16 characters, no spaces).",
            prefix: "ahk_", bytes: 24, announce: (key, file) => Console.WriteLine($"""

                AigneHub owner access key (generated now, shown once; also stored in {file}):
                    {key}
                Call the Api with: Authorization: Bearer {key}

                """));

    /// <summary>The 32-byte key that encrypts provider credentials at rest (AES-256-GCM), as 64 hex digits.</summary>
    public static IResourceBuilder<ParameterResource> AddMasterKey(this IDistributedApplicationBuilder builder) =>
        builder.AddSecret(MasterKey, "32-byte key (base64 or 64 hex digits) that encrypts provider credentials. Losing it loses the stored credentials.",
            prefix: "", bytes: 32, announce: null);

    private static IResourceBuilder<ParameterResource> AddSecret(this IDistributedApplicationBuilder builder, string name, string description,
        string prefix, int bytes, Action<string, string>? announce)
    {
        var configKey = $"Parameters:{name}";
        if (builder.ExecutionContext.IsRunMode && string.IsNullOrWhiteSpace(builder.Configuration[configKey]))
        {
            var dataRoot = DataRoot.Resolve(builder.Configuration);
            var (value, created) = dataRoot.ReadOrCreateSecret(name, bytes, prefix);
            builder.Configuration[configKey] = value;
            if (created)
            {
                announce?.Invoke(value, dataRoot.Combine(name));
            }
            else if (announce is not null)
            {
                Console.WriteLine($"AigneHub {name}: stored in {dataRoot.Combine(name)}");
            }
        }
        return builder.AddParameter(name, secret: true).WithDescription(description);
    }
}
