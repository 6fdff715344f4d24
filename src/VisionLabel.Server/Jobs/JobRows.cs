using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Jobs;

/// <summary>
/// Every change of a job's row, in one place. Hangfire decides who runs what and when; these updates keep what users
/// see consistent when several chunks of one job run at once on different workers (each is a single conditional UPDATE).
/// </summary>
public sealed class JobRows(VisionLabelDb db, Webhooks.Webhooks webhooks)
{
    private static readonly JobStatus[] Ended = [JobStatus.Completed, JobStatus.Cancelled, JobStatus.Dead];

    /// <summary>A chunk starts its attempt: the job is running (unless it already ended). Returns the row, or null when it is gone.</summary>
    public async Task<Job?> StartAsync(Guid jobId, int attempt, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        await db.Jobs.Where(j => j.Id == jobId && !Ended.Contains(j.Status)).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, JobStatus.Running)
            .SetProperty(j => j.StartedAt, j => j.StartedAt ?? now)
            .SetProperty(j => j.Attempts, j => j.Attempts > attempt ? j.Attempts : attempt), ct);
        return await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
    }

    public Task<bool> CancelRequestedAsync(Guid jobId, CancellationToken ct) =>
        db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested || j.Status == JobStatus.Cancelled).FirstOrDefaultAsync(ct);

    /// <summary>
    /// Completes the job once no item is pending. Every chunk calls it after its own writes have committed, so the
    /// chunk that finishes last always sees the others' writes and completes it; earlier calls change nothing.
    /// </summary>
    public async Task<int> CompleteIfDoneAsync(Guid jobId, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        int changed = await db.Jobs.Where(j => j.Id == jobId && (j.Status == JobStatus.Running || j.Status == JobStatus.Queued)
                                  && !db.JobItems.Any(i => i.JobId == jobId && i.Status == JobItemStatus.Pending))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Completed).SetProperty(j => j.FinishedAt, now), ct);
        if (changed > 0) await EndedAsync(jobId); // only the call that completed it: one event per job
        return changed;
    }

    /// <summary>A failed attempt that Hangfire will retry after its backoff.</summary>
    public Task<int> RetryLaterAsync(Guid jobId, string error, CancellationToken ct) =>
        db.Jobs.Where(j => j.Id == jobId && !Ended.Contains(j.Status))
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Queued).SetProperty(j => j.LastError, error), ct);

    public async Task<int> FinishAsync(Guid jobId, JobStatus status, string? error, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        int changed = await db.Jobs.Where(j => j.Id == jobId && !Ended.Contains(j.Status)).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Status, status).SetProperty(j => j.FinishedAt, now).SetProperty(j => j.LastError, j => error ?? j.LastError), ct);
        if (changed > 0 && status == JobStatus.Dead) await EndedAsync(jobId);
        return changed;
    }

    /// <summary>job.completed or job.failed to the project's webhooks, as the row now says (never throws: see Webhooks).</summary>
    private async Task EndedAsync(Guid jobId)
    {
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId)
            .Select(j => new { j.ProjectId, j.Kind, j.Status, j.Total, j.Done, j.Failed, j.Attempts, j.LastError, j.FinishedAt }).FirstOrDefaultAsync();
        if (job is null) return;
        await webhooks.RaiseAsync(job.ProjectId, job.Status == JobStatus.Completed ? Webhooks.WebhookEvents.JobCompleted : Webhooks.WebhookEvents.JobFailed, new
        {
            jobId, kind = job.Kind, status = job.Status, total = job.Total, done = job.Done, failed = job.Failed, attempts = job.Attempts,
            error = job.Status == JobStatus.Completed ? null : job.LastError, finishedAt = job.FinishedAt,
        });
    }

    /// <summary>Asks a job to stop. A queued job is cancelled at once; a running one within CancelCheckInterval.</summary>
    public async Task<bool> CancelAsync(Guid jobId, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        int queued = await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Queued)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.Status, JobStatus.Cancelled).SetProperty(j => j.CancelRequested, true).SetProperty(j => j.FinishedAt, now), ct);
        if (queued > 0) return true;
        return await db.Jobs.Where(j => j.Id == jobId && j.Status == JobStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.CancelRequested, true), ct) > 0;
    }
}
