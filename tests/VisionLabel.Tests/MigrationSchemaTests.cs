using Microsoft.EntityFrameworkCore.Infrastructure;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Each provider's migrations (the shared hand-written ones, then generated ones) must build exactly the schema EF
/// creates from the model, from scratch and from an older database; and the model must have no change that no
/// migration covers (its snapshot, per provider, says what the migrations cover).
/// </summary>
[Trait("Tier", Tiers.System)]
public class MigrationSchemaTests
{
    private static VisionLabelDb Context(string provider, string connectionString) =>
        DatabaseSetup.CreateContext(new DatabaseOptions { Provider = provider, ConnectionString = connectionString }, new VisionLabelOptions());

    [Fact]
    public async Task Sqlite_migrations_produce_the_model_schema()
    {
        using var dir = new TempDirectory();
        string migrated = $"Data Source={Path.Combine(dir.Path, "migrated.db")};Pooling=False";
        string created = $"Data Source={Path.Combine(dir.Path, "created.db")};Pooling=False";
        await using (var db = Context("sqlite", migrated)) await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        await using (var db = Context("sqlite", created)) await db.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);

        Assert.Equal(await SqliteSchema(created), await SqliteSchema(migrated));
    }

    [Fact]
    public async Task Postgres_migrations_produce_the_model_schema()
    {
        using var migrated = PostgresDatabase.Require();
        using var created = PostgresDatabase.Require();
        await using (var db = Context("postgres", migrated.ConnectionString)) await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
        await using (var db = Context("postgres", created.ConnectionString)) await db.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);

        Assert.Equal(await PostgresSchema(created.ConnectionString), await PostgresSchema(migrated.ConnectionString));
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgres")]
    public void The_model_has_no_change_that_no_migration_covers(string provider)
    {
        // Needs no server: the model is compared with the provider's snapshot.
        using var db = Context(provider, provider == "sqlite" ? "Data Source=unused.db" : "Host=localhost;Database=unused");
        Assert.False(db.Database.HasPendingModelChanges(),
            $"the model changed without a migration: run `dotnet ef migrations add NAME --project src/VisionLabel.Server --context {db.GetType().Name} " +
            $"--output-dir Data/Migrations/{(provider == "sqlite" ? "Sqlite" : "Postgres")}` for both providers (see Data/DesignTimeContexts.cs)");
    }

    [Fact]
    public async Task An_older_sqlite_database_upgrades_in_place()
    {
        using var dir = new TempDirectory();
        string old = $"Data Source={Path.Combine(dir.Path, "old.db")};Pooling=False";
        string created = $"Data Source={Path.Combine(dir.Path, "created.db")};Pooling=False";
        // A database as the version before Hangfire left it (its history names the same migration ids)...
        await using (var db = Context("sqlite", old))
        {
            await db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>().MigrateAsync("20261201000000_UndoStacks", TestContext.Current.CancellationToken);
            await db.Database.ExecuteSqlRawAsync("INSERT INTO \"Projects\" (\"Id\", \"Name\", \"CreatedAt\", \"UpdatedAt\") VALUES ('6F9619FF-8B86-D011-B42D-00C04FC964FF', 'kept', '2026-11-30 10:00:00', '2026-11-30 10:00:00')", TestContext.Current.CancellationToken);
        }
        // ...is brought up to date by the start-up migration, keeping its rows.
        await using (var db = Context("sqlite", old))
        {
            await db.Database.MigrateAsync(TestContext.Current.CancellationToken);
            Assert.Equal("kept", await db.Projects.Select(p => p.Name).SingleAsync(TestContext.Current.CancellationToken));
        }
        await using (var db = Context("sqlite", created)) await db.Database.EnsureCreatedAsync(TestContext.Current.CancellationToken);
        Assert.Equal(await SqliteSchema(created), await SqliteSchema(old));
    }

    private static async Task<List<string>> SqliteSchema(string connectionString)
    {
        await using var c = new SqliteConnection(connectionString);
        await c.OpenAsync();
        var tables = await Query(c, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '__EF%' ORDER BY name");
        var schema = new List<string>();
        foreach (var table in tables)
        {
            schema.AddRange((await Query(c, $"SELECT name || ' ' || type || ' notnull=' || \"notnull\" || ' pk=' || pk FROM pragma_table_info('{table}')")).Select(s => $"{table}.{s}"));
            schema.AddRange((await Query(c, $"SELECT \"table\" || '.' || \"to\" || ' from ' || \"from\" || ' on delete ' || on_delete FROM pragma_foreign_key_list('{table}')")).Select(s => $"{table} FK {s}"));
            foreach (var index in await Query(c, $"SELECT name || ' unique=' || \"unique\" FROM pragma_index_list('{table}') WHERE origin = 'c'"))
            {
                var columns = await Query(c, $"SELECT name FROM pragma_index_info('{index.Split(' ')[0]}') ORDER BY seqno");
                schema.Add($"{table} INDEX {index} ({string.Join(",", columns)})");
            }
        }
        schema.Sort(StringComparer.Ordinal);
        return schema;
    }

    private static async Task<List<string>> PostgresSchema(string connectionString)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        var schema = new List<string>();
        schema.AddRange(await Query(c, """
            SELECT table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') || ' nullable=' || is_nullable
            FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '__EF%'
            """));
        schema.AddRange(await Query(c, "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT LIKE '__EF%'"));
        schema.AddRange(await Query(c, """
            SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
            WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text NOT LIKE '"__EF%'
            """));
        schema.Sort(StringComparer.Ordinal);
        return schema;
    }

    private static async Task<List<string>> Query(DbConnection c, string sql)
    {
        await using var command = c.CreateCommand();
        command.CommandText = sql;
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        return rows;
    }
}
