using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;

namespace VisionLabel.Server.ModelLoop.Predictions;

/// <summary>
/// Writes a read prediction file as proposals (state proposed, source {type: model, modelId: NAME, score}) through the
/// write path, one batch per image (<see cref="AnnotationSequencer.ApplyBatchAsync"/>): everyone on an image receives
/// them as Applied ops, the op log holds them, and <see cref="ProposalTracking"/> counts them under the model's name
/// (the models-in-the-loop outcomes take a name as well as a registered model's id). On each image it writes to, the
/// model's earlier untouched proposals (proposed, never edited) are replaced, so importing the same file again does not
/// double them; what people kept stays. Rows are refused one by one (unknown image or category, a geometry outside the
/// image, a reviewed image, over the per-image cap); the good rows land all the same.
/// </summary>
public sealed class PredictionsImport(VisionLabelDb db, AnnotationSequencer sequencer, ILogger<PredictionsImport> log)
{
    public const int MaxRows = 1_000_000;
    /// <summary>The bulk route's bound: more proposals than this on one image is not a detector's output.</summary>
    public const int MaxPerImage = AnnotationsApi.MaxBulk;
    public const int ListedRefusals = 1000;

    private sealed record Target(Guid Id, long? ExternalId, string FileName, int Width, int Height);

    public async Task<PredictionsReport> ImportAsync(Guid projectId, string model, PredictionFile file, CancellationToken ct)
    {
        var refused = new List<PredictionRefusal>(file.Refused);
        var labels = await LabelsAsync(projectId, file, ct);
        var images = await ImagesAsync(projectId, file.Rows, ct);
        var byImage = new Dictionary<Guid, List<(PredictionRow Row, Guid Label, Geometry Geometry)>>();
        foreach (var row in file.Rows)
        {
            if (!labels.TryGetValue(row.Category, out var label))
            {
                refused.Add(new(row.Row, file.CategoryField, CategoryProblem(file, row.Category), row.Where));
                continue;
            }
            if (!images.TryGetValue(row.Image, out var found) || found.Target is not { } image)
            {
                refused.Add(new(row.Row, row.Image.Field, found.Problem ?? $"'{row.Image}' is not an image of this project", row.Where));
                continue;
            }
            var geometry = row.Geometry.ToGeometry(image.Width, image.Height);
            if (geometry.Problem(image.Width, image.Height) is { } problem) { refused.Add(new(row.Row, row.GeometryField, problem, row.Where)); continue; }
            var list = byImage.TryGetValue(image.Id, out var l) ? l : byImage[image.Id] = [];
            if (list.Count >= MaxPerImage) { refused.Add(new(row.Row, row.Image.Field, $"over {MaxPerImage:N0} predictions for one image; the rest are refused", row.Where)); continue; }
            list.Add((row, label, geometry));
        }

        string author = $"model:{model}", importId = Guid.NewGuid().ToString("N");
        int created = 0, replaced = 0, landed = 0;
        foreach (var (imageId, rows) in byImage)
        {
            // A client that went away stops the import between images: what landed is whole images, and a re-import replaces it.
            ct.ThrowIfCancellationRequested();
            var byOp = new Dictionary<string, PredictionRow>();
            var ops = new List<SubmitOp>();
            foreach (var (row, label, geometry) in rows)
            {
                var id = MonotonicGuid.Next();
                var op = new SubmitOp($"predictions:{importId}:{id:N}", imageId, OpType.Create, id, Changes(model, label, geometry, row.Score));
                ops.Add(op);
                byOp[op.ClientOpId] = row;
            }
            int deletes = 0;
            // Not the request's token once writing: an image's predictions land whole or not at all.
            var outcome = await sequencer.ApplyBatchAsync(imageId, author, OpOrigin.Import, async tx =>
            {
                // Under the image's lock: a reviewed image is done (as pre-labeling leaves it alone).
                var status = await tx.Images.Where(i => i.Id == imageId).Select(i => i.Status).FirstAsync(CancellationToken.None);
                if (status is ImageStatus.Submitted or ImageStatus.Approved) return null;
                var stale = await tx.Annotations.AsNoTracking().Where(a => a.ImageId == imageId && a.Source == AnnotationSourceType.Model && a.ModelId == model
                    && a.State == AnnotationState.Proposed && a.Version == 1).Select(a => a.Id).OrderBy(a => a).ToListAsync(CancellationToken.None);
                deletes = stale.Count;
                return [.. stale.Select(a => new SubmitOp($"predictions:{importId}:delete:{a:N}", imageId, OpType.Delete, a)), .. ops];
            }, ImageEvent.Prelabeled, CancellationToken.None, freshIds: true); // ids minted here, the import id is new: nothing to look up
            if (outcome is null)
            {
                refused.AddRange(rows.Select(r => new PredictionRefusal(r.Row.Row, r.Row.Image.Field, "the image is submitted or approved: predictions are not added behind its review (an owner reopens it first)", r.Row.Where)));
                continue;
            }
            foreach (var (op, why) in outcome.Rejected)
                if (byOp.TryGetValue(op.ClientOpId, out var row)) refused.Add(new(row.Row, why.Field ?? row.GeometryField, why.Reason ?? "refused", row.Where));
            int made = outcome.Applied.Count(a => a.Op.Type == OpType.Create);
            created += made;
            replaced += outcome.Applied.Count(a => a.Op.Type == OpType.Delete);
            if (made > 0) landed++;
        }
        log.LogInformation("Predictions of {Model} ({Format}) into {Project}: {Created} proposals on {Images} images, {Replaced} replaced, {Refused} rows refused",
            model, file.Format, projectId, created, landed, replaced, refused.Count);
        return new PredictionsReport(model, file.Format, file.TotalRows, created, landed, replaced, refused.Count,
            refused.OrderBy(r => r.Row).Take(ListedRefusals).ToList());
    }

