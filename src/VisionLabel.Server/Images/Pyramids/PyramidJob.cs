using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Images;

/// <summary>
/// Builds the tile pyramid of each image of the job (one job per upload of a large image or TIFF: its item is the image),
/// on the maintenance queue. Progress: tiles stored of tiles made; the item done when the descriptor is stored. An image deleted meanwhile is
/// skipped; one whose file cannot be cut is a failed item (the reason kept), the image still shown from its original.
/// </summary>
public sealed class PyramidJob(IServiceScopeFactory scopes, IBlobStore blobs, IOptions<VisionLabelOptions> app, ILogger<PyramidJob> log) : IJobHandler
{
    public const string JobKind = "pyramid";
    public string Kind => JobKind;
    public string Queue => JobDispatcher.MaintenanceQueue;
    public bool Chunked => true;

    public async Task RunAsync(Guid jobId, ItemRange range, CancellationToken ct)
    {
        Guid after = range.After ?? Guid.Empty, upTo = range.UpTo ?? Guid.AllBitsSet;
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            var live = scope.ServiceProvider.GetRequiredService<LiveEvents>();
            var item = await db.JobItems.AsNoTracking().Where(i => i.JobId == jobId && i.Status == JobItemStatus.Pending && i.ImageId.CompareTo(after) > 0 && i.ImageId.CompareTo(upTo) <= 0)
                .OrderBy(i => i.ImageId).FirstOrDefaultAsync(ct);
            if (item is null) return;
            after = item.ImageId;
            var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == item.ImageId, ct);
            string? error = null;
            if (image is not null)
            {
                try
                {
                    await Pyramids.BuildAsync(blobs, image, app.Value.TempDirectory, new Progress(scopes, jobId), ct);
                    // Every image of these bytes now has its pyramid (they share it).
                    await db.Images.IgnoreQueryFilters().Where(i => i.ContentHash == image.ContentHash).ExecuteUpdateAsync(s => s.SetProperty(i => i.Pyramid, true), CancellationToken.None);
                }
                catch (Imaging.InvalidImageException e)
                {
                    error = e.Message;
                    log.LogWarning("Pyramid of image {ImageId} ({File}) failed: {Error}", image.Id, image.FileName, e.Message);
                }
            }
            var now = DateTime.UtcNow;
            var status = error is null ? JobItemStatus.Done : JobItemStatus.Failed;
            int claimed = await db.JobItems.Where(i => i.JobId == jobId && i.ImageId == item.ImageId && i.Status == JobItemStatus.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.Status, status).SetProperty(i => i.Error, error).SetProperty(i => i.FinishedAt, now), CancellationToken.None);
            if (claimed > 0) scope.ServiceProvider.GetRequiredService<Operations.ServerMetrics>().JobImage(JobKind, error is not null);
            if (claimed > 0 && error is not null)
                await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Failed, j => j.Failed + 1), CancellationToken.None);
            await live.JobChangedAsync(jobId, force: true);
        }
    }

    /// <summary>The job's progress is its tiles: done = tiles stored, total = tiles made (the item's status says when the image is done).</summary>
    private sealed class Progress(IServiceScopeFactory scopes, Guid jobId) : IProgress<(int Done, int Total)>
    {
        public void Report((int Done, int Total) value) => Write(value).GetAwaiter().GetResult();

        private async Task Write((int Done, int Total) value)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Done, value.Done).SetProperty(j => j.Total, value.Total));
            await scope.ServiceProvider.GetRequiredService<LiveEvents>().JobChangedAsync(jobId);
        }
    }

    /// <summary>Queues the pyramid of a newly stored image (its row and the job's commit together; the caller saves).</summary>
    public static Job For(Image image, int maxAttempts)
    {
        var job = new Job
        {
            Kind = JobKind, ProjectId = image.ProjectId, CreatedAt = DateTime.UtcNow, MaxAttempts = maxAttempts,
            Payload = JsonSerializer.Serialize(new { imageId = image.Id }, JsonSerializerOptions.Web),
        };
        return job;
    }
}
