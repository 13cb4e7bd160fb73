using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using StackExchange.Redis;

namespace AigneHub.Admin.Auth;

public static class AdminDataProtectionExtensions
{
    /// <summary>The Redis list that holds the Admin's Data Protection key ring.</summary>
    public const string KeyRingKey = "aignehub:admin:data-protection-keys";

    /// <summary>
    /// The sign-in cookie (which carries the Api session token) and the antiforgery tokens are encrypted with ASP.NET
    /// Data Protection. Its keys live in Redis (connection string <c>redis</c>), so every Admin replica reads every
    /// other's cookies and a restart signs nobody out. Outside Development Redis is required: keys on a container's
    /// disk would sign everyone out on each deploy and break sign-in as soon as there are two replicas.
    /// </summary>
    public static IHostApplicationBuilder AddAdminDataProtection(this IHostApplicationBuilder builder)
    {
        builder.Services.AddDataProtection().SetApplicationName("AigneHub.Admin");
        if (string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString("redis")))
        {
            return builder.Environment.IsDevelopment()
                ? builder
                : throw new InvalidOperationException(
                    "ConnectionStrings:redis is required outside Development: the Admin keeps its Data Protection keys (which encrypt sign-in cookies) in Redis so that replicas share sign-ins.");
        }
        builder.AddRedisClient("redis");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
            options.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), KeyRingKey));
        return builder;
    }
}
