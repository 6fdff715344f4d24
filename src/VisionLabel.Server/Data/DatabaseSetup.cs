using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Data;

public static class DatabaseSetup
{
    public static IServiceCollection AddVisionLabelDatabase(this IServiceCollection services)
    {
        services.AddDbContext<VisionLabelDb>((sp, options) =>
        {
            var db = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            var app = sp.GetRequiredService<IOptions<VisionLabelOptions>>().Value;
            Configure(options, db, app);
        });
        return services;
    }

    public static void Configure(DbContextOptionsBuilder options, DatabaseOptions db, VisionLabelOptions app)
    {
        switch (db.Provider.ToLowerInvariant())
        {
            case "sqlite":
                options.UseSqlite(db.ConnectionString ?? $"Data Source={Path.Combine(app.ResolvedDataDirectory, "visionlabel.db")}");
                break;
            case "postgres" or "postgresql":
                if (string.IsNullOrWhiteSpace(db.ConnectionString))
                    throw new InvalidOperationException("VisionLabel:Database:ConnectionString is required when Provider is postgres.");
                options.UseNpgsql(db.ConnectionString);
                break;
            default:
                throw new InvalidOperationException($"VisionLabel:Database:Provider '{db.Provider}' is not known; use sqlite or postgres.");
        }
        // Migrations are hand-written, so there is no model snapshot to compare against; MigrationSchemaTests
        // does that comparison instead.
        options.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
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
        await db.Database.MigrateAsync();
        if (db.Database.IsSqlite()) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
    }
}
