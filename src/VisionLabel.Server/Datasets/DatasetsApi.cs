using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using System.Text.Json;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Datasets;

/// <summary>
/// Dataset import (a zip upload) and export (a zip streamed back), in the formats of <see cref="DatasetFormats"/>.
/// </summary>
public static class DatasetsApi
{
    public static IEndpointRouteBuilder MapDatasetsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/dataset-formats", () => TypedResults.Ok(DatasetFormats.All)).WithTags("Datasets").RequireSignedIn()
            .WithDescription("Every dataset format: its id (the ?format= value), title, description, and whether it imports and/or exports.");
        var group = app.MapGroup("/api/projects").WithTags("Datasets");
        group.MapPost("/import", ImportNamed).DisableAntiforgery().RequireSignedIn();
        group.MapPost("/{projectId:guid}/import", ImportInto).DisableAntiforgery().RequireProjectRole(ProjectRole.Owner);
        group.MapGet("/{projectId:guid}/export", Export).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            $"Streams the project as a zip: ?format={string.Join('|', DatasetFormats.Exporters.Keys)} (GET /api/dataset-formats lists them). ?states= picks annotation states (comma-separated; " +
            "default accepted: the reviewed ground truth; add proposed for model proposals nobody has reviewed; rejected are never exported). " +
            "?scope=approved (default: approved images only), ground-truth (reviewers: the images with ground truth, with it instead of their annotations) or all (every image; those nobody approved are listed in the manifest, and one with nothing " +
            "to export is left out, never written as an empty background); ?status= (instead of scope) and ?images= select images; includeImages, scores, " +
            "val (YOLO: the val split's share; without it data.yaml says val is the training images) and seed as documented; slice (YOLO: a side in pixels, 64–4096) and sliceOverlap (0–0.5, default 0.2) cut images larger than the slice into overlapping slices with their clipped labels (docs/large-images.md). The zip's visionlabel-export.json gives the " +
            "filter used, counts per state (in the selected images, exported, left out) and the unreviewed images.");
        return app;
    }

    /// <summary>POST /api/projects/import?format=coco&amp;name=NAME: creates the project (or fills the one of that name).</summary>
    private static async Task<Results<Accepted<JobDto>, ProblemHttpResult>> ImportNamed(string? format, string? name, HttpContext context,
        VisionLabelDb db, JobDispatcher dispatcher, IBlobStore blobs, IOptions<DatasetOptions> options, IOptions<VisionLabelOptions> app, IOptions<JobOptions> jobs, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name)) return Problems.BadRequest("Project name missing", "Give the project to create or fill as ?name=.");
        if (LabelRules.NameProblem(name) is { } problem) return Problems.BadRequest("Invalid project name", $"name: {problem}");
        return await ImportAsync(format, context, options.Value, app.Value, async () =>
        {
            var project = await db.Projects.FirstOrDefaultAsync(p => p.Name == name.Trim(), ct);
            if (project is not null) return (await AccessChecker.RoleAsync(db, context.Caller(), project.Id, ct) == ProjectRole.Owner ? project : null, false);
            var now = DateTime.UtcNow;
            project = new Project { Name = name.Trim(), Description = $"Imported from a {format} dataset", CreatedAt = now, UpdatedAt = now };
            db.Projects.Add(project);
            db.ProjectMembers.Add(ProjectMembership.Creator(project.Id, context.Caller().UserId));
            await db.SaveChangesAsync(ct);
            return (project, true);
        }, db, dispatcher, blobs, jobs.Value, ct);
    }

    /// <summary>POST /api/projects/{id}/import?format=yolo: adds a dataset to an existing project, as a job (202). Watchers of
    /// the project on /hubs/live receive JobProgress and ImportProgress(projectId, { imagesDone, imagesTotal }) as it goes;
    /// the finished job's result is the import report.</summary>
    private static async Task<Results<Accepted<JobDto>, ProblemHttpResult>> ImportInto(Guid projectId, string? format, HttpContext context,
        VisionLabelDb db, JobDispatcher dispatcher, IBlobStore blobs, IOptions<DatasetOptions> options, IOptions<VisionLabelOptions> app, IOptions<JobOptions> jobs, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        return await ImportAsync(format, context, options.Value, app.Value, () => Task.FromResult<(Project?, bool)>((project, false)), db, dispatcher, blobs, jobs.Value, ct);
    }

    /// <summary>
    /// Takes the zip in, checks that it reads as the format says (so a bad dataset is a 400 here, before anything is
    /// written), stores it in the blob store for whichever worker runs the job, and enqueues the import.
    /// </summary>
    private static async Task<Results<Accepted<JobDto>, ProblemHttpResult>> ImportAsync(string? format, HttpContext context, DatasetOptions options,
        VisionLabelOptions app, Func<Task<(Project? Project, bool Created)>> target, VisionLabelDb db, JobDispatcher dispatcher, IBlobStore blobs,
        JobOptions jobs, CancellationToken ct)
    {
        if (format is null || !DatasetFormats.Importers.TryGetValue(format, out var importer))
            return Problems.BadRequest("Unknown import format", $"Give ?format= as one of: {DatasetFormats.ImportList}.");
        if (!MultipartUpload.TryStart(context, options.MaxUploadBytes, out string boundary))
            return Problems.BadRequest("Not a multipart upload", "Send the dataset as a zip file part of a multipart/form-data body.");

        Directory.CreateDirectory(app.TempDirectory);
        string temp = Path.Combine(app.TempDirectory, Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            bool found = false;
            try
            {
                var reader = new MultipartReader(boundary, context.Request.Body);
                while (await reader.ReadNextSectionAsync(ct) is { } section)
                {
                    if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var d) || !d.IsFileDisposition()) continue;
                    var spooled = await UploadSpooler.SpoolAsync(section.Body, temp, options.MaxUploadBytes, ct);
                    if (spooled.TooLarge) return Problems.BadRequest("Dataset too large", $"The zip is over {options.MaxUploadBytes:N0} bytes (VisionLabel:Datasets:MaxUploadBytes); import it from a folder with the CLI.");
                    found = true;
                    break;
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException && !ct.IsCancellationRequested)
            {
                return Problems.BadRequest("Upload could not be read", $"The multipart body could not be read ({e.Message}); nothing was imported.");
            }
            if (!found) return Problems.BadRequest("No dataset in the upload", "The multipart body had no file part; send the dataset as a zip file part.");

            int images;
            try
            {
                await using var file = File.OpenRead(temp);
                using var source = new ZipSource(file, options);
                var plan = await importer.ReadAsync(source, ct);
                // Category names become labels: one that cannot be a label refuses the dataset here, not half-way.
                foreach (var c in plan.Categories)
                    if (LabelRules.NameProblem(c.Name) is { } problem) throw new DatasetException($"category {c.ExternalId}: {problem}; fix the dataset's category names");
                images = plan.Images.Count;
            }
            catch (DatasetException e)
            {
                return Problems.BadRequest("Dataset cannot be imported", e.Message + ". Nothing was imported.");
            }

            var (project, created) = await target();
            if (project is null)
                return TypedResults.Problem(statusCode: 403, title: "Not the project's owner",
                    detail: "A project of that name exists and you are not its owner; import into a new name, or ask an owner.");
            var job = new Job
            {
                Kind = ImportJob.JobKind, ProjectId = project.Id, CreatedAt = DateTime.UtcNow, MaxAttempts = jobs.MaxAttempts, Total = images, Payload = "",
            };
            job.Payload = JsonSerializer.Serialize(new ImportPayload(importer.Format, project.Id, created, ImportJob.ZipKey(job.Id)));
            await blobs.PutFileAsync(ImportJob.ZipKey(job.Id), temp, CancellationToken.None); // before the job exists, so no job is without its zip
            db.Jobs.Add(job);
            await db.SaveChangesAsync(CancellationToken.None);
            job.Chunks = await dispatcher.DispatchAsync(job.Id, CancellationToken.None);
            return TypedResults.Accepted($"/api/jobs/{job.Id}", JobDto.From(job));
        }
        finally { File.Delete(temp); }
    }

    /// <summary>
    /// GET /api/projects/{id}/export?format=coco|yolo-detect|yolo-segment[&amp;states=accepted,proposed][&amp;status=approved]
    /// [&amp;images=ID,ID][&amp;includeImages=false][&amp;scores=true][&amp;val=0.2&amp;seed=1]
    /// [&amp;slice=640&amp;sliceOverlap=0.2] (YOLO: images cut into slices with their labels): a zip, streamed as it is written.
    /// </summary>
    private static async Task<Results<PushStreamHttpResult, ProblemHttpResult>> Export(Guid projectId, string? format, string? states, string? status,
        string? images, bool? includeImages, bool? scores, double? val, int? seed, string? scope, int? slice, double? sliceOverlap, HttpContext context, VisionLabelDb db, DatasetExport export, Webhooks.Webhooks webhooks, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        if (format is null || !DatasetFormats.Exporters.TryGetValue(format, out var exporter))
            return Problems.BadRequest("Unknown export format", $"Give ?format= as one of: {DatasetFormats.ExportList}.");
        var (options, problem) = ExportChoices.Parse(states, status, images, includeImages, scores, val, seed, scope, slice, sliceOverlap);
        if (problem is not null) return Problems.BadRequest("Invalid export options", problem);
        if (options!.Slicing is not null && exporter is not YoloExporter)
            return Problems.BadRequest("Invalid export options", $"slice: only the YOLO formats (yolo-detect, yolo-segment) export slices, not {exporter.Format}");
        // Ground truth is never an annotator's to see (honeypots would be no test).
        if (options!.Scope == ExportScope.GroundTruth && context.Access().Role < ProjectRole.Reviewer)
            return TypedResults.Problem(statusCode: 403, title: "Reviewer role required", detail: "Exporting ground truth (scope=ground-truth) needs the reviewer role in this project.");
        if (options.ImageIds is { Count: > 0 } ids)
        {
            // An id of another project (or of nothing) is refused, not silently left out of the zip.
            var found = new HashSet<Guid>();
            foreach (var chunk in ids.Chunk(500))
                found.UnionWith(await db.Images.Where(i => i.ProjectId == projectId && chunk.Contains(i.Id)).Select(i => i.Id).ToListAsync(ct));
            if (ids.FirstOrDefault(id => !found.Contains(id)) is var stray && stray != Guid.Empty)
                return Problems.BadRequest("Invalid export options", $"images: '{stray}' is not an image of this project.");
        }
        string fileName = ExportChoices.FileName(project.Name, exporter.Format, options);
        string by = context.Caller().UserName;
        return TypedResults.Stream(async body =>
        {
            await export.WriteAsync(project, exporter, options!, body, ct);
            // Only once the whole zip is written: an export the caller broke off is not ready.
            await webhooks.RaiseAsync(projectId, Webhooks.WebhookEvents.ExportReady, new
            {
                format = exporter.Format, fileName, by, scope = options!.Scope, includeImages = options.IncludeImages, states = options.States, imageIds = options.ImageIds,
            });
        }, "application/zip", fileName);
    }
}
