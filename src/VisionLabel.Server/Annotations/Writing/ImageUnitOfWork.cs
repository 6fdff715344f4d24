using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// One piece of work on one image, alone: the image's gate (one at a time in this process), then on PostgreSQL the
/// image's advisory lock (one at a time across processes; <see cref="ImageLocks"/>), and a fresh DbContext per
/// attempt. Under the lock the image's last seq is read with the lock itself: when it is not the one this process
/// cached, another process wrote meanwhile, and this process's caches of the image are dropped. Should the (image,
/// seq) key or a row version still refuse a write (SQLite shared with a CLI process, which takes no lock), the work
/// is decided again on the state as it now is. docs/realtime-protocol.md says why a lock and not only optimistic
/// retries: measured with two processes on one image, the process that lost a race kept losing (the winner's next
/// seq is in its cache).
/// </summary>
public sealed class ImageUnitOfWork(IServiceScopeFactory scopes, ImageGates gates, SequencerCaches caches)
{
    /// <summary>Attempts of one piece of work when other processes keep winning the race for the image's next seq.</summary>
    private const int MaxAttempts = 8;
    private long _conflicts;

    /// <summary>How often another process took the seq (or changed a row) first and the work was decided again.</summary>
    public long Conflicts => Interlocked.Read(ref _conflicts);

    public Task<T> RunAsync<T>(Guid imageId, Func<VisionLabelDb, Task<T>> work, CancellationToken ct) =>
        gates.RunAsync(imageId, async () =>
        {
            for (int attempt = 1; ; attempt++)
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
                var locked = await ImageLocks.AcquireAsync(db, imageId, ct);
                try
                {
                    caches.CheckLastSeq(imageId, locked?.LastSeq);
                    caches.CheckStatus(imageId, locked?.Status);
                    return await work(db);
                }
                catch (DbUpdateException e) when (attempt < MaxAttempts && IsRace(e))
                {
                    caches.Forget(imageId);
                    Interlocked.Increment(ref _conflicts);
                    await Task.Delay(Random.Shared.Next(0, attempt * 2), CancellationToken.None); // let the winner's commit land
                }
                catch { caches.Forget(imageId); throw; } // e.g. the image is gone: re-read next time
                finally { await ImageLocks.ReleaseAsync(db, imageId); }
            }
        }, ct);

    /// <summary>Runs <paramref name="action"/> while no op can be applied to the image (snapshots, review status).</summary>
    public Task<T> ExclusiveAsync<T>(Guid imageId, Func<Task<T>> action) => gates.RunAsync(imageId, async () =>
    {
        // Writers in other processes wait for the image's lock too (held on this connection while the caller reads on its own).
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        await ImageLocks.AcquireAsync(db, imageId, CancellationToken.None);
        try { return await action(); }
        finally { await ImageLocks.ReleaseAsync(db, imageId); }
    });

    /// <summary>A unique key or a row version refused the write: someone else wrote first (not bad data).</summary>
    public static bool IsRace(DbUpdateException e) => e is DbUpdateConcurrencyException || e.InnerException switch
    {
        Npgsql.PostgresException pg => pg.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException sqlite => sqlite.SqliteErrorCode == 19 && sqlite.SqliteExtendedErrorCode is 1555 or 2067, // primary key, unique
        _ => false,
    };
}
