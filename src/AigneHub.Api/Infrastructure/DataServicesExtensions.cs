using AigneHub.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AigneHub.Api.Infrastructure;

public static class DataServicesExtensions
{
    /// <summary>
    /// Postgres (connection string <c>aignehub</c>) and Redis (<c>redis</c>) through the Aspire client
    /// integrations (pooling, health checks, tracing); the Api owns the schema and applies its migrations.
    /// </summary>
    public static IHostApplicationBuilder AddDataServices(this IHostApplicationBuilder builder)
    {
        builder.AddAigneHubDatabase();
        builder.AddRedisClient("redis");

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DatabaseMigrationState>();
        builder.Services.AddHostedService<DatabaseMigrator>();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseMigrationHealthCheck>("database-migrations");
        return builder;
    }
}
