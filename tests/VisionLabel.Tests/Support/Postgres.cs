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
