using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

public static class AnnotationsApi
{
    public static IEndpointRouteBuilder MapAnnotationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/images/{imageId:guid}/annotations").WithTags("Annotations");
        group.MapGet("/", List);
        group.MapPost("/", Create);
        group.MapGet("/{annotationId:guid}", Get);
        group.MapPatch("/{annotationId:guid}", Update);
        group.MapDelete("/{annotationId:guid}", Delete);
        return app;
    }

    private static async Task<Results<Ok<List<AnnotationDto>>, ProblemHttpResult>> List(Guid imageId, VisionLabelDb db, CancellationToken ct)
    {
        if (!await db.Images.AnyAsync(i => i.Id == imageId, ct)) return Problems.NotFound("Image", imageId);
        var rows = await db.Annotations.AsNoTracking().Where(a => a.ImageId == imageId).OrderBy(a => a.Id).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(AnnotationDto.From).ToList());
    }

    private static async Task<Results<Ok<AnnotationDto>, ProblemHttpResult>> Get(Guid imageId, Guid annotationId, VisionLabelDb db, CancellationToken ct)
    {
        var row = await db.Annotations.AsNoTracking().FirstOrDefaultAsync(a => a.Id == annotationId && a.ImageId == imageId, ct);
        return row is null ? Problems.NotFound("Annotation", annotationId) : TypedResults.Ok(AnnotationDto.From(row));
    }

    private static async Task<Results<Created<AnnotationDto>, ValidationProblem, ProblemHttpResult>> Create(
        Guid imageId, CreateAnnotationRequest request, HttpContext context, VisionLabelDb db, CancellationToken ct)
    {
        var image = await db.Images.FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        if (await LabelProblem(db, image, request.LabelId, ct) is { } labelProblem) return labelProblem;

        var geometry = AnnotationGeometry.Normalize(request.Kind, request.Geometry, image.Width, image.Height);
        if (geometry.Error is not null) return Problems.Invalid("geometry", geometry.Error);
        if (AttributesJson(request.Attributes) is not { } attributes) return Problems.Invalid("attributes", "attributes must be a JSON object");

        var source = request.Source ?? new AnnotationSourceDto(AnnotationSourceType.Human);
        if (source.Type == AnnotationSourceType.Model && string.IsNullOrWhiteSpace(source.ModelId))
            return Problems.Invalid("source.modelId", "a model-made annotation names its model");
        if (source.Score is { } score && (!double.IsFinite(score) || score < 0 || score > 1))
            return Problems.Invalid("source.score", "score must be between 0 and 1");

        if (request.Id is { } id && await db.Annotations.AnyAsync(a => a.Id == id, ct))
            return Problems.Conflict("Annotation exists", $"An annotation with id {id} already exists; PATCH it or create with a new id.");

        string user = CurrentUser.Name(context);
        var now = DateTime.UtcNow;
        var annotation = new Annotation
        {
            Id = request.Id ?? Guid.CreateVersion7(), ImageId = imageId, LabelId = request.LabelId, Kind = request.Kind,
            Geometry = geometry.Json!, Attributes = attributes, Source = source.Type,
            ModelId = source.Type == AnnotationSourceType.Model ? source.ModelId : null, Score = source.Score,
            // What a person draws is accepted; what a model draws waits for review.
            State = request.State ?? (source.Type == AnnotationSourceType.Human ? AnnotationState.Accepted : AnnotationState.Proposed),
            Version = 1, CreatedBy = user, CreatedAt = now, UpdatedBy = user, UpdatedAt = now,
        };
        db.Annotations.Add(annotation);
        MarkInProgress(image, source.Type, now);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/images/{imageId}/annotations/{annotation.Id}", AnnotationDto.From(annotation));
    }

    private static async Task<Results<Ok<AnnotationDto>, ValidationProblem, ProblemHttpResult>> Update(
        Guid imageId, Guid annotationId, UpdateAnnotationRequest request, HttpContext context, VisionLabelDb db, CancellationToken ct)
    {
        var annotation = await db.Annotations.FirstOrDefaultAsync(a => a.Id == annotationId && a.ImageId == imageId, ct);
        if (annotation is null) return Problems.NotFound("Annotation", annotationId);
        if (annotation.Version != request.Version) return VersionConflict(annotation, request.Version);
        var image = await db.Images.FirstAsync(i => i.Id == imageId, ct);

        if (request.LabelId is { } labelId)
        {
            if (await LabelProblem(db, image, labelId, ct) is { } labelProblem) return labelProblem;
            annotation.LabelId = labelId;
        }
        if (request.Kind is { } kind && kind != annotation.Kind && request.Geometry is null)
            return Problems.Invalid("geometry", "changing the kind needs a geometry of the new kind");
        if (request.Geometry is { } g)
        {
            var geometry = AnnotationGeometry.Normalize(request.Kind ?? annotation.Kind, g, image.Width, image.Height);
            if (geometry.Error is not null) return Problems.Invalid("geometry", geometry.Error);
            annotation.Kind = request.Kind ?? annotation.Kind;
            annotation.Geometry = geometry.Json!;
        }
        if (request.Attributes is not null)
        {
            if (AttributesJson(request.Attributes) is not { } attributes) return Problems.Invalid("attributes", "attributes must be a JSON object");
            annotation.Attributes = attributes;
        }
        if (request.State is { } state) annotation.State = state;

        var now = DateTime.UtcNow;
        annotation.Version++;
        annotation.UpdatedBy = CurrentUser.Name(context);
        annotation.UpdatedAt = now;
        MarkInProgress(image, AnnotationSourceType.Human, now);
        try { await db.SaveChangesAsync(ct); }
        catch (DbUpdateConcurrencyException)
        {
            // Someone else's write landed between our read and our write (the UPDATE matched no row at our version).
            var current = await db.Annotations.AsNoTracking().FirstOrDefaultAsync(a => a.Id == annotationId, ct);
            return current is null ? Problems.NotFound("Annotation", annotationId) : VersionConflict(current, request.Version);
        }
        return TypedResults.Ok(AnnotationDto.From(annotation));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        Guid imageId, Guid annotationId, int? version, VisionLabelDb db, CancellationToken ct)
    {
        var query = db.Annotations.Where(a => a.Id == annotationId && a.ImageId == imageId);
        if (version is { } expected)
        {
            // Delete only the version the client saw, atomically.
            if (await query.Where(a => a.Version == expected).ExecuteDeleteAsync(ct) == 1) return TypedResults.NoContent();
            var current = await query.AsNoTracking().FirstOrDefaultAsync(ct);
            return current is null ? Problems.NotFound("Annotation", annotationId) : VersionConflict(current, expected);
        }
        return await query.ExecuteDeleteAsync(ct) == 0 ? Problems.NotFound("Annotation", annotationId) : TypedResults.NoContent();
    }

    private static ProblemHttpResult VersionConflict(Annotation current, int sentVersion) =>
        Problems.Conflict("Annotation was changed by someone else",
            $"You sent version {sentVersion}, but the annotation is at version {current.Version} " +
            $"(last changed by {current.UpdatedBy}). Reload it (see 'current'), re-apply your change, and send version {current.Version}.",
            new Dictionary<string, object?> { ["currentVersion"] = current.Version, ["current"] = AnnotationDto.From(current) });

    private static async Task<ProblemHttpResult?> LabelProblem(VisionLabelDb db, Image image, Guid labelId, CancellationToken ct) =>
        await db.Labels.AnyAsync(l => l.Id == labelId && l.ProjectId == image.ProjectId, ct)
            ? null
            : Problems.BadRequest("Unknown label", $"Label {labelId} is not a label of this image's project; list them at /api/projects/{image.ProjectId}/labels.");

    private static string? AttributesJson(JsonElement? attributes) => attributes switch
    {
        null => "{}",
        { ValueKind: JsonValueKind.Object } a => a.GetRawText(),
        { ValueKind: JsonValueKind.Null } => "{}",
        _ => null,
    };

    /// <summary>A person touching an untouched or pre-labeled image has started work on it.</summary>
    private static void MarkInProgress(Image image, AnnotationSourceType source, DateTime now)
    {
        if (source != AnnotationSourceType.Human || image.Status is not (ImageStatus.New or ImageStatus.Prelabeled)) return;
        image.Status = ImageStatus.InProgress;
        image.UpdatedAt = now;
    }
}
