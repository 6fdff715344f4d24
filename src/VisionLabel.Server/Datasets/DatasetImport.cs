using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;

namespace VisionLabel.Server.Datasets;

public sealed record ImportProgress(int ImagesDone, int ImagesTotal);

public sealed record ImportReport(
    Guid ProjectId, string ProjectName, bool ProjectCreated, string Format,
    int ImagesCreated, int ImagesAlreadyPresent, int AnnotationsCreated, int LabelsCreated,
    IReadOnlyList<SkippedItem> Skipped, IReadOnlyList<string> Notes);

/// <summary>
/// Stores what a format reader planned: labels for its categories (matched by name, created when missing, keeping
/// the dataset's ids for export), each image through the normal intake (validated, de-duplicated, stored in the
/// blob store), and each annotation after the same geometry checks as an edit. Bad items are skipped and reported.
/// A failure part-way (or a cancel) removes everything this import added, so nothing half-imported stays behind.
/// Run as a job (<see cref="ImportJob"/>), an import is also resumable: its annotation ids and op ids derive from the
/// job, so an attempt after a crash replays the dataset and every op that already landed is skipped by the sequencer;
/// the images it created are recorded as the job's items, so a later failure still removes them all.
/// </summary>
public sealed class DatasetImport(VisionLabelDb db, ImageIntake intake, AnnotationSequencer sequencer, ILogger<DatasetImport> log)
{
    public const string ImportAuthor = "import";
    private const int ProgressEvery = 25;

