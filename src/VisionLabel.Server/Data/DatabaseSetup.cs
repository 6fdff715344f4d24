using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Data;

/// <summary>Per-connection SQLite settings (pragmas other than journal_mode do not persist in the file).</summary>
internal sealed class SqlitePragmas(string synchronous) : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    public override void ConnectionOpened(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, ConnectionEndEventData eventData, CancellationToken ct = default)
    {
        Apply(connection);
        return Task.CompletedTask;
    }

    private void Apply(System.Data.Common.DbConnection connection)
    {
        using var command = connection.CreateCommand();
        // No checkpoint inside a request's commit (it fsyncs and stalls whoever holds an image's edit gate):
        // SqliteCheckpointer does it in the background.
        command.CommandText = $"PRAGMA synchronous={synchronous}; PRAGMA busy_timeout=10000; PRAGMA wal_autocheckpoint=0;";
        command.ExecuteNonQuery();
    }
}

/// <summary>Moves SQLite's write-ahead log into the database file every few seconds, off the request path.</summary>
internal sealed class SqliteCheckpointer(IServiceScopeFactory scopes, ILogger<SqliteCheckpointer> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(2));
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                if (!db.Database.IsSqlite()) return;
                await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(PASSIVE);", stopping);
            }
            catch (Exception e) when (e is not OperationCanceledException) { log.LogWarning(e, "SQLite checkpoint failed; will retry"); }
        }
    }
}

public static class DatabaseSetup
{
    public static IServiceCollection AddVisionLabelDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddValidatedOptions<VisionLabelOptions>(configuration, VisionLabelOptions.Section, o =>
            string.IsNullOrWhiteSpace(o.DataDirectory) ? [("DataDirectory", "must name a folder")] : []);
        services.AddValidatedOptions<DatabaseOptions>(configuration, DatabaseOptions.Section, o =>
            ValidatedOptions.OneOf("Provider", o.Provider, "sqlite", "postgres", "postgresql")
                .Concat(ValidatedOptions.OneOf("SqliteSynchronous", o.SqliteSynchronous, "normal", "full"))
                .Concat(o.Provider.ToLowerInvariant() is "postgres" or "postgresql" && string.IsNullOrWhiteSpace(o.ConnectionString)
                    ? [("ConnectionString", "is required when Provider is postgres (e.g. Host=db;Username=visionlabel;Password=…;Database=visionlabel)")] : []));
        // Pooled: live editing opens a context per op, and a pooled one skips most of the setup.
        // An unknown provider is registered as SQLite here and refused, named, by the start-up check above.
        var configured = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        string provider = configured.Provider.ToLowerInvariant() is "postgres" or "postgresql" ? "postgres" : "sqlite";
        if (provider == "postgres") services.AddDbContextPool<VisionLabelDb, PostgresVisionLabelDb>(Options);
        else services.AddDbContextPool<VisionLabelDb, SqliteVisionLabelDb>(Options);
        services.AddHostedService<SqliteCheckpointer>();
        return services;

        static void Options(IServiceProvider sp, DbContextOptionsBuilder options) =>
            Configure(options, sp.GetRequiredService<IOptions<DatabaseOptions>>().Value, sp.GetRequiredService<IOptions<VisionLabelOptions>>().Value);
    }

    /// <summary>A context outside dependency injection (tests, tools), of the provider's own type.</summary>
    public static VisionLabelDb CreateContext(DatabaseOptions db, VisionLabelOptions app)
    {
        if (Provider(db) == "postgres")
        {
            var pg = new DbContextOptionsBuilder<PostgresVisionLabelDb>();
            Configure(pg, db, app);
            return new PostgresVisionLabelDb(pg.Options);
        }
        var sqlite = new DbContextOptionsBuilder<SqliteVisionLabelDb>();
        Configure(sqlite, db, app);
        return new SqliteVisionLabelDb(sqlite.Options);
    }

    /// <summary>"sqlite" or "postgres", whatever spelling the configuration used; throws on anything else.</summary>
    internal static string Provider(DatabaseOptions db) => db.Provider.ToLowerInvariant() switch
    {
        "sqlite" => "sqlite",
        "postgres" or "postgresql" => "postgres",
        _ => throw new InvalidOperationException($"VisionLabel:Database:Provider '{db.Provider}' is not known; use sqlite or postgres."),
    };

    /// <summary>The SQLite database file: the connection string's, or DATA/visionlabel.db.</summary>
    public static string SqliteFile(DatabaseOptions db, VisionLabelOptions app) =>
        db.ConnectionString is null
            ? Path.Combine(app.ResolvedDataDirectory, "visionlabel.db")
            : Path.GetFullPath(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(db.ConnectionString).DataSource);

    public static void Configure(DbContextOptionsBuilder options, DatabaseOptions db, VisionLabelOptions app)
    {
        switch (Provider(db))
        {
            case "sqlite":
                options.UseSqlite(db.ConnectionString ?? $"Data Source={SqliteFile(db, app)}");
                options.AddInterceptors(new SqlitePragmas(db.SqliteSynchronous.ToLowerInvariant() == "full" ? "FULL" : "NORMAL"));
                break;
            default:
                if (string.IsNullOrWhiteSpace(db.ConnectionString))
                    throw new InvalidOperationException("VisionLabel:Database:ConnectionString is required when Provider is postgres.");
                options.UseNpgsql(db.ConnectionString);
                break;
        }
    }

    /// <summary>Brings the schema up to date at start-up. SQLite also gets WAL so readers never wait on a writer.</summary>
    public static async Task MigrateDatabaseAsync(this IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        if (db.Database.IsSqlite())
        {
            var path = db.Database.GetDbConnection().DataSource;
            if (!string.IsNullOrEmpty(path) && Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        }
        if (db.Database.IsNpgsql())
        {
            // Processes started together on an empty database both ran the migrations, and the loser died on
            // "relation already exists" (EF's own migration lock did not cover the first, table-less run): one at a time.
            await using (await AdvisoryLocks.HoldAsync(db.Database.GetConnectionString()!, AdvisoryLocks.Migrations))
                await db.Database.MigrateAsync();
        }
        else await db.Database.MigrateAsync();
        if (db.Database.IsSqlite()) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
    }
}
