using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Jobs;

/// <summary>
/// Durable job rows with leases (the Hangfire.PostgreSql / Oban / River pattern). Claiming is one UPDATE of the
/// oldest runnable row: on PostgreSQL the row is picked with FOR UPDATE SKIP LOCKED, so several server
/// processes work one queue without blocking or double-claiming; SQLite serialises writers, so one process.
/// Every change checks the lease owner, so a worker that lost its lease cannot overwrite the new owner.
/// </summary>
public sealed class JobQueue(VisionLabelDb db, IOptions<JobOptions> options)
{
    private readonly JobOptions _options = options.Value;

    /// <summary>Claims the oldest runnable job (queued and due, or running with an expired lease). Null when none.</summary>
    public async Task<Guid?> ClaimAsync(string owner, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var until = now + _options.LeaseDuration;
        var query = db.Database.IsNpgsql()
            ? db.Database.SqlQuery<Guid>($"""
                UPDATE "Jobs" SET "Status" = 'Running', "LeaseOwner" = {owner}, "LeaseExpiresAt" = {until},
                    "Attempts" = "Attempts" + 1, "StartedAt" = COALESCE("StartedAt", {now})
                WHERE "Id" = (SELECT "Id" FROM "Jobs"
                              WHERE ("Status" = 'Queued' AND "NextAttemptAt" <= {now}) OR ("Status" = 'Running' AND "LeaseExpiresAt" < {now})
                              ORDER BY "CreatedAt" LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING "Id" AS "Value"
                """)
            : db.Database.SqlQuery<Guid>($"""
                UPDATE "Jobs" SET "Status" = 'Running', "LeaseOwner" = {owner}, "LeaseExpiresAt" = {until},
                    "Attempts" = "Attempts" + 1, "StartedAt" = COALESCE("StartedAt", {now})
                WHERE "Id" = (SELECT "Id" FROM "Jobs"
                              WHERE ("Status" = 'Queued' AND "NextAttemptAt" <= {now}) OR ("Status" = 'Running' AND "LeaseExpiresAt" < {now})
                              ORDER BY "CreatedAt" LIMIT 1)
                RETURNING "Id" AS "Value"
                """);
        var ids = await query.ToListAsync(ct);
        return ids.Count == 0 ? null : ids[0];
    }

    /// <summary>Extends the lease. False when it is no longer ours (expired and taken, or the job ended).</summary>
    public async Task<(bool Owned, bool CancelRequested)> HeartbeatAsync(Guid jobId, string owner, CancellationToken ct)
    {
        var until = DateTime.UtcNow + _options.LeaseDuration;
        int updated = await Owned(jobId, owner).ExecuteUpdateAsync(s => s.SetProperty(j => j.LeaseExpiresAt, until), ct);
        if (updated == 0) return (false, false);
        bool cancel = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested).FirstAsync(ct);
        return (true, cancel);
    }

    public Task<int> FinishAsync(Guid jobId, string owner, JobStatus status, string? error = null, CancellationToken ct = default)
    {
        var now = DateTime.UtcNow;
        return Owned(jobId, owner).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, status).SetProperty(j => j.FinishedAt, now).SetProperty(j => j.LastError, error)
            .SetProperty(j => j.LeaseOwner, (string?)null).SetProperty(j => j.LeaseExpiresAt, (DateTime?)null), ct);
    }

    /// <summary>A failed attempt: back to the queue after an exponential backoff, or dead after MaxAttempts.</summary>
    public async Task<JobStatus> FailAsync(Guid jobId, string owner, string error, CancellationToken ct = default)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return JobStatus.Dead;
        if (job.Attempts >= job.MaxAttempts)
        {
            await FinishAsync(jobId, owner, JobStatus.Dead, $"gave up after {job.Attempts} attempt(s): {error}", ct);
            return JobStatus.Dead;
        }
        var retryAt = DateTime.UtcNow + _options.RetryBackoff * Math.Pow(2, job.Attempts - 1);
        await Owned(jobId, owner).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, JobStatus.Queued).SetProperty(j => j.NextAttemptAt, retryAt).SetProperty(j => j.LastError, error)
            .SetProperty(j => j.LeaseOwner, (string?)null).SetProperty(j => j.LeaseExpiresAt, (DateTime?)null), ct);
        return JobStatus.Queued;
    }

    /// <summary>Graceful shutdown: hand the job back at once, without counting the attempt.</summary>
    public Task<int> ReleaseAsync(Guid jobId, string owner, CancellationToken ct = default) =>
        Owned(jobId, owner).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, JobStatus.Queued).SetProperty(j => j.Attempts, j => j.Attempts - 1)
            .SetProperty(j => j.NextAttemptAt, DateTime.UtcNow)
            .SetProperty(j => j.LeaseOwner, (string?)null).SetProperty(j => j.LeaseExpiresAt, (DateTime?)null), ct);

    /// <summary>Asks a job to stop. A queued job is cancelled at once; a running one at its next heartbeat.</summary>
    public async Task<bool> CancelAsync(Guid jobId, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        int queued = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Cancelled).SetProperty(j => j.CancelRequested, true).SetProperty(j => j.FinishedAt, now), ct);
        if (queued > 0) return true;
        return await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.CancelRequested, true), ct) > 0;
    }

    private IQueryable<Job> Owned(Guid jobId, string owner) =>
        db.Jobs.Where(j => j.Id == jobId && j.LeaseOwner == owner && j.Status == JobStatus.Running);
}