    /// <summary>
    /// Category number → label. With names in the file: the project's label of that name (exactly, else ignoring case).
    /// Without: the number as a COCO or YOLO export of the project numbers its labels (<see cref="DatasetExport.ExportLabels"/>),
    /// so predictions of a model trained on an export map back without a mapping.
    /// </summary>
    private async Task<Dictionary<int, Guid>> LabelsAsync(Guid projectId, PredictionFile file, CancellationToken ct)
    {
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToListAsync(ct);
        if (file.Names is { } names)
        {
            var map = new Dictionary<int, Guid>();
            foreach (var (number, name) in names)
                if ((labels.FirstOrDefault(l => l.Name == name) ?? labels.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase))) is { } label)
                    map[number] = label.Id;
            return map;
        }
        var exported = DatasetExport.ExportLabels(labels);
        return file.Scheme == CategoryScheme.CocoId ? exported.ToDictionary(l => l.CocoId, l => l.Id) : exported.ToDictionary(l => l.ClassIndex, l => l.Id);
    }

    private static string CategoryProblem(PredictionFile file, int category) =>
        file.Names?.GetValueOrDefault(category) is { } name ? $"{file.CategoryField} {category} ('{name}') names no label of this project"
        : file.Names is not null ? $"{file.CategoryField} {category} is not in the file's {(file.Scheme == CategoryScheme.CocoId ? "categories" : "data.yaml names")}"
        : file.Scheme == CategoryScheme.CocoId ? $"category_id {category} is no label's COCO id in this project (a COCO export's categories list them)"
        : $"class {category} is no label's class index in this project (a YOLO export's data.yaml lists them)";

    /// <summary>
    /// The images the rows name, found in chunks (never one query per row, never another project's image): by COCO id,
    /// by id (another project's is refused, never written), by file name (a bare name also matches one in a folder) or
    /// by name without the extension (YOLO). A name several images share is refused rather than guessed.
    /// </summary>
    private async Task<Dictionary<ImageKey, (Target? Target, string? Problem)>> ImagesAsync(Guid projectId, List<PredictionRow> rows, CancellationToken ct)
    {
        var result = new Dictionary<ImageKey, (Target?, string?)>();
        var keys = rows.Select(r => r.Image).Distinct().ToList();
        var mine = db.Images.AsNoTracking().Where(i => i.ProjectId == projectId);
        foreach (var chunk in keys.Where(k => k.ExternalId is not null).Select(k => k.ExternalId!.Value).Chunk(500))
            foreach (var g in (await mine.Where(i => i.ExternalId != null && chunk.Contains(i.ExternalId.Value))
                         .Select(i => new Target(i.Id, i.ExternalId, i.FileName, i.Width, i.Height)).ToListAsync(ct)).GroupBy(t => t.ExternalId))
                result[new ImageKey(ExternalId: g.Key)] = One(g.ToList(), $"image_id {g.Key}");
        foreach (var chunk in keys.Where(k => k.Id is not null).Select(k => k.Id!.Value).Chunk(500))
        {
            foreach (var i in await db.Images.AsNoTracking().Where(i => chunk.Contains(i.Id)).Select(i => new { i.ProjectId, T = new Target(i.Id, i.ExternalId, i.FileName, i.Width, i.Height) }).ToListAsync(ct))
                result[new ImageKey(Id: i.T.Id)] = i.ProjectId == projectId ? (i.T, null) : (null, $"image {i.T.Id} is not an image of this project");
        }
        if (keys.Any(k => k.FileName is not null || k.Stem is not null))
        {
            // Names are matched in memory: a name without its folder or extension cannot be looked up by index.
            var all = await mine.Select(i => new Target(i.Id, i.ExternalId, i.FileName, i.Width, i.Height)).ToListAsync(ct);
            var byName = all.ToLookup(t => t.FileName, StringComparer.Ordinal);
            var byStem = all.ToLookup(t => Path.GetFileNameWithoutExtension(t.FileName), StringComparer.Ordinal);
            foreach (var k in keys.Where(k => k.FileName is not null))
                result[k] = One(byName[k.FileName!].Any() ? byName[k.FileName!].ToList() : byName[Path.GetFileName(k.FileName!)].ToList(), $"file_name '{k.FileName}'");
            foreach (var k in keys.Where(k => k.Stem is not null))
                result[k] = One(byStem[k.Stem!].ToList(), $"'{k.Stem}.txt'");
        }
        return result;
    }

    private static (Target?, string?) One(List<Target> found, string what) => found.Count switch
    {
        1 => (found[0], null),
        0 => (null, $"{what} names no image of this project"),
        _ => (null, $"{what} matches {found.Count} images of this project; name one by its id"),
    };

    private static JsonElement Changes(string model, Guid label, Geometry geometry, double? score)
    {
        var source = new JsonObject { ["type"] = "model", ["modelId"] = model };
        if (score is { } s) source["score"] = s;
        return JsonSerializer.SerializeToElement(new JsonObject
        {
            ["labelId"] = label, ["kind"] = ApiEnum.Name(geometry.Kind), ["geometry"] = geometry.ToJson(), ["state"] = "proposed", ["source"] = source,
        });
    }
}