    /// <summary>Imports into the project with <paramref name="projectName"/>, creating it (owned by <paramref name="owner"/>, if given) when it does not exist.</summary>
    public async Task<ImportReport> IntoProjectNamedAsync(string projectName, IDatasetImporter format, IDatasetSource source,
        IProgress<ImportProgress>? progress, CancellationToken ct, Guid? owner = null)
    {
        if (LabelRules.NameProblem(projectName) is { } problem) throw new DatasetException($"project name: {problem}");
        var plan = await format.ReadAsync(source, ct); // a dataset that cannot be read fails here, before any write
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Name == projectName.Trim(), ct);
        bool created = project is null;
        if (project is null)
        {
            var now = DateTime.UtcNow;
            project = new Project { Name = projectName.Trim(), Description = $"Imported from a {format.Format} dataset", CreatedAt = now, UpdatedAt = now };
            db.Projects.Add(project);
            if (owner is { } ownerId) db.ProjectMembers.Add(Projects.ProjectMembership.Creator(project.Id, ownerId));
            await db.SaveChangesAsync(ct);
        }
        return await RunAsync(project, created, format.Format, plan, source, progress, null, ct);
    }

    public async Task<ImportReport> IntoProjectAsync(Project project, IDatasetImporter format, IDatasetSource source,
        IProgress<ImportProgress>? progress, CancellationToken ct) =>
        await RunAsync(project, false, format.Format, await format.ReadAsync(source, ct), source, progress, null, ct);

    /// <summary>The job form: resumable (see the class summary). <paramref name="projectCreated"/>: the job made the project, so a failure removes it.</summary>
    public async Task<ImportReport> AsJobAsync(Guid jobId, Project project, bool projectCreated, IDatasetImporter format, IDatasetSource source,
        IProgress<ImportProgress>? progress, CancellationToken ct) =>
        await RunAsync(project, projectCreated, format.Format, await format.ReadAsync(source, ct), source, progress, jobId, ct);

    private async Task<ImportReport> RunAsync(Project project, bool projectCreated, string formatName, ImportPlan plan, IDatasetSource source,
        IProgress<ImportProgress>? progress, Guid? jobId, CancellationToken ct)
    {
        // Images an earlier attempt of this job created: they show up as already present now, but are still ours.
        var createdImages = jobId is { } job ? await db.JobItems.Where(i => i.JobId == job).Select(i => i.ImageId).ToListAsync(ct) : [];
        var ours = createdImages.ToHashSet();
        var createdLabels = new List<Guid>();
        var addedToExisting = new List<(Guid ImageId, Guid AnnotationId)>(); // annotations put on images the project already had
        string importId = (jobId ?? Guid.NewGuid()).ToString("N");
        if (jobId is not null && plan.Images.Count >= 1 << 24) throw new DatasetException($"an import holds at most {(1 << 24) - 1:N0} images; split the dataset");
        var skipped = new List<SkippedItem>(plan.Skipped);
        int imagesCreated = 0, imagesPresent = 0, annotationsCreated = 0;
        try
        {
            var labels = await MapCategoriesAsync(project, plan, createdLabels, ct);
            var now = DateTime.UtcNow;
            for (int n = 0; n < plan.Images.Count; n++)
            {
                var planned = plan.Images[n];
                UploadedFile stored;
                await using (var content = source.Open(planned.SourcePath))
                    stored = await intake.IngestAsync(project.Id, planned.FileName, content, ct, planned.ExternalId,
                        jobId is { } madeBy ? image => new JobItem { JobId = madeBy, ImageId = image.Id, Status = JobItemStatus.Done, FinishedAt = DateTime.UtcNow } : null);
                if (stored.Outcome == UploadOutcome.Rejected)
                {
                    skipped.Add(new(planned.SourcePath, $"{stored.Error}{(planned.Annotations.Count > 0 ? $"; its {planned.Annotations.Count} annotation(s) are skipped too" : "")}"));
                    continue;
                }
                var image = stored.Image!;
                if (stored.Outcome == UploadOutcome.Created)
                {
                    imagesCreated++;
                    createdImages.Add(image.Id);
                    ours.Add(image.Id); // recorded as the job's item in the image's own commit
                }
                else if (ours.Contains(image.Id)) imagesCreated++; // made by an earlier attempt of this job: its annotations are replayed below
                else
                {
                    imagesPresent++;
                    if (planned.Annotations.Count > 0 && await db.Annotations.AnyAsync(a => a.ImageId == image.Id, ct)
                        && !await db.AnnotationOps.AnyAsync(o => o.ImageId == image.Id && o.AuthorId == ImportAuthor && o.ClientOpId.StartsWith($"import:{importId}:"), ct))
                    {
                        skipped.Add(new(planned.SourcePath, $"the project already has this image (as {image.FileName}) with annotations; its {planned.Annotations.Count} annotation(s) were not imported again"));
                        continue;
                    }
                }
                if (planned.DeclaredWidth is { } dw && planned.DeclaredHeight is { } dh && (dw != image.Width || dh != image.Height))
                {
                    skipped.Add(new(planned.SourcePath, $"the dataset says {dw}x{dh} but the file is {image.Width}x{image.Height}; its {planned.Annotations.Count} annotation(s) are skipped"));
                    continue;
                }
                bool existingImage = !ours.Contains(image.Id);
                // A reviewed image is done: an import adds nothing to it behind its review (as pre-labeling leaves it alone).
                if (existingImage && planned.Annotations.Count > 0 && image.Status is ImageStatus.Submitted or ImageStatus.Approved)
                {
                    skipped.Add(new(planned.SourcePath, $"the project's {image.FileName} is {ApiEnum.Name(image.Status)}; its {planned.Annotations.Count} annotation(s) were not imported (an owner reopens it first)"));
                    continue;
                }
                var ops = new List<SubmitOp>();
                var plannedByOp = new Dictionary<string, PlannedAnnotation>();
                for (int k = 0; k < planned.Annotations.Count; k++)
                {
                    var a = planned.Annotations[k];
                    var geometry = a.Geometry.ToGeometry(image.Width, image.Height);
                    if (geometry.Problem(image.Width, image.Height) is { } problem) { skipped.Add(new(a.Where, problem)); continue; }
                    bool proposal = a.Score is not null;
                    var id = jobId is { } forJob ? ReplayableId(forJob, n, k) : MonotonicGuid.Next();
                    var changes = new JsonObject
                    {
                        ["labelId"] = labels[a.Category], ["kind"] = ApiEnum.Name(a.Geometry.Kind), ["geometry"] = geometry.ToJson(),
                        ["attributes"] = Attributes(a, geometry),
                        ["state"] = ApiEnum.Name(proposal ? AnnotationState.Proposed : AnnotationState.Accepted),
                        ["source"] = proposal
                            ? new JsonObject { ["type"] = "model", ["modelId"] = $"import:{formatName}", ["score"] = Math.Clamp(a.Score!.Value, 0, 1) }
                            : new JsonObject { ["type"] = "human" },
                    };
                    var op = new SubmitOp($"import:{importId}:{id}", image.Id, OpType.Create, id, JsonSerializer.SerializeToElement(changes));
                    ops.Add(op);
                    plannedByOp[op.ClientOpId] = a;
                }
                if (ops.Count > 0)
                {
                    // Through the sequencer, so the op log holds the image's whole history and anyone on it sees them arrive.
                    var outcome = await sequencer.ApplyBatchAsync(image.Id, ImportAuthor, OpOrigin.Import, _ => Task.FromResult<IReadOnlyList<SubmitOp>?>(ops), ct: ct);
                    foreach (var (op, refusal) in outcome!.Rejected) skipped.Add(new(plannedByOp[op.ClientOpId].Where, refusal.Reason ?? "refused"));
                    if (existingImage) addedToExisting.AddRange(outcome.Applied.Select(a => (image.Id, a.Op.AnnotationId)));
                    annotationsCreated += outcome.Applied.Count;
                }
                if ((n + 1) % ProgressEvery == 0) progress?.Report(new(n + 1, plan.Images.Count));
            }
            progress?.Report(new(plan.Images.Count, plan.Images.Count));
        }
        catch (Exception e)
        {
            log.LogWarning("Import into {Project} failed ({Error}); removing the {Images} image(s) and {Labels} label(s) it added", project.Name, e.Message, createdImages.Count, createdLabels.Count);
            await UndoAsync(project.Id, projectCreated, createdImages, addedToExisting, createdLabels);
            throw;
        }
        log.LogInformation("Imported {Format} into {Project}: {Images} new images, {Annotations} annotations, {Skipped} skipped",
            formatName, project.Name, imagesCreated, annotationsCreated, skipped.Count);
        return new ImportReport(project.Id, project.Name, projectCreated, formatName, imagesCreated, imagesPresent, annotationsCreated,
            createdLabels.Count, skipped, plan.Notes);
    }

    /// <summary>
    /// The same id for the same annotation on every attempt of a job, in import order: the job's own id (time-ordered,
    /// v7) for the first 10 bytes, then the image's and the annotation's positions in the dataset (24 bits each).
    /// </summary>
    private static Guid ReplayableId(Guid jobId, int image, int annotation)
    {
        if (annotation >= 1 << 24) throw new DatasetException($"an image holds at most {(1 << 24) - 1:N0} annotations in an import");
        Span<byte> bytes = stackalloc byte[16];
        jobId.TryWriteBytes(bytes, bigEndian: true, out _);
        bytes[10] = (byte)(image >> 16); bytes[11] = (byte)(image >> 8); bytes[12] = (byte)image;
        bytes[13] = (byte)(annotation >> 16); bytes[14] = (byte)(annotation >> 8); bytes[15] = (byte)annotation;
        return new Guid(bytes, bigEndian: true);
    }

    private static JsonObject Attributes(PlannedAnnotation a, Geometry geometry)
    {
        var attributes = new JsonObject();
        if (a.Values is { } values)
            foreach (var (name, value) in values) attributes[name] = JsonNode.Parse(value.GetRawText());
        if (a.IsCrowd) attributes["iscrowd"] = 1;
        if (CocoMeasure.Declared(a.DeclaredBox, a.DeclaredArea, geometry) is { } declared) attributes["coco"] = declared;
        return attributes;
    }

    /// <summary>Label id for each planned category: the project's label of that name, or a new one.</summary>
    private async Task<Guid[]> MapCategoriesAsync(Project project, ImportPlan plan, List<Guid> created, CancellationToken ct)
    {
        var existing = await db.Labels.Where(l => l.ProjectId == project.Id).ToListAsync(ct);
        var byName = existing.ToDictionary(l => l.Name, StringComparer.Ordinal);
        var usedIds = existing.Where(l => l.ExternalId is not null).Select(l => l.ExternalId!.Value).ToHashSet();
        int order = existing.Count == 0 ? 0 : existing.Max(l => l.Order) + 1;
        var ids = new Guid[plan.Categories.Count];
        for (int i = 0; i < plan.Categories.Count; i++)
        {
            var c = plan.Categories[i];
            if (LabelRules.NameProblem(c.Name) is { } problem) throw new DatasetException($"category {c.ExternalId}: {problem}; fix the dataset's category names");
            if (!byName.TryGetValue(c.Name, out var label))
            {
                label = new Label { ProjectId = project.Id, Name = c.Name, Color = LabelRules.DefaultColor(order), Order = order++, Hotkey = LabelRules.NextHotkey(byName.Values.Select(l => l.Hotkey)) };
                db.Labels.Add(label);
                byName[c.Name] = label;
                created.Add(label.Id);
            }
            // Keep the dataset's ids so exports write them back, unless the label already has its own.
            if (label.ExternalId is null && usedIds.Add(c.ExternalId)) label.ExternalId = c.ExternalId;
            label.Supercategory ??= c.Supercategory;
            ids[i] = label.Id;
        }
        await db.SaveChangesAsync(ct);
        return ids;
    }

    private async Task UndoAsync(Guid projectId, bool projectCreated, List<Guid> images, List<(Guid ImageId, Guid AnnotationId)> annotations, List<Guid> labels)
    {
        db.ChangeTracker.Clear();
        // Not the caller's token: a cancelled import must still clean up.
        if (projectCreated) { await db.Projects.Where(p => p.Id == projectId).ExecuteDeleteAsync(CancellationToken.None); return; }
        // What it put on images the project already had is taken back as ops, so people on those images see it go.
        string undoId = Guid.NewGuid().ToString("N");
        foreach (var image in annotations.GroupBy(a => a.ImageId))
            await sequencer.ApplyBatchAsync(image.Key, ImportAuthor, OpOrigin.Import, _ => Task.FromResult<IReadOnlyList<SubmitOp>?>(
                image.Select(a => new SubmitOp($"import-undo:{undoId}:{a.AnnotationId}", image.Key, OpType.Delete, a.AnnotationId)).ToList()), ct: CancellationToken.None);
        foreach (var chunk in images.Chunk(500)) await db.Images.Where(i => chunk.Contains(i.Id)).ExecuteDeleteAsync(CancellationToken.None);
        foreach (var chunk in labels.Chunk(500)) await db.Labels.Where(l => chunk.Contains(l.Id)).ExecuteDeleteAsync(CancellationToken.None);
    }
}
