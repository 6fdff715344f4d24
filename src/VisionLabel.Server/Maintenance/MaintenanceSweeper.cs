using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Maintenance;

public sealed record SweepReport(int TempFiles, int StagingFiles, int Blobs);

/// <summary>
/// Removes what nothing needs any more: temp uploads and import spools a crash left in the temp folder, half-written
/// blobs in the local store's staging folder, blobs (originals, thumbnails, models) no row references, and uploaded
/// import zips of jobs that are over.
/// A blob is only removed once it has not been written or reused for the grace period: intake and deletes touch the
/// blobs they reuse or orphan, and intake checks its blob is still there after it has committed its row.
/// </summary>
public sealed class MaintenanceSweeper(IServiceScopeFactory scopes, IBlobStore blobs, IOptions<MaintenanceOptions> options,
    IOptions<VisionLabelOptions> app, ILogger<MaintenanceSweeper> log)
{
    [System.ComponentModel.DisplayName("Sweep temp files and unreferenced blobs")]
    public async Task<SweepReport> SweepAsync(CancellationToken ct = default)
    {
        var o = options.Value;
        int temp = Sweeps.DeleteOlderThan(app.Value.TempDirectory, o.TempMaxAge);
        int staging = blobs is LocalFolderBlobStore local ? local.SweepStaging(o.TempMaxAge) : 0;

        HashSet<string> imageHashes, modelHashes;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            imageHashes = (await db.Images.AsNoTracking().Select(i => i.ContentHash).Distinct().ToListAsync(ct)).ToHashSet();
            modelHashes = (await db.Models.AsNoTracking().Select(m => m.ContentHash).ToListAsync(ct)).ToHashSet();
        }
        var cutoff = DateTime.UtcNow - o.BlobGracePeriod;
        int removed = 0;
        foreach (var (prefix, referenced) in new[] { ("originals/", imageHashes), ("thumbnails/", imageHashes), ("models/", modelHashes) })
            await foreach (var blob in blobs.ListAsync(prefix, ct))
            {
                if (BlobKeys.HashOf(blob.Key) is not { } hash || referenced.Contains(hash) || blob.LastModifiedUtc > cutoff) continue;
                await blobs.DeleteAsync(blob.Key, ct);
                removed++;
            }
        removed += await SweepPyramidsAsync(imageHashes, cutoff, ct);
        // Uploaded import zips whose job is over (finished ones delete their own; dead or deleted ones leave them).
        var importCutoff = DateTime.UtcNow - o.TempMaxAge;
        await foreach (var blob in blobs.ListAsync("imports/", ct))
        {
            if (blob.LastModifiedUtc > importCutoff || !Guid.TryParseExact(Path.GetFileNameWithoutExtension(blob.Key), "N", out var jobId)) continue;
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            if (await db.Jobs.AnyAsync(j => j.Id == jobId && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running), ct)) continue;
            await blobs.DeleteAsync(blob.Key, ct);
            removed++;
        }
        var report = new SweepReport(temp, staging, removed);
        if (temp + staging + removed > 0)
            log.LogInformation("Sweep removed {Temp} temp file(s), {Staging} staged blob(s), {Blobs} unreferenced blob(s)", temp, staging, removed);
        return report;
    }

    /// <summary>
    /// Tile pyramids (pyramids/ab/{hash}/…) no image uses any more, each as a whole: its descriptor's time (touched when an
    /// image of it is deleted) starts the grace period; a pyramid without one (a build cut short) goes by its newest tile.
    /// </summary>
    private async Task<int> SweepPyramidsAsync(HashSet<string> imageHashes, DateTime cutoff, CancellationToken ct)
    {
        var keys = new Dictionary<string, List<string>>();
        var since = new Dictionary<string, DateTime>();
        var described = new HashSet<string>();
        await foreach (var blob in blobs.ListAsync("pyramids/", ct))
        {
            var parts = blob.Key.Split('/');
            if (parts.Length < 4 || parts[2].Length != 64 || imageHashes.Contains(parts[2])) continue;
            string hash = parts[2];
            (keys.TryGetValue(hash, out var list) ? list : keys[hash] = []).Add(blob.Key);
            if (blob.Key.EndsWith("/tiles.dzi", StringComparison.Ordinal)) { since[hash] = blob.LastModifiedUtc; described.Add(hash); }
            else if (!described.Contains(hash) && (!since.TryGetValue(hash, out var t) || blob.LastModifiedUtc > t)) since[hash] = blob.LastModifiedUtc;
        }
        int removed = 0;
        foreach (var (hash, list) in keys)
        {
            if (since[hash] > cutoff) continue;
            foreach (var key in list.OrderBy(k => k.EndsWith("/tiles.dzi", StringComparison.Ordinal))) { await blobs.DeleteAsync(key, ct); removed++; } // the descriptor last
        }
        return removed;
    }

    /// <summary>Restarts the grace period of an image's blobs (it was just deleted, or its content was just reused).</summary>
    public async Task TouchImageBlobsAsync(IEnumerable<string> contentHashes, int thumbnailSize, CancellationToken ct = default)
    {
        foreach (var hash in contentHashes)
        {
            await blobs.TouchAsync(BlobKeys.Original(hash), ct);
            await blobs.TouchAsync(BlobKeys.Thumbnail(hash, thumbnailSize), ct);
            await blobs.TouchAsync(BlobKeys.PyramidDzi(hash), ct); // the pyramid's grace period goes by its descriptor
        }
    }
}
