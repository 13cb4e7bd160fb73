using AigneHub.Data;
using AigneHub.Data.Billing;
using AigneHub.Data.Gateway;
using AigneHub.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace AigneHub.Tests.Data;

/// <summary>The SnakeCaseNames migration renames in place: what a database held under <c>Initial</c> it still holds,
/// under the names and with the keys, indexes and constraints that today's model describes.</summary>
public sealed class SnakeCaseMigrationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Rows_written_under_Initial_survive_the_rename_with_their_keys_indexes_and_constraints()
    {
        var servers = await TestServers.GetAsync();
        await using var dataSource = NpgsqlDataSource.Create(await servers.CreateDatabaseAsync("snake"));
        // Migrated to Initial as the builds before the naming convention did (their options, history table included).
        var before = new DbContextOptionsBuilder<AigneHubDbContext>()
            .UseNpgsql(dataSource, npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory", AigneHubDbContext.Schema));
        await using (var db = new AigneHubDbContext(before.Options))
        {
            await db.GetService<IMigrator>().MigrateAsync("Initial");
        }

        // :: Step 1: rows of a few tables as the Initial schema stored them. Written positionally, in the column order
        // Initial created, so that this test names no column of the old schema.
        var user = Guid.NewGuid();
        var key = Guid.NewGuid();
        var provider = Guid.NewGuid();
        var credential = Guid.NewGuid();
        var model = Guid.NewGuid();
        byte[] hash = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
        await InsertAsync(dataSource, "users", user, "ada@example.test", "Ada", "did:abt:ada", "Admin", false, T0, DBNull.Value, DBNull.Value);
        await InsertAsync(dataSource, "access_keys", key, user, "laptop", "Api", "ahk_ada", hash, T0, DBNull.Value, DBNull.Value, DBNull.Value);
        await InsertAsync(dataSource, "providers", provider, "openai", "OpenAI", "http://127.0.0.1:1/", true, T0, T0);
        await InsertAsync(dataSource, "provider_credentials", credential, provider, "main", new byte[] { 1, 2, 3 }, "sk-…1234", 250, "Inactive",
            "401", T0, DBNull.Value, T0.AddMinutes(5), 2, T0, T0);
        await InsertAsync(dataSource, "ai_models", model, provider, "gpt-x", "Chat", "GPT X",
            new NpgsqlParameter { Value = "{\"context\": 128000}", NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Jsonb }, true, T0);
        await InsertAsync(dataSource, "model_health", "openai", "gpt-x", "Chat", false, "RateLimited", "slow down", 250, T0, T0);
        await InsertAsync(dataSource, "credit_accounts", user, 12.5m, 0m, T0, T0);

        // :: Step 2: today's build migrates it (it must read the history the old build wrote) and renames.
        await using (var db = Context(dataSource))
        {
            var pending = (await db.Database.GetPendingMigrationsAsync()).ToList();
            Assert.DoesNotContain(pending, m => m.EndsWith("_Initial", StringComparison.Ordinal));
            Assert.Contains(pending, m => m.EndsWith("_SnakeCaseNames", StringComparison.Ordinal));
            await db.Database.MigrateAsync();
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        }

        // :: Step 3: the same rows, read through today's model.
        await using (var db = Context(dataSource))
        {
            var ada = await db.Users.Include(u => u.AccessKeys).AsNoTracking().SingleAsync();
            Assert.Equal((user, "ada@example.test", "Ada", "did:abt:ada", AigneHub.Data.Identity.UserRole.Admin, T0),
                (ada.Id, ada.Email, ada.DisplayName, ada.Did, ada.Role, ada.CreatedAt));
            var accessKey = Assert.Single(ada.AccessKeys);
            Assert.Equal((key, "laptop", "ahk_ada"), (accessKey.Id, accessKey.Name, accessKey.Prefix));
            Assert.Equal(hash, accessKey.Hash);

            var openai = await db.Set<Provider>().Include(p => p.Credentials).Include(p => p.Models).AsNoTracking().SingleAsync();
            Assert.Equal((provider, "openai", "http://127.0.0.1:1/"), (openai.Id, openai.Name, openai.BaseUrl));
            var main = Assert.Single(openai.Credentials);
            Assert.Equal((credential, 250, CredentialStatus.Inactive, T0.AddMinutes(5), 2), (main.Id, main.Weight, main.Status, main.NextCheckAt, main.FailedChecks));
            Assert.Equal([1, 2, 3], main.EncryptedValue);
            var gpt = Assert.Single(openai.Models);
            Assert.Equal((model, "gpt-x", ModelType.Chat, "GPT X"), (gpt.Id, gpt.Model, gpt.Type, gpt.DisplayName));

            var health = await db.Set<ModelHealth>().AsNoTracking().SingleAsync();
            Assert.Equal(("openai", false, "RateLimited", 250), (health.ProviderName, health.Available, health.ErrorClass, health.ResponseTimeMs));
            Assert.Equal(12.5m, (await db.Set<CreditAccount>().AsNoTracking().SingleAsync()).Balance);
        }

        // :: Step 4: the renamed keys, indexes and constraints still hold.
        var duplicateDid = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(dataSource,
            "INSERT INTO aignehub.users (id, email, did, role, disabled, created_at) VALUES (gen_random_uuid(), 'eve@example.test', 'did:abt:ada', 'Member', false, now())"));
        Assert.Equal((PostgresErrorCodes.UniqueViolation, "ix_users_did"), (duplicateDid.SqlState, duplicateDid.ConstraintName));
        var badWeight = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(dataSource,
            "UPDATE aignehub.provider_credentials SET weight = 0"));
        Assert.Equal((PostgresErrorCodes.CheckViolation, "ck_provider_credentials_weight"), (badWeight.SqlState, badWeight.ConstraintName));
        await ExecuteAsync(dataSource, "DELETE FROM aignehub.providers");
        Assert.Equal(0L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM aignehub.provider_credentials"));
        Assert.Equal(0L, await ScalarAsync<long>(dataSource, "SELECT count(*) FROM aignehub.ai_models"));

        // :: Step 5: the migrated schema is exactly the one the model creates from scratch (no leftover name, no
        // missing index), compared on a second database made by EnsureCreated, which bypasses the migrations.
        await using var fresh = NpgsqlDataSource.Create(await servers.CreateDatabaseAsync("snake"));
        await using (var db = Context(fresh))
        {
            Assert.True(await db.Database.EnsureCreatedAsync());
        }
        Assert.Equal(await SchemaAsync(fresh), await SchemaAsync(dataSource));
    }

    private static AigneHubDbContext Context(NpgsqlDataSource dataSource)
    {
        var options = new DbContextOptionsBuilder<AigneHubDbContext>();
        DatabaseExtensions.ConfigureContext(options, dataSource);
        return new AigneHubDbContext(options.Options);
    }

    /// <summary>One row, its values in column order (an <see cref="NpgsqlParameter"/> where the type must be told).</summary>
    private static async Task InsertAsync(NpgsqlDataSource dataSource, string table, params object[] values)
    {
        await using var cmd = dataSource.CreateCommand(
            $"INSERT INTO aignehub.{table} VALUES ({string.Join(", ", values.Select((_, i) => $"${i + 1}"))})");
        foreach (var value in values)
        {
            cmd.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        }
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource dataSource, string sql)
    {
        await using var cmd = dataSource.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Every column (type, nullability, default), index (its full definition, name included) and
    /// constraint (name and definition) of the schema, the migrations history aside, in a stable order.</summary>
    private static async Task<List<string>> SchemaAsync(NpgsqlDataSource dataSource)
    {
        const string sql = """
            SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                   || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = 'aignehub' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
                AND c.relname <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'index ' || pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            JOIN pg_class c ON c.oid = i.indrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'aignehub' AND c.relname <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
            FROM pg_constraint k
            JOIN pg_class c ON c.oid = k.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'aignehub' AND c.relname <> '__EFMigrationsHistory'
            ORDER BY 1
            """;
        List<string> lines = [];
        await using var cmd = dataSource.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(0));
        }
        Assert.NotEmpty(lines);
        return lines;
    }
}
