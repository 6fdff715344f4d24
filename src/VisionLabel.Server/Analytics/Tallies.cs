using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Analytics;

/// <summary>
/// What the people figures read instead of the raw logs (docs/analytics.md): the op log counted into
/// <see cref="OpTallies"/>, and the workflow's events into one <see cref="Turnaround"/> per submission. Each report
/// first counts what was added since the last count; one count at a time per project (PostgreSQL: an advisory lock;
/// SQLite: this process's gate), written in one save with the cursor it moves.
/// </summary>
public sealed class Tallies(VisionLabelDb db)
{
    /// <summary>How long after its time stamp an op or event may still commit and be counted: far above any write's
    /// duration, and above the clock skew between processes. Counts overlap by this much and never count twice.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromMinutes(5);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, SemaphoreSlim> Gates = new();

    public async Task CatchUpAsync(Guid projectId, TimeProvider time, CancellationToken ct)
    {
        var gate = Gates.GetOrAdd(projectId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            // PostgreSQL: counters in several processes take turns on an advisory lock, held by a transaction. SQLite
            // (one process, guarded by the gate above) reads without one: its transactions take the write lock at
            // once, and a first count of a long history would hold every editor's writes meanwhile. The one
            // SaveChanges below writes everything together either way.
            bool postgres = db.Database.IsNpgsql();
            await using var tx = postgres ? await db.Database.BeginTransactionAsync(ct) : null;
            if (tx is not null) await AdvisoryLocks.ForProjectAsync(db, AdvisoryLocks.OpTallies, projectId, ct);
            // Each log's own clock: ops are stamped by the system clock (OpApplier), workflow events by the server's TimeProvider.
            DateTime opsStarted = DateTime.UtcNow, eventsStarted = time.GetUtcNow().UtcDateTime;
            var cursor = await db.AnalyticsCursors.FirstOrDefaultAsync(c => c.ProjectId == projectId, ct);
            if (cursor is null) db.AnalyticsCursors.Add(cursor = new AnalyticsCursor { ProjectId = projectId });
            await OpTallies.CountAsync(db, projectId, cursor.OpsCountedAt - Slack, ct);
            await Turnarounds.CountAsync(db, projectId, cursor.EventsCountedAt - Slack, ct);
            cursor.OpsCountedAt = opsStarted;
            cursor.EventsCountedAt = eventsStarted;
            await db.SaveChangesAsync(ct);
            if (tx is not null) await tx.CommitAsync(ct);
            db.ChangeTracker.Clear();
        }
        finally { gate.Release(); }
    }
}
