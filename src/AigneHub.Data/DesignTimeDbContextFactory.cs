using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AigneHub.Data;

/// <summary>Lets <c>dotnet ef</c> build the model without a host or a database.</summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AigneHubDbContext>
{
    public AigneHubDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AigneHubDbContext>()
            .UseNpgsql("Host=localhost;Database=aignehub", DatabaseExtensions.ConfigureNpgsql)
            .Options);
}
