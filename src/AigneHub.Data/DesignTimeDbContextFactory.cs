using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Npgsql;

namespace AigneHub.Data;

/// <summary>Lets <c>dotnet ef</c> build the model without a host or a database (a data source opens no connection
/// until it is used).</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AigneHubDbContext>
{
    public AigneHubDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<AigneHubDbContext>();
        DatabaseExtensions.ConfigureContext(options, NpgsqlDataSource.Create("Host=localhost;Database=aignehub"));
        return new(options.Options);
    }
}
