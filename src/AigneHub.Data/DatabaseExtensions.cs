using Microsoft.EntityFrameworkCore;
using Npgsql.EntityFrameworkCore.PostgreSQL.Infrastructure;
using Microsoft.Extensions.Hosting;

namespace AigneHub.Data;

public static class DatabaseExtensions
{
    /// <summary>Connection string name of the database, as the AppHost names it.</summary>
    public const string ConnectionName = "aignehub";

    /// <summary>
    /// The DbContext through the Aspire integration (pooling, health check, tracing), configured identically in
    /// every service that uses the schema.
    /// </summary>
    public static IHostApplicationBuilder AddAigneHubDatabase(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDbContext<AigneHubDbContext>(ConnectionName,
            configureDbContextOptions: options => options.UseNpgsql(ConfigureNpgsql));
        return builder;
    }

    /// <summary>Everything of the schema lives in its own schema, the migrations history included.</summary>
    internal static void ConfigureNpgsql(NpgsqlDbContextOptionsBuilder npgsql) =>
        npgsql.MigrationsHistoryTable("__EFMigrationsHistory", AigneHubDbContext.Schema);
}
