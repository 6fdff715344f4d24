using Microsoft.EntityFrameworkCore.Design;
using VisionLabel.Server.Common;

namespace VisionLabel.Server.Data;

// What `dotnet ef migrations add NAME --context SqliteVisionLabelDb|PostgresVisionLabelDb` builds the model with. Adding
// a migration needs no database (the connection strings are never opened); run it once per provider, e.g.
//   dotnet ef migrations add AddThing --project src/VisionLabel.Server --context SqliteVisionLabelDb --output-dir Data/Migrations/Sqlite
//   dotnet ef migrations add AddThing --project src/VisionLabel.Server --context PostgresVisionLabelDb --output-dir Data/Migrations/Postgres

public sealed class SqliteDesignTimeContext : IDesignTimeDbContextFactory<SqliteVisionLabelDb>
{
    public SqliteVisionLabelDb CreateDbContext(string[] args) =>
        (SqliteVisionLabelDb)DatabaseSetup.CreateContext(new DatabaseOptions { Provider = "sqlite", ConnectionString = "Data Source=design-time.db" }, new VisionLabelOptions());
}

public sealed class PostgresDesignTimeContext : IDesignTimeDbContextFactory<PostgresVisionLabelDb>
{
    public PostgresVisionLabelDb CreateDbContext(string[] args) =>
        (PostgresVisionLabelDb)DatabaseSetup.CreateContext(new DatabaseOptions { Provider = "postgres", ConnectionString = "Host=localhost;Database=design_time" }, new VisionLabelOptions());
}
