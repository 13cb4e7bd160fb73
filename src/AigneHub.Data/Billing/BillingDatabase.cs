using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace AigneHub.Data.Billing;

/// <summary>
/// The money path's own connection pool: plain Npgsql commands with automatic preparation, no change tracker and
/// no DbContext rent per call. Shared by the Api (start/settle) and the Worker (cleanup, delivery, rollups), which
/// both run the statements of <see cref="BillingSql"/>.
/// </summary>
public sealed class BillingDatabase(NpgsqlDataSource dataSource) : IAsyncDisposable
{
    public NpgsqlDataSource DataSource { get; } = dataSource;

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();

    public static IServiceCollection AddBillingDatabase(IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(_ =>
        {
            var connectionString = configuration.GetConnectionString(DatabaseExtensions.ConnectionName)
                ?? throw new InvalidOperationException($"ConnectionStrings:{DatabaseExtensions.ConnectionName} is required.");
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            // The handful of billing statements run on every call: let Npgsql prepare them once per connection.
            builder.ConnectionStringBuilder.MaxAutoPrepare = Math.Max(builder.ConnectionStringBuilder.MaxAutoPrepare, 32);
            builder.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            builder.EnableDynamicJson();
            return new BillingDatabase(builder.Build());
        });
        return services;
    }
}
