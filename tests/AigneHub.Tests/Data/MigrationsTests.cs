using AigneHub.Data;
using Microsoft.EntityFrameworkCore;

namespace AigneHub.Tests.Data;

/// <summary>The migrations describe today's model. The Api's start no longer asks EF Core this (it built a second,
/// design-time model at every start, DatabaseExtensions.ConfigureContext), so it is asked here.</summary>
public sealed class MigrationsTests
{
    [Fact]
    public void The_model_has_no_change_that_a_migration_is_missing_for()
    {
        using var db = new DesignTimeDbContextFactory().CreateDbContext([]);
        Assert.False(db.Database.HasPendingModelChanges(),
            "the model differs from the last migration's snapshot: add a migration (see AigneHubDbContext's remarks)");
    }
}
