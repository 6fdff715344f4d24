using Npgsql;

namespace VisionLabel.Tests.Support;

/// <summary>
/// A PostgreSQL server given by VISIONLABEL_TEST_POSTGRES (a connection string without a database), which
/// tests/run starts as a throwaway cluster. Each caller gets a fresh database, dropped on dispose.
/// </summary>
public sealed class PostgresDatabase : IDisposable
{
    private static readonly Lock CreateLock = new();
    private readonly string _server;
    public string Name { get; } = "vl_test_" + Guid.NewGuid().ToString("N")[..12];
    public string ConnectionString => $"{_server};Database={Name}";

    private PostgresDatabase(string server)
    {
        _server = server;
        // From template0, which never has connections: copying template1 fails while anyone is connected to it.
        lock (CreateLock) Exec($"CREATE DATABASE {Name} TEMPLATE template0");
    }

    public static PostgresDatabase Require()
    {
        string? server = Environment.GetEnvironmentVariable("VISIONLABEL_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(server))
            Requirement.Missing("needs a PostgreSQL server: set VISIONLABEL_TEST_POSTGRES (tests/run starts one) to run the PostgreSQL tests");
        return new PostgresDatabase(server);
    }

    private void Exec(string sql)
    {
        using var connection = new NpgsqlConnection($"{_server};Database=postgres;Pooling=false");
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Exec($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
    }
}

/// <summary>
/// Where an API test's server keeps its data: the default SQLite in its data folder (no settings), or a fresh
/// PostgreSQL database (made on first use, dropped on dispose). A "…OnPostgres" subclass runs the same tests on
/// PostgreSQL by overriding its base's <c>Storage</c> with <see cref="Postgres"/>.
/// </summary>
public class TestStorage : IDisposable
{
    public static TestStorage Sqlite() => new();
    public static TestStorage Postgres() => new PostgresStorage();

    public virtual Dictionary<string, string?>? Settings() => null;
    public virtual void Dispose() { }

    private sealed class PostgresStorage : TestStorage
    {
        private PostgresDatabase? _database;

        public override Dictionary<string, string?> Settings()
        {
            _database ??= PostgresDatabase.Require();
            return new() { ["VisionLabel:Database:Provider"] = "postgres", ["VisionLabel:Database:ConnectionString"] = _database.ConnectionString };
        }

        public override void Dispose() => _database?.Dispose();
    }
}
