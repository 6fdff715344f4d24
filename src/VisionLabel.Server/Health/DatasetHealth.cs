using Microsoft.EntityFrameworkCore;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Health;

/// <summary>
/// Dataset health (docs/analytics.md): the figures a team lead checks a dataset with, computed in one pass over the
/// project's images and accepted annotations (paged, so memory holds one page of annotations and a few numbers per
/// image and per object), and near-duplicates from each image's perceptual hash (computed here for images without one).
/// </summary>
public sealed class DatasetHealth(VisionLabelDb db, IBlobStore blobs, ILogger<DatasetHealth> log)
{
    public const int HeatmapSize = 16;
    public const int MaxOutliersPerLabel = 50;
    public const int MaxObjectsBucket = 50;
    private const int Page = 2000;

    /// <summary>Hashes the images that have no perceptual hash yet; returns how many could not be read or decoded.</summary>
    public async Task<int> HashAsync(Guid projectId, IProgress<(int Done, int Total)> progress, CancellationToken ct)
    {
        var todo = await db.Images.AsNoTracking().Where(i => i.ProjectId == projectId && i.PerceptualHash == null)
            .OrderBy(i => i.Id).Select(i => new { i.Id, i.BlobKey, i.Format }).ToListAsync(ct);
        int done = 0, failed = 0;
        foreach (var chunk in todo.Chunk(64))
        {
            var hashes = await Task.WhenAll(chunk.Select(async i =>
            {
                try
                {
                    await using var stream = await blobs.OpenReadAsync(i.BlobKey, ct);
                    if (stream is null) return (i.Id, (ulong?)null);
                    using var buffer = new MemoryStream();
                    await stream.CopyToAsync(buffer, ct);
                    var format = Enum.Parse<ImageFormat>(i.Format, ignoreCase: true);
                    // A JPEG is decoded at a fraction of its size in the DCT domain (the hash looks at 32×32 anyway).
                    return (i.Id, (ulong?)PerceptualHash.Of(ImageCodec.Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), format, minLongestSide: 128)));
                }
                catch (Exception e) when (e is InvalidImageException or IOException or ArgumentException)
                {
                    log.LogWarning("Dataset health: image {ImageId} could not be hashed: {Message}", i.Id, e.Message);
                    return (i.Id, (ulong?)null);
                }
            }));
            foreach (var (id, hash) in hashes)
                if (hash is { } h) await db.Images.Where(x => x.Id == id).ExecuteUpdateAsync(u => u.SetProperty(x => x.PerceptualHash, (long)h), ct);
                else failed++;
            done += chunk.Length;
            progress.Report((done, todo.Count));
        }
        return failed;
    }

    public async Task<HealthResult> ComputeAsync(HealthPayload p, int unhashed, DateTime now, CancellationToken ct)
    {
        var images = await db.Images.AsNoTracking().Where(i => i.ProjectId == p.ProjectId).OrderBy(i => i.Id)
            .Select(i => new { i.Id, i.Width, i.Height, i.Status, i.ReviewedBy, i.PerceptualHash }).ToListAsync(ct);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == p.ProjectId).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        var index = images.Select((image, i) => (image.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var split = images.Select(i => ExportSplit.Of(i.Id, p.Val, p.Seed)).ToArray();
        var objects = new int[images.Count];
        var classCounts = new Dictionary<(Guid, string), long>();
        var sizes = new Dictionary<Guid, (RoundedDistribution Area, RoundedDistribution Aspect)>();
        var heat = new Dictionary<Guid, int[]>();
        long annotations = 0;
        // Two passes over the accepted annotations (what an export holds), a page at a time: the counts and each label's
        // size distributions first, then the boxes those distributions make outliers. Memory holds a page, a few numbers
        // per image and per label, never per object.
        await foreach (var a in AcceptedAsync(p.ProjectId, index, ct))
        {
            int i = a.Image;
            annotations++;
            objects[i]++;
            var key = (a.LabelId, split[i]);
            classCounts[key] = classCounts.GetValueOrDefault(key) + 1;
            var b = a.Bounds; // x, y, width, height
            if (b[2] > 0 && b[3] > 0)
            {
                var (area, aspect) = sizes.TryGetValue(a.LabelId, out var d) ? d : sizes[a.LabelId] = (new(), new());
                area.Add(Math.Log(b[2] * b[3]));
                aspect.Add(Math.Log(b[2] / b[3]));
            }
            var image = images[i];
            if (image.Width > 0 && image.Height > 0)
            {
                int gx = Math.Clamp((int)((b[0] + b[2] / 2) / image.Width * HeatmapSize), 0, HeatmapSize - 1);
                int gy = Math.Clamp((int)((b[1] + b[3] / 2) / image.Height * HeatmapSize), 0, HeatmapSize - 1);
                (heat.TryGetValue(a.LabelId, out var grid) ? grid : heat[a.LabelId] = new int[HeatmapSize * HeatmapSize])[gy * HeatmapSize + gx]++;
            }
        }
        var scorers = sizes.Where(s => s.Value.Area.Count >= 3).ToDictionary(s => s.Key, s => (Area: s.Value.Area.Scorer(), Aspect: s.Value.Aspect.Scorer()));
        var extreme = new Dictionary<Guid, PriorityQueue<BoxOutlier, double>>();
        if (scorers.Count > 0)
            await foreach (var a in AcceptedAsync(p.ProjectId, index, ct))
            {
                var b = a.Bounds;
                if (b[2] <= 0 || b[3] <= 0 || !scorers.TryGetValue(a.LabelId, out var z)) continue;
                double za = z.Area(Math.Log(b[2] * b[3])) ?? 0, zs = z.Aspect(Math.Log(b[2] / b[3])) ?? 0;
                double size = Math.Max(Math.Abs(za), Math.Abs(zs));
                if (size <= Analytics.Outliers.ZLimit) continue;
                var top = extreme.TryGetValue(a.LabelId, out var q) ? q : extreme[a.LabelId] = new();
                top.Enqueue(new BoxOutlier(a.Id, images[a.Image].Id, a.LabelId, "", b[2], b[3], Math.Round(za, 3), Math.Round(zs, 3)), size);
                if (top.Count > MaxOutliersPerLabel) top.Dequeue(); // the least extreme goes
            }
        string Name(Guid label) => labels.GetValueOrDefault(label, label.ToString());

        var hashed = images.Select((image, i) => (image, i)).Where(x => x.image.PerceptualHash is not null).ToList();
        var pairs = NearDuplicates.Find(hashed.Select(x => (ulong)x.image.PerceptualHash!.Value).ToList(), p.MaxDistance)
            .Select(d => (A: hashed[d.A].i, B: hashed[d.B].i, d.Distance)).ToList();
        return new HealthResult(now, p.Val, p.Seed, p.MaxDistance, images.Count, annotations, unhashed,
            classCounts.Select(c => new ClassCount(c.Key.Item1, Name(c.Key.Item1), c.Key.Item2, c.Value)).OrderBy(c => c.Label, StringComparer.Ordinal).ThenBy(c => c.Split).ToList(),
            images.Where((image, i) => image.Status == ImageStatus.Approved && image.ReviewedBy != null && objects[i] == 0).Count(),
            images.Count(image => image.ReviewedBy == null && image.Status != ImageStatus.Approved),
            objects.GroupBy(n => Math.Min(n, MaxObjectsBucket)).Select(g => new ObjectsPerImage(g.Key, g.Count())).OrderBy(o => o.Objects).ToList(),
            extreme.SelectMany(e => e.Value.UnorderedItems.OrderByDescending(o => o.Priority).ThenBy(o => o.Element.AnnotationId).Select(o => o.Element with { Label = Name(e.Key) }))
                .OrderBy(o => o.Label, StringComparer.Ordinal).ToList(),
            heat.Select(h => new Heatmap(h.Key, Name(h.Key), HeatmapSize, h.Value)).OrderBy(h => h.Label, StringComparer.Ordinal).ToList(),
            images.GroupBy(i => (i.Width, i.Height)).Select(g => new ImageSize(g.Key.Width, g.Key.Height, g.Count())).OrderByDescending(s => s.Images).ThenBy(s => s.Width).Take(100).ToList(),
            pairs.Select(d => new NearDuplicate(images[d.A].Id, images[d.B].Id, d.Distance)).ToList(),
            pairs.Where(d => split[d.A] != split[d.B]).Select(d => new Leak(images[d.A].Id, images[d.B].Id, d.Distance, split[d.A], split[d.B])).ToList());
    }

    /// <summary>The project's accepted annotations with their bounds, a page at a time in id order (index: image id →
    /// position in the caller's image list; annotations of images not in it are skipped).</summary>
    private async IAsyncEnumerable<(Guid Id, int Image, Guid LabelId, double[] Bounds)> AcceptedAsync(Guid projectId, Dictionary<Guid, int> index,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        Guid? after = null;
        while (true)
        {
            var query = db.Annotations.AsNoTracking().Where(a => a.State == AnnotationState.Accepted && db.Images.Any(i => i.Id == a.ImageId && i.ProjectId == projectId));
            if (after is { } last) query = query.Where(a => a.Id.CompareTo(last) > 0);
            var page = await query.OrderBy(a => a.Id).Take(Page).Select(a => new { a.Id, a.ImageId, a.LabelId, a.Kind, a.Geometry }).ToListAsync(ct);
            if (page.Count == 0) yield break;
            after = page[^1].Id;
            foreach (var a in page)
                if (index.TryGetValue(a.ImageId, out int i)) yield return (a.Id, i, a.LabelId, Geometry.Read(a.Kind, a.Geometry).Bounds);
        }
    }
}
