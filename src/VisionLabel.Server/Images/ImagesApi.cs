using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Health;
using VisionLabel.Server.Maintenance;
using VisionLabel.Server.Storage;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Images;

public static class ImagesApi
{
    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder app)
    {
        var projectImages = app.MapGroup("/api/projects/{projectId:guid}/images").WithTags("Images");
        projectImages.MapPost("/", Upload).DisableAntiforgery().RequireProjectRole(ProjectRole.Owner)
            .DocumentMultipart("file")
            .WithDescription("Upload one or more JPEG/PNG/WebP files as multipart/form-data (any field name). Streamed: files are never held in memory.");
        projectImages.MapGet("/", ImageList.ListAsync).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "A page of the project's images in upload order (?offset=, ?limit= 1–1000), narrowed by any of these filters, all of which must hold: " +
            "?status= (new, prelabeled, in-progress, submitted, approved, rejected); " +
            "?stage= the workflow stage people see: annotate (not submitted, approved or rejected), submitted (waiting, nobody reviewing), in-review (submitted and leased), " +
            "approved, rejected (waiting for rework, nobody on it), rework (rejected and leased) — from the status and the lease now, as the editor's stage chip; " +
            "?label= a label id: images with an accepted or proposed annotation of that label; " +
            "?annotator= a user name: images that person submitted last (the submitter a rejection goes back to); " +
            "?hasProposals=true|false: images with (without) a proposed annotation; " +
            "?minScore=, ?maxScore= (0–1): images with a model annotation (proposed, accepted or rejected) whose score is in [minScore, maxScore]; " +
            "?fileName= part of the file name, any case (letters beyond ASCII match their exact case on SQLite); " +
            "?ids= comma-separated image ids, at most 1000 (drill-downs: near-duplicates, outliers; each id is 37 characters of the URL, and Kestrel and most proxies refuse request lines over 8 KB, about 200 ids); " +
            "?flagged= duplicate (in a near-duplicate pair of the latest completed health run), outlier (with a box among that run's box outliers) or " +
            "disagreement (consensus copies that agree below the project's agreementThreshold, or waiting for adjudication); no health run yet: no duplicates or outliers. " +
            "?archived=true: the archived images instead (they are left out otherwise). " +
            "Each bad value is a 400 naming its field.");

        var images = app.MapGroup("/api/images/{imageId:guid}").WithTags("Images").WithBodyLimit(Limits.SmallJsonBody);
        images.MapGet("/", Get).RequireProjectRole(ProjectRole.Viewer);
        images.MapPatch("/", Update).RequireProjectRole(ProjectRole.Annotator)
            .WithDescription("Moves the image through the workflow, as POST …/submit, /approve, /reject ({status: \"rejected\", reason, comment}) and /reopen (status in-progress) do, with the same rules.");
        images.MapDelete("/", Delete).RequireProjectRole(ProjectRole.Owner);
        images.MapPost("/archive", ImageArchive.ArchiveAsync).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Archives the image: kept whole, out of the grid (?archived=true lists archived images), the queue, exports and counts; its lease is let go.");
        images.MapPost("/unarchive", ImageArchive.UnarchiveAsync).RequireProjectRole(ProjectRole.Owner);
        images.MapGet("/original", Original).RequireProjectRole(ProjectRole.Viewer);
        images.MapGet("/thumbnail", Thumbnail).RequireProjectRole(ProjectRole.Viewer);
        images.MapGet("/comments", async (Guid imageId, VisionLabelDb db, ReviewService review, CancellationToken ct) =>
            await db.Images.IgnoreQueryFilters().AnyAsync(i => i.Id == imageId, ct) ? Results.Ok(await review.CommentsAsync(imageId, ct)) : Problems.NotFound("Image", imageId))
            .RequireProjectRole(ProjectRole.Viewer);
        images.MapPost("/comments", async (Guid imageId, NewComment comment, HttpContext context, ReviewService review, CancellationToken ct) =>
        {
            var (dto, problem) = await review.AddCommentAsync(imageId, comment, context.Caller().UserName, ct);
            return dto is not null ? Results.Created($"/api/images/{imageId}/comments/{dto.Id}", dto)
                : problem!.StartsWith("no image") ? Problems.NotFound("Image", imageId)
                : problem.StartsWith("parentId: ") ? Problems.Invalid("parentId", problem["parentId: ".Length..]) : (IResult)Problems.Invalid("text", problem);
        }).RequireProjectRole(ProjectRole.Annotator)
            .WithDescription("A new thread pinned at (x, y), or with parentId a reply to a thread. The image's submitter, assignee, lease holder and the thread's people are notified.");
        images.MapPatch("/comments/{commentId:guid}", async (Guid imageId, Guid commentId, ResolveRequest request, ReviewService review, CancellationToken ct) =>
            await review.ResolveCommentAsync(imageId, commentId, request.Resolved, ct) is { } dto ? Results.Ok(dto) : Problems.NotFound("Comment", commentId))
            .RequireProjectRole(ProjectRole.Annotator).WithDescription("Resolves (or reopens) a comment's thread.");
        return app;
    }

    private static async Task<Results<Created<UploadSummary>, ProblemHttpResult>> Upload(
        Guid projectId, HttpContext context, VisionLabelDb db, ImageIntake intake, IOptions<ImageIntakeOptions> options, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        if (!MultipartUpload.TryStart(context, options.Value.MaxRequestBytes, out var boundary))
            return TypedResults.Problem(statusCode: 415, title: "Expected multipart/form-data",
                detail: "Send the images as multipart/form-data file parts, e.g. curl -F file=@photo.jpg.");

        var files = new List<UploadedFile>();
        var reader = new MultipartReader(boundary, context.Request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || !disposition.IsFileDisposition())
                    continue; // plain form fields carry nothing we use
                string fileName = SafeFileName(disposition);
                files.Add(await intake.IngestAsync(projectId, fileName, section.Body, ct));
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !ct.IsCancellationRequested)
        {
            // A malformed multipart body (or one cut short): keep what landed, say what broke.
            return UploadProblem(files, $"The multipart body could not be read ({e.Message}); files before that point were stored.");
        }

        if (files.Count == 0)
            return Problems.BadRequest("No files in the upload", "The multipart body had no file parts; send each image as a file part.");
        if (files.Any(f => f.Outcome == UploadOutcome.Rejected))
        {
            int rejected = files.Count(f => f.Outcome == UploadOutcome.Rejected);
            return UploadProblem(files, $"{rejected} of {files.Count} file(s) were refused; the others were stored. See 'errors' for each refused file.");
        }
        return TypedResults.Created($"/api/projects/{projectId}/images", Summarize(files));
    }

    /// <summary>400 that still reports every file, including the ones that landed.</summary>
    private static ProblemHttpResult UploadProblem(List<UploadedFile> files, string detail)
    {
        var errors = files.Where(f => f.Outcome == UploadOutcome.Rejected)
            .GroupBy(f => f.FileName).ToDictionary(g => g.Key, g => g.Select(f => f.Error!).ToArray());
        var summary = Summarize(files);
        return TypedResults.Problem(statusCode: 400, title: "Some files were refused", detail: detail,
            extensions: new Dictionary<string, object?>
            {
                ["errors"] = errors, ["files"] = summary.Files,
                ["created"] = summary.Created, ["duplicates"] = summary.Duplicates, ["rejected"] = summary.Rejected,
            });
    }

    private static UploadSummary Summarize(List<UploadedFile> files) => new(files,
        files.Count(f => f.Outcome == UploadOutcome.Created), files.Count(f => f.Outcome == UploadOutcome.Duplicate),
        files.Count(f => f.Outcome == UploadOutcome.Rejected));

    private static string SafeFileName(ContentDispositionHeaderValue disposition)
    {
        string raw = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
        // Keep only the last path segment of whatever the client sent (Windows or POSIX separators).
        string name = raw.Replace('\\', '/').Split('/').LastOrDefault(s => s.Length > 0) ?? "";
        name = new string(name.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return name.Length == 0 ? "unnamed" : name[..Math.Min(name.Length, 255)];
    }


    private static async Task<Results<Ok<ImageDto>, ProblemHttpResult>> Get(Guid imageId, VisionLabelDb db, CancellationToken ct)
    {
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        return image is null ? Problems.NotFound("Image", imageId) : TypedResults.Ok(ImageDto.From(image));
    }

    private static async Task<Results<Ok<ImageDto>, ValidationProblem, ProblemHttpResult>> Update(
        Guid imageId, UpdateImageRequest request, HttpContext context, VisionLabelDb db, WorkTransitions work, CancellationToken ct)
    {
        if (request.Status is { } status)
        {
            if (ImageStatusRules.ReviewProblem(status) is { } problem) return Problems.Invalid("status", problem);
            // The same transitions as POST …/submit, /approve, /reject, /reopen (one path, one set of rules).
            var action = status switch
            {
                ImageStatus.Submitted => WorkAction.Submit, ImageStatus.Approved => WorkAction.Approve,
                ImageStatus.Rejected => WorkAction.Reject, _ => WorkAction.Reopen,
            };
            var outcome = await work.TransitionAsync(imageId, action, new Actor(context.Caller().UserName, context.Access().Role ?? ProjectRole.Viewer), request.Reason, request.Comment);
            if (outcome.Refusal is { } r)
                return r.StatusCode == 400 ? Problems.Invalid(r.Field ?? "status", r.Detail) : TypedResults.Problem(statusCode: r.StatusCode, title: r.Title, detail: r.Detail);
        }
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        return image is null ? Problems.NotFound("Image", imageId) : TypedResults.Ok(ImageDto.From(image));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(Guid imageId, HttpContext context, VisionLabelDb db, AnnotationSequencer sequencer,
        MaintenanceSweeper sweeper, IOptions<ImageIntakeOptions> intake, CancellationToken ct)
    {
        // Through the write path: its annotations are deleted as ops everyone on the image receives, then the image.
        // Its blobs are touched, so the sweep removes them a grace period from now if nothing else references them.
        var hash = await db.Images.Where(i => i.Id == imageId).Select(i => i.ContentHash).FirstOrDefaultAsync(ct);
        if (hash is null || !await sequencer.DeleteImageAsync(imageId, context.Caller().UserName, ct)) return Problems.NotFound("Image", imageId);
        await sweeper.TouchImageBlobsAsync([hash], intake.Value.ThumbnailSize, ct);
        return TypedResults.NoContent();
    }

    private static async Task<Results<FileStreamHttpResult, RedirectHttpResult, ProblemHttpResult>> Original(Guid imageId, HttpContext context, VisionLabelDb db, IBlobStore blobs, CancellationToken ct)
    {
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        // From the object store itself when it hands out URLs: the bytes do not pass through this server.
        if (blobs is IPresignedBlobs presigned && await presigned.PresignedGetAsync(image.BlobKey, ct) is { } url)
        {
            context.Response.Headers.CacheControl = "private, max-age=300"; // well inside the URL's lifetime
            return TypedResults.Redirect(url.ToString());
        }
        var stream = await blobs.OpenReadAsync(image.BlobKey, ct);
        if (stream is null) return MissingBlob(image);
        string contentType = Enum.TryParse<ImageFormat>(image.Format, ignoreCase: true, out var f) ? f.ContentType() : "application/octet-stream";
        return TypedResults.Stream(stream, contentType, image.FileName, entityTag: new EntityTagHeaderValue($"\"{image.ContentHash}\""),
            enableRangeProcessing: stream.CanSeek);
    }

    private static async Task<Results<FileStreamHttpResult, RedirectHttpResult, ProblemHttpResult>> Thumbnail(
        Guid imageId, HttpContext context, VisionLabelDb db, ThumbnailService thumbnails, IBlobStore blobs, CancellationToken ct)
    {
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        // Once made, a thumbnail comes from the object store itself (the first request makes and stores it).
        string key = BlobKeys.Thumbnail(image.ContentHash, thumbnails.Size);
        if (blobs is IPresignedBlobs presigned && await blobs.ExistsAsync(key, ct) && await presigned.PresignedGetAsync(key, ct) is { } url)
        {
            context.Response.Headers.CacheControl = "private, max-age=300"; // well inside the URL's lifetime
            return TypedResults.Redirect(url.ToString());
        }
        try
        {
            var stream = await thumbnails.OpenAsync(image, ct);
            // Content-addressed: the same URL always means the same bytes, so browsers may keep it a long time.
            context.Response.Headers.CacheControl = "private, max-age=604800, immutable";
            return TypedResults.Stream(stream, "image/jpeg",
                entityTag: new EntityTagHeaderValue($"\"{image.ContentHash[..16]}-t{thumbnails.Size}\""));
        }
        catch (InvalidImageException e)
        {
            return TypedResults.Problem(statusCode: 422, title: "Image cannot be decoded",
                detail: $"{image.FileName}: {e.Message}. Delete the image and upload an intact copy.");
        }
        catch (FileNotFoundException) { return MissingBlob(image); }
    }

    private static ProblemHttpResult MissingBlob(Image image) =>
        TypedResults.Problem(statusCode: 404, title: "Image file missing from storage",
            detail: $"The stored file for {image.FileName} ({image.BlobKey}) is not in the blob store; check the storage configuration.");
}
