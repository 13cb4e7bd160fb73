using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Migrations.Internal;

namespace AigneHub.Data;

/// <summary>
/// The migrations history table exactly as EF Core names it (<c>"MigrationId"</c>, <c>"ProductVersion"</c>). The
/// snake_case convention would rename its columns too, and EF Core reads the history before it applies any
/// migration, so a database created before the convention could no longer be migrated at all (a known limitation of
/// EFCore.NamingConventions, efcore/EFCore.NamingConventions#1). It is EF Core's table, not part of our schema.
/// </summary>
#pragma warning disable EF1001 // Subclassing the provider's history repository is EF Core's documented way to shape this table.
internal sealed class MigrationsHistory(HistoryRepositoryDependencies dependencies) : NpgsqlHistoryRepository(dependencies)
#pragma warning restore EF1001
{
    protected override void ConfigureTable(EntityTypeBuilder<HistoryRow> history)
    {
        base.ConfigureTable(history);
        history.HasKey(h => h.MigrationId).HasName("PK___EFMigrationsHistory");
        history.Property(h => h.MigrationId).HasColumnName(nameof(HistoryRow.MigrationId));
        history.Property(h => h.ProductVersion).HasColumnName(nameof(HistoryRow.ProductVersion));
    }
}
