using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Jobs;

/// <summary>Publishes job progress (throttled per job) and import progress to the watchers of /hubs/live. (New proposals
/// reach editors as Applied ops on /hubs/annotations, the one channel for annotation changes.)</summary>
public sealed class LiveEvents(IHubContext<LiveHub> hub, VisionLabelDb db, IOptions<JobOptions> options, ProgressThrottle throttle)
{
    public static string ProjectGroup(Guid id) => $"project:{id}";
    public static string JobGroup(Guid id) => $"job:{id}";
    /// <summary>Quality figures (about people): only reviewers and owners join it (LiveHub.WatchQuality).</summary>
    public static string QualityGroup(Guid id) => $"quality:{id}";

    /// <summary>Sends the job's current state, unless one was sent less than ProgressInterval ago (force: always).</summary>
    public async Task JobChangedAsync(Guid jobId, bool force = false)
    {
        if (!throttle.Allow(jobId, options.Value.ProgressInterval, force)) return;
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId);
        if (job is null) return;
        await hub.Clients.Groups(ProjectGroup(job.ProjectId), JobGroup(jobId)).SendAsync("JobProgress", JobDto.From(job));
    }

    /// <summary>WorkLanded(projectId, { imageId, kind }) to the project's watchers after each recorded workflow change
    /// (submitted, approved, rejected, …): the people and health pages refresh on it. Who did it is not said (viewers
    /// watch too; figures about people are read from their routes).</summary>
    public Task WorkLandedAsync(Guid projectId, Guid imageId, Annotations.WorkEventKind kind) =>
        hub.Clients.Group(ProjectGroup(projectId)).SendAsync("WorkLanded", projectId, new { imageId, kind = Common.ApiEnum.Name(kind) });

    /// <summary>ImportProgress(projectId, { imagesDone, imagesTotal }) to the project's watchers.</summary>
    public Task ImportProgressAsync(Guid projectId, Datasets.ImportProgress progress) =>
        hub.Clients.Group(ProjectGroup(projectId)).SendAsync("ImportProgress", projectId, progress);
}

/// <summary>At most one progress event per job per interval, across the whole process.</summary>
public sealed class ProgressThrottle
{
    private readonly ConcurrentDictionary<Guid, long> _last = new();

    public bool Allow(Guid key, TimeSpan interval, bool force)
    {
        long now = Environment.TickCount64;
        if (force) { _last[key] = now; return true; }
        long last = _last.GetOrAdd(key, 0);
        if (last != 0 && now - last < interval.TotalMilliseconds) return false;
        return _last.TryUpdate(key, now, last);
    }
}
