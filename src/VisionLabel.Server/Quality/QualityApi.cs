using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Quality;

public sealed record GroundTruthDto(Guid Id, Guid ImageId, Guid LabelId, AnnotationKind Kind, System.Text.Json.JsonElement Geometry, bool Crowd, string Source, string CreatedBy, DateTime CreatedAt)
{
    public static GroundTruthDto From(GroundTruth g) => new(g.Id, g.ImageId, g.LabelId, g.Kind, System.Text.Json.JsonDocument.Parse(g.Geometry).RootElement.Clone(), g.Crowd, g.Source, g.CreatedBy, g.CreatedAt);
}

public sealed record GroundTruthSummary(int Images, int Annotations, int Crowd);

/// <summary>POST …/ground-truth/from-approved: how many of the image's accepted annotations became its ground truth.</summary>
public sealed record GroundTruthCopied(Guid ImageId, int Annotations);

/// <summary>Ground truth (kept apart from the working annotations: reviewers and owners see it, annotators never) and quality reports.</summary>
public static class QualityApi
{
    public static IServiceCollection AddQuality(this IServiceCollection services) =>
        services.AddScoped<GroundTruthImport>().AddScoped<QualityReports>().AddScoped<Consensus>().AddScoped<ISubmissionObserver, ScoreOnSubmit>();

    public static IEndpointRouteBuilder MapQualityApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/projects/{projectId:guid}").WithTags("Quality");
        project.MapGet("/quality", Report).RequireProjectRole(ProjectRole.Reviewer).WithDescription(
            "Each annotator's first submission of every image with ground truth, as submitted, scored against it (docs/quality.md): ?groupBy=annotator|label|image|guideline-version, " +
            "?iou= the match threshold τ (default 0.5), ?annotator= only that person's submissions. Rows {key, images, tp, fp, fn, precision, recall, f1, accuracy, meanIoU}; per annotator also the confusions.");
        project.MapGet("/ground-truth", Summary).RequireProjectRole(ProjectRole.Reviewer);
        project.MapGet("/ground-truth/flags", Flags).RequireProjectRole(ProjectRole.Reviewer).WithDescription(
            "Ground-truth shapes most annotators disagree with, for re-adjudication: each shape that at least ?minAttempts= (default 3) scored submissions of its image " +
            "(honeypots included) were matched against at ?iou= (default 0.5), and that more than half of them missed. Rows {imageId, groundTruthId, label, attempts, missed, missedShare}.");
        project.MapPost("/ground-truth/import", Import).DisableAntiforgery().RequireProjectRole(ProjectRole.Owner).DocumentMultipart("file")
            .WithDescription("Ground truth from a COCO or YOLO dataset zip (?format=coco|yolo; the image files may be left out), matched to the project's images by file name and its labels by name. Replaces the ground truth of the images it names.");
        project.MapDelete("/ground-truth", async (Guid projectId, VisionLabelDb db, CancellationToken ct) =>
        {
            await db.GroundTruth.Where(g => g.ProjectId == projectId).ExecuteDeleteAsync(ct);
            return TypedResults.NoContent();
        }).RequireProjectRole(ProjectRole.Owner).WithDescription("Removes all of the project's ground truth.");

