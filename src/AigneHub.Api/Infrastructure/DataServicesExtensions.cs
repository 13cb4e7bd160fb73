using AigneHub.Data;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AigneHub.Api.Infrastructure;

public static class DataServicesExtensions
{
    /// <summary>
    /// The Api's default bound on its Postgres connections (<see cref="DatabaseExtensions.MaxPoolSizeKey"/>). A call
    /// holds a connection only while one of its few statements runs (start, settle), never while the provider
    /// answers, so 40 serve far more concurrent calls; docs/designs/local-infrastructure.md budgets it across replicas.
    /// </summary>
    public const int DefaultMaxPoolSize = 40;

    /// <summary>
    /// Postgres (connection string <c>aignehub</c>: one data source for EF Core and raw SQL) and Redis
    /// (<c>redis</c>) through the Aspire client integrations (pooling, health checks, tracing); the Api owns the
    /// schema and applies its migrations.
    /// </summary>
    public static IHostApplicationBuilder AddDataServices(this IHostApplicationBuilder builder)
    {
        builder.AddAigneHubDatabase(DefaultMaxPoolSize);
        // StackExchange.Redis's default socket manager runs its own dedicated threads that spin while waiting: a
        // profile of the governed Api at moderate load had them at ~11% of its CPU (bench/README.md). The .NET thread
        // pool serves the few Redis replies per request as well, without threads of its own.
        builder.AddRedisClient("redis", configureOptions: options => options.SocketManager = StackExchange.Redis.SocketManager.ThreadPool);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<DatabaseMigrationState>();
        builder.Services.AddHostedService<DatabaseMigrator>();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseMigrationHealthCheck>("database-migrations");
        return builder;
    }
}
