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
        var shapes = new Dictionary<Guid, List<(Guid Id, Guid Image, double W, double H)>>();
        var heat = new Dictionary<Guid, int[]>();
        long annotations = 0;
        // Accepted annotations (what an export holds), a page at a time in id order.
        Guid? after = null;
        while (true)
        {
            var query = db.Annotations.AsNoTracking().Where(a => a.State == AnnotationState.Accepted && db.Images.Any(i => i.Id == a.ImageId && i.ProjectId == p.ProjectId));
            if (after is { } last) query = query.Where(a => a.Id.CompareTo(last) > 0);
            var page = await query.OrderBy(a => a.Id).Take(Page).Select(a => new { a.Id, a.ImageId, a.LabelId, a.Kind, a.Geometry }).ToListAsync(ct);
            if (page.Count == 0) break;
            after = page[^1].Id;
            foreach (var a in page)
            {
                if (!index.TryGetValue(a.ImageId, out int i)) continue;
                annotations++;
                objects[i]++;
                var key = (a.LabelId, split[i]);
                classCounts[key] = classCounts.GetValueOrDefault(key) + 1;
                var b = Geometry.Read(a.Kind, a.Geometry).Bounds; // x, y, width, height
                (shapes.TryGetValue(a.LabelId, out var list) ? list : shapes[a.LabelId] = []).Add((a.Id, a.ImageId, b[2], b[3]));
                var image = images[i];
                if (image.Width > 0 && image.Height > 0)
                {
                    int gx = Math.Clamp((int)((b[0] + b[2] / 2) / image.Width * HeatmapSize), 0, HeatmapSize - 1);
                    int gy = Math.Clamp((int)((b[1] + b[3] / 2) / image.Height * HeatmapSize), 0, HeatmapSize - 1);
                    (heat.TryGetValue(a.LabelId, out var grid) ? grid : heat[a.LabelId] = new int[HeatmapSize * HeatmapSize])[gy * HeatmapSize + gx]++;
                }
            }
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
            shapes.SelectMany(s => Outliers(s.Key, Name(s.Key), s.Value)).ToList(),
            heat.Select(h => new Heatmap(h.Key, Name(h.Key), HeatmapSize, h.Value)).OrderBy(h => h.Label, StringComparer.Ordinal).ToList(),
            images.GroupBy(i => (i.Width, i.Height)).Select(g => new ImageSize(g.Key.Width, g.Key.Height, g.Count())).OrderByDescending(s => s.Images).ThenBy(s => s.Width).Take(100).ToList(),
            pairs.Select(d => new NearDuplicate(images[d.A].Id, images[d.B].Id, d.Distance)).ToList(),
            pairs.Where(d => split[d.A] != split[d.B]).Select(d => new Leak(images[d.A].Id, images[d.B].Id, d.Distance, split[d.A], split[d.B])).ToList());
    }

    /// <summary>A label's boxes whose log area or log aspect (width ÷ height) has a modified z-score above 3.5 in size
    /// among the label's boxes (bounds of polygons and masks); the most extreme first, at most 50 per label.</summary>
    private static IEnumerable<BoxOutlier> Outliers(Guid label, string name, List<(Guid Id, Guid Image, double W, double H)> boxes)
    {
        var sized = boxes.Where(b => b.W > 0 && b.H > 0).ToList();
        if (sized.Count < 3) return [];
        var area = sized.Select(b => Math.Log(b.W * b.H)).ToList();
        var aspect = sized.Select(b => Math.Log(b.W / b.H)).ToList();
        var (za, zs) = (Scorer(area), Scorer(aspect));
        return sized.Select((b, i) => new BoxOutlier(b.Id, b.Image, label, name, b.W, b.H, Math.Round(za(area[i]), 3), Math.Round(zs(aspect[i]), 3)))
            .Where(o => Math.Abs(o.AreaZ) > Analytics.Outliers.ZLimit || Math.Abs(o.AspectZ) > Analytics.Outliers.ZLimit)
            .OrderByDescending(o => Math.Max(Math.Abs(o.AreaZ), Math.Abs(o.AspectZ))).Take(MaxOutliersPerLabel);
    }

    private static Func<double, double> Scorer(List<double> values)
    {
        var z = Analytics.Outliers.Scorer(values);
        return x => z(x) ?? 0;
    }
}
