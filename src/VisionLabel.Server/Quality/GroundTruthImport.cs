using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;

namespace VisionLabel.Server.Quality;

/// <summary>What a ground-truth import did: images matched by file name, shapes stored, and everything skipped with why.</summary>
public sealed record GroundTruthReport(int ImagesMatched, int Annotations, int Crowd, IReadOnlyList<SkippedItem> Skipped, IReadOnlyList<string> Notes);

/// <summary>
/// Ground truth from a COCO or YOLO dataset (the same zip forms as a dataset import, with or without the image
/// files), matched to the project's images by file name and to its labels by name. An image's ground truth is
/// replaced by the import's. Read with the dataset importers themselves, so a dataset reads the same either way.
/// </summary>
public sealed class GroundTruthImport(VisionLabelDb db)
{
    public async Task<GroundTruthReport> ImportAsync(Guid projectId, IDatasetImporter importer, IDatasetSource zip, string by, CancellationToken ct)
    {
        var images = await db.Images.AsNoTracking().Where(i => i.ProjectId == projectId)
            .Select(i => new { i.Id, i.FileName, i.Width, i.Height }).ToListAsync(ct);
        var byName = images.GroupBy(i => i.FileName, StringComparer.Ordinal).Where(g => g.Count() == 1).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var ambiguous = images.GroupBy(i => i.FileName, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Name, l => l.Id, StringComparer.Ordinal, ct);

        using var source = new WithProjectImages(zip, images.Select(i => i.FileName).ToList(), pairedByName: importer.Format == "coco");
        var plan = await importer.ReadAsync(source, ct);
        var skipped = new List<SkippedItem>(plan.Skipped.Where(s => !s.Reason.Contains("background", StringComparison.Ordinal)));
        var rows = new List<GroundTruth>();
        var matched = new HashSet<Guid>();
        var now = DateTime.UtcNow;
        foreach (var planned in plan.Images)
        {
            if (ambiguous.Contains(planned.FileName)) { skipped.Add(new(planned.FileName, "several images of this project have this file name; ground truth cannot say which")); continue; }
            if (!byName.TryGetValue(planned.FileName, out var image)) { skipped.Add(new(planned.FileName, "no image of this project has this file name")); continue; }
            if (planned.DeclaredWidth is { } dw && planned.DeclaredHeight is { } dh && (dw != image.Width || dh != image.Height))
            { skipped.Add(new(planned.FileName, $"the dataset says {dw}x{dh}, the project's image is {image.Width}x{image.Height}")); continue; }
            matched.Add(image.Id);
            foreach (var a in planned.Annotations)
            {
                var category = plan.Categories[a.Category];
                if (!labels.TryGetValue(category.Name, out var labelId)) { skipped.Add(new(a.Where, $"the project has no label named '{category.Name}'")); continue; }
                var geometry = a.Geometry.ToGeometry(image.Width, image.Height);
                if (geometry.Problem(image.Width, image.Height) is { } problem) { skipped.Add(new(a.Where, problem)); continue; }
                rows.Add(new GroundTruth
                {
                    ProjectId = projectId, ImageId = image.Id, LabelId = labelId, Kind = geometry.Kind, Geometry = geometry.ToJsonString(), Crowd = a.IsCrowd,
                    Source = $"{importer.Format} import", CreatedBy = by, CreatedAt = now,
                });
            }
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        foreach (var chunk in matched.Chunk(500))
            await db.GroundTruth.Where(g => g.ProjectId == projectId && chunk.Contains(g.ImageId)).ExecuteDeleteAsync(ct);
        foreach (var chunk in rows.Chunk(2000))
        {
            db.GroundTruth.AddRange(chunk);
            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
        await tx.CommitAsync(ct);
        return new GroundTruthReport(matched.Count, rows.Count(r => !r.Crowd), rows.Count(r => r.Crowd), skipped, plan.Notes);
    }

    /// <summary>An approved image's accepted annotations become its ground truth (replacing any it had).</summary>
    public async Task<(int Count, string? Problem)> FromApprovedAsync(Guid imageId, string by, CancellationToken ct)
    {
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return (0, null);
        if (image.Status != ImageStatus.Approved)
            return (0, $"The image is '{Common.ApiEnum.Name(image.Status)}'; only an approved image's annotations become ground truth (a reviewer approves it first).");
        var annotations = await db.Annotations.AsNoTracking().Where(a => a.ImageId == imageId && a.State == AnnotationState.Accepted).ToListAsync(ct);
        var now = DateTime.UtcNow;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.GroundTruth.Where(g => g.ImageId == imageId).ExecuteDeleteAsync(ct);
        db.GroundTruth.AddRange(annotations.Select(a => new GroundTruth
        {
            ProjectId = image.ProjectId, ImageId = imageId, LabelId = a.LabelId, Kind = a.Kind, Geometry = a.Geometry, Crowd = ExportGeometry.IsCrowd(a),
            Source = "approved annotations", CreatedBy = by, CreatedAt = now,
        }));
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (annotations.Count, null);
    }

    /// <summary>
    /// The dataset's files plus a stand-in for each project image, so the importers (which pair annotations with image
    /// files) find every image the project has, whether or not the zip carries it. Stand-ins are never read.
    /// </summary>
    private sealed class WithProjectImages : IDatasetSource
    {
        private readonly IDatasetSource _inner;
        private readonly HashSet<string> _standIns = new(StringComparer.Ordinal);

        /// <param name="pairedByName">COCO: the JSON names each image by file name; YOLO: each label file has an image beside it.</param>
        public WithProjectImages(IDatasetSource inner, IReadOnlyList<string> projectFiles, bool pairedByName)
        {
            _inner = inner;
            var present = inner.Files.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
            var byStem = projectFiles.GroupBy(Path.GetFileNameWithoutExtension, StringComparer.Ordinal).ToDictionary(g => g.Key!, g => g.First(), StringComparer.Ordinal);
            // COCO pairs by file name anywhere in the dataset.
            if (pairedByName)
                foreach (var name in projectFiles.Where(n => !present.Contains(n))) _standIns.Add($"visionlabel-images/{name}");
            // YOLO pairs labels/…/stem.txt with images/…/stem.ext: a stand-in where the image would be (only for label
            // files: a YOLO image is itself an answer, "nothing here", so no stand-in may invent one).
            foreach (var label in pairedByName ? [] : inner.Files.Where(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase)))
            {
                var parts = label.Split('/');
                int at = Array.LastIndexOf(parts, "labels");
                if (at < 0 || !byStem.TryGetValue(Path.GetFileNameWithoutExtension(label), out var file) || present.Contains(file)) continue;
                parts[at] = "images";
                parts[^1] = file;
                _standIns.Add(string.Join('/', parts));
            }
            Files = [.. inner.Files, .. _standIns];
        }

        public IReadOnlyList<string> Files { get; }

        public Stream Open(string path) => _standIns.Contains(path)
            ? throw new DatasetException($"{path} is a stand-in for a project image and has no bytes")
            : _inner.Open(path);

        public void Dispose() => _inner.Dispose();
    }
}
