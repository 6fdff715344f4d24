using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Jobs;

/// <summary>A slice of a job's items by image id: after &lt; id ≤ upTo (null: open).</summary>
public sealed record ItemRange(Guid? After, Guid? UpTo);

/// <summary>
/// Hands a job to Hangfire: its items are cut into chunks of ChunkSize (by image id), one Hangfire job each, so several
/// workers and processes share a big job. The row records how many; a job left at 0 (the process stopped between
/// committing the row and enqueueing) is enqueued at the next start-up. Enqueueing twice is harmless: items are
/// written exactly once whoever processes them.
/// </summary>
public sealed class JobDispatcher(IBackgroundJobClient hangfire, IServiceScopeFactory scopes, IEnumerable<IJobHandler> handlers,
    IOptions<JobOptions> options, ILogger<JobDispatcher> log)
{
    public const string PrelabelQueue = "prelabel";
    public const string ImportQueue = "imports";
    public const string MaintenanceQueue = "maintenance";
    private readonly Dictionary<string, IJobHandler> _handlers = handlers.ToDictionary(h => h.Kind);

    /// <summary>Enqueues the job's chunks and returns how many (also stored on the row).</summary>
    public async Task<int> DispatchAsync(Guid jobId, CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        string kind = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Kind).FirstAsync(ct);
        var handler = _handlers.GetValueOrDefault(kind);
        var ranges = handler?.Chunked == true ? await RangesAsync(db, jobId, options.Value.ChunkSize, ct) : [new ItemRange(null, null)];
        string queue = handler?.Queue ?? PrelabelQueue; // an unknown kind still runs, and is dead-lettered with the reason
        foreach (var range in ranges)
            // The queue is the job's own (not only its first state's), so Hangfire's retries go back to the same queue.
            hangfire.Enqueue<JobRunner>(queue, r => r.RunAsync(jobId, range.After, range.UpTo, null, CancellationToken.None));
        await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Chunks, ranges.Count), ct);
        return ranges.Count;
    }

    /// <summary>Start-up: enqueues the jobs whose enqueueing a stopped process did not finish.</summary>
    public async Task DispatchLeftoversAsync(CancellationToken ct = default)
    {
        List<Guid> ids;
        await using (var scope = scopes.CreateAsyncScope())
            ids = await scope.ServiceProvider.GetRequiredService<VisionLabelDb>().Jobs
                .Where(j => j.Chunks == 0 && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running)).Select(j => j.Id).ToListAsync(ct);
        foreach (var id in ids)
        {
            log.LogInformation("Enqueueing job {JobId}, which was not handed to Hangfire before the last stop", id);
            await DispatchAsync(id, ct);
        }
    }

    /// <summary>Chunk boundaries: every ChunkSize-th image id of the job in the database's own order.</summary>
    private static async Task<List<ItemRange>> RangesAsync(VisionLabelDb db, Guid jobId, int chunkSize, CancellationToken ct)
    {
        var ids = await db.JobItems.Where(i => i.JobId == jobId).OrderBy(i => i.ImageId).Select(i => i.ImageId).ToListAsync(ct);
        var ranges = new List<ItemRange>();
        Guid? after = null;
        for (int end = chunkSize - 1; end < ids.Count - 1; end += chunkSize)
        {
            ranges.Add(new ItemRange(after, ids[end]));
            after = ids[end];
        }
        ranges.Add(new ItemRange(after, null)); // the last chunk is open-ended; a job with no items still gets one, which completes it
        return ranges;
    }
}
