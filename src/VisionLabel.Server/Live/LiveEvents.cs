using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;

namespace VisionLabel.Server.Live;

public sealed record ProposalsAdded(Guid ImageId, Guid JobId, Guid ModelId, IReadOnlyList<AnnotationDto> Annotations);

/// <summary>Publishes job progress (throttled per job) and new proposals to the watchers of /hubs/live.</summary>
public sealed class LiveEvents(IHubContext<LiveHub> hub, VisionLabelDb db, IOptions<JobOptions> options, ProgressThrottle throttle)
{
    public static string ProjectGroup(Guid id) => $"project:{id}";
    public static string JobGroup(Guid id) => $"job:{id}";
    public static string ImageGroup(Guid id) => $"image:{id}";

    /// <summary>Sends the job's current state, unless one was sent less than ProgressInterval ago (force: always).</summary>
    public async Task JobChangedAsync(Guid jobId, bool force = false)
    {
        if (!throttle.Allow(jobId, options.Value.ProgressInterval, force)) return;
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId);
        if (job is null) return;
        await hub.Clients.Groups(ProjectGroup(job.ProjectId), JobGroup(jobId)).SendAsync("JobProgress", JobDto.From(job));
    }

    /// <summary>ImportProgress(projectId, { imagesDone, imagesTotal }) to the project's watchers.</summary>
    public Task ImportProgressAsync(Guid projectId, Datasets.ImportProgress progress) =>
        hub.Clients.Group(ProjectGroup(projectId)).SendAsync("ImportProgress", projectId, progress);

    public Task ProposalsAddedAsync(ProposalsAdded e) => hub.Clients.Group(ImageGroup(e.ImageId)).SendAsync("ProposalsAdded", e);
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
