using AigneHub.Data;

namespace AigneHub.Worker;

public static class WorkerDataExtensions
{
    /// <summary>
    /// The Worker's default bound on its Postgres connections (<see cref="DatabaseExtensions.MaxPoolSizeKey"/>): its
    /// five jobs each run one statement at a time, plus the health checks; docs/designs/local-infrastructure.md
    /// budgets it beside the Api's.
    /// </summary>
    public const int DefaultMaxPoolSize = 10;

    /// <summary>The schema's one data source and DbContext, and a health check that stays Degraded until the Api has
    /// applied the migrations this build knows.</summary>
    public static IHostApplicationBuilder AddWorkerData(this IHostApplicationBuilder builder)
    {
        builder.AddAigneHubDatabase(DefaultMaxPoolSize);
        builder.Services.AddHealthChecks().AddCheck<SchemaHealthCheck>("database-schema");
        return builder;
    }
}