        var image = app.MapGroup("/api/images/{imageId:guid}/ground-truth").WithTags("Quality").WithBodyLimit(Limits.SmallJsonBody);
        image.MapGet("/", async Task<Results<Ok<List<GroundTruthDto>>, ProblemHttpResult>> (Guid imageId, VisionLabelDb db, CancellationToken ct) =>
            !await db.Images.AnyAsync(i => i.Id == imageId, ct) ? Problems.NotFound("Image", imageId)
                : TypedResults.Ok((await db.GroundTruth.AsNoTracking().Where(g => g.ImageId == imageId).OrderBy(g => g.Id).ToListAsync(ct)).Select(GroundTruthDto.From).ToList()))
            .RequireProjectRole(ProjectRole.Reviewer);
        app.MapGet("/api/images/{imageId:guid}/replicas", async Task<Results<Ok<ReplicasDto>, ProblemHttpResult>> (Guid imageId, Consensus consensus, CancellationToken ct) =>
                await consensus.ReplicasAsync(imageId, ct) is { } r ? TypedResults.Ok(r) : Problems.NotFound("Image", imageId))
            .WithTags("Quality").RequireProjectRole(ProjectRole.Reviewer)
            .WithDescription("The image's private copies (consensus shares and honeypots: whose, status, honeypot F1, shape count) and, once merged, its agreement and whether it needs adjudication. Open a copy by its imageId.");
        image.MapPost("/from-approved", FromApproved).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("The image's accepted annotations become its ground truth (the image must be approved).");
        image.MapDelete("/", async (Guid imageId, VisionLabelDb db, CancellationToken ct) =>
        {
            await db.GroundTruth.Where(g => g.ImageId == imageId).ExecuteDeleteAsync(ct);
            return TypedResults.NoContent();
        }).RequireProjectRole(ProjectRole.Owner);
        return app;
    }

    private static async Task<Results<Ok<QualityReport>, ValidationProblem, ProblemHttpResult>> Report(Guid projectId, string? groupBy, double? iou, string? annotator,
        VisionLabelDb db, QualityReports reports, CancellationToken ct)
    {
        var grouping = QualityGrouping.Annotator;
        if (groupBy is not null && !ApiEnum.TryParse(groupBy, out grouping))
            return Problems.Invalid("groupBy", $"'{groupBy}' is not a grouping; use one of {ApiEnum.Names<QualityGrouping>()}");
        if (IouProblem(iou) is { } bad) return bad;
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        return TypedResults.Ok(await reports.ReportAsync(projectId, grouping, iou ?? 0.5, ct, string.IsNullOrWhiteSpace(annotator) ? null : annotator.Trim()));
    }

    private static async Task<Results<Ok<IReadOnlyList<GroundTruthFlag>>, ValidationProblem, ProblemHttpResult>> Flags(Guid projectId, double? iou, int? minAttempts,
        VisionLabelDb db, QualityReports reports, CancellationToken ct)
    {
        if (IouProblem(iou) is { } bad) return bad;
        if (minAttempts is < 1 or > 1000) return Problems.Invalid("minAttempts", $"must be between 1 and 1000, not {minAttempts}");
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        return TypedResults.Ok(await reports.FlagsAsync(projectId, iou ?? 0.5, minAttempts ?? 3, ct));
    }

    private static ValidationProblem? IouProblem(double? iou) =>
        iou is { } t && (!double.IsFinite(t) || t <= 0 || t > 1) ? Problems.Invalid("iou", $"the match threshold is above 0 and at most 1, not {t}") : null;

    private static async Task<Results<Ok<GroundTruthSummary>, ProblemHttpResult>> Summary(Guid projectId, VisionLabelDb db, CancellationToken ct)
    {
        var rows = db.GroundTruth.Where(g => g.ProjectId == projectId);
        return TypedResults.Ok(new GroundTruthSummary(await rows.Select(g => g.ImageId).Distinct().CountAsync(ct), await rows.CountAsync(g => !g.Crowd, ct), await rows.CountAsync(g => g.Crowd, ct)));
    }

    private static async Task<Results<Ok<GroundTruthCopied>, ProblemHttpResult>> FromApproved(Guid imageId, HttpContext context, VisionLabelDb db, GroundTruthImport import, CancellationToken ct)
    {
        if (!await db.Images.AnyAsync(i => i.Id == imageId, ct)) return Problems.NotFound("Image", imageId);
        var (count, problem) = await import.FromApprovedAsync(imageId, context.Caller().UserName, ct);
        return problem is not null ? Problems.Conflict("Not approved", problem) : TypedResults.Ok(new GroundTruthCopied(imageId, count));
    }

    private static async Task<Results<Ok<GroundTruthReport>, ProblemHttpResult>> Import(Guid projectId, string? format, HttpContext context, VisionLabelDb db,
        GroundTruthImport import, IOptions<DatasetOptions> options, IOptions<VisionLabelOptions> app, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        if (format is not ("coco" or "yolo") || !DatasetFormats.Importers.TryGetValue(format, out var importer))
            return Problems.BadRequest("Unknown ground-truth format", "Give ?format= as coco or yolo.");
        if (!MultipartUpload.TryStart(context, options.Value.MaxUploadBytes, out string boundary))
            return Problems.BadRequest("Not a multipart upload", "Send the dataset as a zip file part of a multipart/form-data body.");
        Directory.CreateDirectory(app.Value.TempDirectory);
        string temp = Path.Combine(app.Value.TempDirectory, Guid.NewGuid().ToString("N") + ".zip");
        try
        {
            bool found = false;
            var reader = new MultipartReader(boundary, context.Request.Body);
            try
            {
                while (await reader.ReadNextSectionAsync(ct) is { } section)
                {
                    if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var d) || !d.IsFileDisposition()) continue;
                    var spooled = await UploadSpooler.SpoolAsync(section.Body, temp, options.Value.MaxUploadBytes, ct);
                    if (spooled.TooLarge) return Problems.BadRequest("Dataset too large", $"The zip is over {options.Value.MaxUploadBytes:N0} bytes (VisionLabel:Datasets:MaxUploadBytes).");
                    found = true;
                    break;
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException && !ct.IsCancellationRequested)
            {
                return Problems.BadRequest("Upload could not be read", $"The multipart body could not be read ({e.Message}); nothing was imported.");
            }
            if (!found) return Problems.BadRequest("No dataset in the upload", "The multipart body had no file part; send the dataset as a zip file part.");
            try
            {
                await using var file = File.OpenRead(temp);
                using var source = new ZipSource(file, options.Value);
                return TypedResults.Ok(await import.ImportAsync(projectId, importer, source, context.Caller().UserName, ct));
            }
            catch (DatasetException e)
            {
                return Problems.BadRequest("Ground truth cannot be imported", e.Message + ". Nothing was imported.");
            }
        }
        finally { File.Delete(temp); }
    }
}
