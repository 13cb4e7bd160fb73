using AigneHub.Data.Identity;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Data;

/// <summary>
/// The one schema of AigneHub (configuration, identity, model calls, billing), shared by the Api and the Worker.
/// The Api owns migrations: it applies them at start and reports Degraded health until they are applied; the
/// Worker waits for it.
/// </summary>
/// <remarks>
/// Add a migration from the repository root:
/// <code>dotnet ef migrations add &lt;Name&gt; --project src/AigneHub.Data --startup-project src/AigneHub.Data</code>
/// (the design-time factory needs no running database). Names are snake_case by convention
/// (<see cref="DatabaseExtensions.ConfigureContext"/>): raw SQL writes them unquoted.
/// </remarks>
public sealed class AigneHubDbContext(DbContextOptions<AigneHubDbContext> options) : DbContext(options)
{
    public const string Schema = "aignehub";

    public DbSet<User> Users => Set<User>();

    public DbSet<AccessKey> AccessKeys => Set<AccessKey>();

    public DbSet<Invitation> Invitations => Set<Invitation>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(Schema);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(AigneHubDbContext).Assembly);
    }
}
