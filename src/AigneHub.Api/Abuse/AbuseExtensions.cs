using AigneHub.Api.Infrastructure;
using Microsoft.Extensions.Options;

namespace AigneHub.Api.Abuse;

/// <summary>
/// What an unauthenticated client can cost the hub: per-address limits on anonymous routes
/// (<see cref="ClientRateLimits"/>) and on made-up credentials (<see cref="UnknownCredentialGuard"/>); management
/// bodies are bounded by their one reader, <see cref="JsonBody"/>. The client address comes from trusted proxies only
/// (<see cref="TrustedProxyOptions"/>). Configuration: <c>AigneHub:ClientLimits</c>, <c>AigneHub:ForwardedHeaders</c>.
/// </summary>
public static class AbuseExtensions
{
    public static IHostApplicationBuilder AddClientLimits(this IHostApplicationBuilder builder)
    {
        builder.AddTrustedProxies();
        builder.Services.AddOptions<ClientLimitOptions>().BindConfiguration(ClientLimitOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ClientLimitOptions>, ValidateClientLimitOptions>();
        ClientRateLimits.AddClientRateLimits(builder.Services);
        builder.Services.AddSingleton<UnknownCredentialGuard>();
        return builder;
    }
}
