using Microsoft.EntityFrameworkCore;

namespace VisionLabel.Server.Data;

/// <summary>
/// Transaction-scoped PostgreSQL advisory locks, for work that must happen once across server processes; held until the
/// caller's transaction ends. A no-op on SQLite, which one process serves. (Per-image locks are ImageLocks': session
/// locks taken with the image's seq read.) The keys are here together so no two uses share one.
/// </summary>
public static class AdvisoryLocks
{
    /// <summary>The check for accounts and the insert of the first admin (setup link).</summary>
    public const long FirstAdmin = 7403271977313590117;
    /// <summary>The first data-protection key of an installation.</summary>
    public const long FirstDataProtectionKey = 7403271977313590118;
    /// <summary>Hangfire's schema install (session lock: it runs outside any EF transaction).</summary>
    public const long HangfireSchema = 7403271977313590119;
    /// <summary>Running the EF migrations (session lock, held on a connection of its own while they run).</summary>
    public const long Migrations = 7403271977313590120;

    /// <summary>Claims of consensus copies, with the project as the second key (the two-int key space is apart from the bigint one).</summary>
    public const int ConsensusClaims = 740327;
    /// <summary>Counting a project's new ops into the people figures' tallies (Analytics.OpTallies), with the project as the second key.</summary>
    public const int OpTallies = 740328;

    /// <summary>A transaction lock for one project's share of <paramref name="kind"/> (the two-int key space: kind, project).</summary>
    public static async Task ForProjectAsync(VisionLabelDb db, int kind, Guid projectId, CancellationToken ct)
    {
        if (db.Database.IsNpgsql()) await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({kind}, {BitConverter.ToInt32(projectId.ToByteArray(), 12)})", ct);
    }

    public static async Task ForTransactionAsync(VisionLabelDb db, long key)
    {
        if (db.Database.IsNpgsql()) await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({key})");
    }

    /// <summary>
    /// A session lock for work outside any EF transaction (migrations, Hangfire's schema install), held on a connection
    /// of its own until disposed. The wait has no command timeout: it lasts as long as the other process's work does.
    /// </summary>
    public static async Task<SessionLock> HoldAsync(string connectionString, long key)
    {
        var connection = new Npgsql.NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({key})", connection) { CommandTimeout = 0 };
        await take.ExecuteNonQueryAsync();
        return new SessionLock(connection, key);
    }

    /// <summary>As <see cref="HoldAsync"/>, for a caller that cannot await (a DI factory).</summary>
    public static SessionLock Hold(string connectionString, long key) => HoldAsync(connectionString, key).GetAwaiter().GetResult();

    public sealed class SessionLock(Npgsql.NpgsqlConnection connection, long key) : IAsyncDisposable, IDisposable
    {
        // Unlocked explicitly: a pooled connection's session outlives its Close, and its locks with it.
        public async ValueTask DisposeAsync()
        {
            await using (var release = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_unlock({key})", connection)) await release.ExecuteNonQueryAsync();
            await connection.DisposeAsync();
        }

        public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
