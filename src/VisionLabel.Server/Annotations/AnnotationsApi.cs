using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Annotations;

public static class AnnotationsApi
{
    public static IEndpointRouteBuilder MapAnnotationsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/images/{imageId:guid}/annotations").WithTags("Annotations").WithBodyLimit(Limits.AnnotationBody);
        group.MapGet("/", List).RequireProjectRole(ProjectRole.Viewer);
        group.MapPost("/", Create).RequireProjectRole(ProjectRole.Annotator);
        group.MapPost("/bulk", Bulk).RequireProjectRole(ProjectRole.Annotator).WithBodyLimit(Limits.BulkAnnotationBody).WithDescription(
            $"Creates up to {MaxBulk} annotations in one request through the write path ({{annotations: [{{labelId, kind, geometry, attributes?, state?}}]}}): " +
            "one op each, in one transaction, all stored or none (a refused one is named by its index); everyone on the image receives them. " +
            "For seeding and importing many shapes (docs/large-images.md).");
        group.MapGet("/{annotationId:guid}", Get).RequireProjectRole(ProjectRole.Viewer);
        group.MapPatch("/{annotationId:guid}", Update).RequireProjectRole(ProjectRole.Annotator);
        group.MapDelete("/{annotationId:guid}", Delete).RequireProjectRole(ProjectRole.Annotator);
        // Live co-editing. Connecting needs a signed-in caller (reads nothing: read tokens may connect); each hub
        // method declares the project role it needs (HubAccessFilter).
        app.MapHub<AnnotationsHub>("/hubs/annotations").RequireSignedIn(writes: false);
        app.MapHistoryApi(); // the op log read back: who did what when, and the state then (History/)
        return app;
    }

    private static async Task<Results<Ok<List<AnnotationDto>>, ProblemHttpResult>> List(Guid imageId, VisionLabelDb db, CancellationToken ct)
    {
        if (!await db.Images.IgnoreQueryFilters().AnyAsync(i => i.Id == imageId, ct)) return Problems.NotFound("Image", imageId);
        var rows = await db.Annotations.AsNoTracking().Where(a => a.ImageId == imageId).OrderBy(a => a.Id).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(AnnotationDto.From).ToList());
    }

    private static async Task<Results<Ok<AnnotationDto>, ProblemHttpResult>> Get(Guid imageId, Guid annotationId, VisionLabelDb db, CancellationToken ct)
    {
        var row = await db.Annotations.AsNoTracking().FirstOrDefaultAsync(a => a.Id == annotationId && a.ImageId == imageId, ct);
        return row is null ? Problems.NotFound("Annotation", annotationId) : TypedResults.Ok(AnnotationDto.From(row));
    }

    // Writes go through the AnnotationSequencer, like hub ops: they get a place in the image's op log and are
    // broadcast to everyone editing the image. REST keeps its optimistic version check (409 on a stale version).

    private static async Task<Results<Created<AnnotationDto>, ValidationProblem, ProblemHttpResult>> Create(
        Guid imageId, CreateAnnotationRequest request, HttpContext context, AnnotationSequencer sequencer, CancellationToken ct)
    {
        var changes = JsonSerializer.SerializeToElement(new
        {
            labelId = request.LabelId, kind = request.Kind, geometry = request.Geometry, attributes = request.Attributes,
            state = request.State, source = request.Source,
        }, AnnotationSequencer.Json);
        var id = request.Id ?? Guid.CreateVersion7();
        var outcome = await sequencer.ApplyAsync(new SubmitOp(RestOpId(), imageId, OpType.Create, id, changes), context.Caller().UserName, Role(context), ct: ct);
        return outcome switch
        {
            { Current: { } created } => TypedResults.Created($"/api/images/{imageId}/annotations/{id}", AnnotationDto.From(created)),
            { Reject: RejectKind.NotFound } => Problems.NotFound("Image", imageId),
            { Reject: RejectKind.Exists or RejectKind.Deleted } => Problems.Conflict("Annotation exists", outcome.Reason + "."),
            { Reject: RejectKind.Stage } => StageConflict(outcome),
            _ => Invalid(outcome),
        };
    }

    public const int MaxBulk = 10_000;

    private static async Task<Results<Created<BulkCreated>, ValidationProblem, ProblemHttpResult>> Bulk(
        Guid imageId, BulkCreateRequest request, HttpContext context, AnnotationSequencer sequencer, CancellationToken ct)
    {
        var items = request.Annotations;
        if (items is null || items.Count == 0) return Problems.Invalid("annotations", $"give 1 to {MaxBulk} annotations to create");
        var ops = new List<SubmitOp>(items.Count);
        string batch = Guid.NewGuid().ToString("N");
        for (int i = 0; i < items.Count; i++)
        {
            if (items[i] is not { } a) return Problems.Invalid($"annotations[{i}]", "is missing");
            var changes = JsonSerializer.SerializeToElement(new { labelId = a.LabelId, kind = a.Kind, geometry = a.Geometry, attributes = a.Attributes, state = a.State }, AnnotationSequencer.Json);
            ops.Add(new SubmitOp($"rest-bulk:{batch}:{i}", imageId, OpType.Create, MonotonicGuid.Next(), changes));
        }
        var outcome = await sequencer.ApplyPersonBatchAsync(imageId, ops, context.Caller().UserName, Role(context), ct);
        if (outcome.Rejected.Count > 0)
        {
            var (op, refused) = outcome.Rejected[0];
            int index = int.Parse(op.ClientOpId[(op.ClientOpId.LastIndexOf(':') + 1)..]);
            return refused.Reject switch
            {
                RejectKind.NotFound => Problems.NotFound("Image", imageId),
                RejectKind.Stage => StageConflict(refused),
                _ => Problems.Invalid($"annotations[{index}]{(refused.Field is { } f ? "." + f : "")}", $"{refused.Reason ?? "invalid"} (nothing was stored: {outcome.Rejected.Count} of {ops.Count} refused)"),
            };
        }
        return TypedResults.Created($"/api/images/{imageId}/annotations",
            new BulkCreated(outcome.Applied.Count, ops.Select(o => o.AnnotationId).ToList(), outcome.Applied.FirstOrDefault()?.Seq, outcome.Applied.LastOrDefault()?.Seq));
    }

    private static async Task<Results<Ok<AnnotationDto>, ValidationProblem, ProblemHttpResult>> Update(
        Guid imageId, Guid annotationId, UpdateAnnotationRequest request, HttpContext context, AnnotationSequencer sequencer, CancellationToken ct)
    {
        var body = new Dictionary<string, object?>();
        if (request.LabelId is { } labelId) body["labelId"] = labelId;
        if (request.Kind is { } kind) body["kind"] = kind;
        if (request.Geometry is { } geometry) body["geometry"] = geometry;
        if (request.Attributes is { } attributes) body["attributes"] = attributes;
        if (request.State is { } state) body["state"] = state;
        var op = new SubmitOp(RestOpId(), imageId, OpType.Update, annotationId, JsonSerializer.SerializeToElement(body, AnnotationSequencer.Json));
        var outcome = await sequencer.ApplyAsync(op, context.Caller().UserName, Role(context), request.Version, ct);
        return outcome switch
        {
            { Applied: not null, Current: { } updated } => TypedResults.Ok(AnnotationDto.From(updated)),
            { Reject: RejectKind.NotFound or RejectKind.Deleted } => Problems.NotFound("Annotation", annotationId),
            { Reject: RejectKind.Conflict, Current: { } current } => VersionConflict(current, request.Version),
            { Reject: RejectKind.Stage } => StageConflict(outcome),
            _ => Invalid(outcome),
        };
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(
        Guid imageId, Guid annotationId, int? version, HttpContext context, AnnotationSequencer sequencer, CancellationToken ct)
    {
        var outcome = await sequencer.ApplyAsync(new SubmitOp(RestOpId(), imageId, OpType.Delete, annotationId), context.Caller().UserName, Role(context), version, ct);
        return outcome switch
        {
            { Applied: not null } => TypedResults.NoContent(),
            { Reject: RejectKind.Conflict, Current: { } current } => VersionConflict(current, version!.Value),
            { Reject: RejectKind.Stage } => StageConflict(outcome),
            { Reject: RejectKind.NotFound or RejectKind.Deleted } => Problems.NotFound("Annotation", annotationId),
            _ => Invalid(outcome),
        };
    }

    private static Accounts.ProjectRole Role(HttpContext context) => context.Access().Role ?? Accounts.ProjectRole.Viewer;

    /// <summary>The image's workflow stage keeps this person out (submitted, approved): 409 saying the stage and what would allow it.</summary>
    private static ProblemHttpResult StageConflict(OpOutcome outcome) => Problems.Conflict("Image is read-only in its stage", Capital(outcome.Reason ?? "") + ".");

    private static string Capital(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string RestOpId() => "rest:" + Guid.NewGuid().ToString("N");

    private static ValidationProblem Invalid(OpOutcome outcome) => Problems.Invalid(outcome.Field ?? "changes", outcome.Reason ?? "invalid");

    private static ProblemHttpResult VersionConflict(Annotation current, int sentVersion) =>
        Problems.Conflict("Annotation was changed by someone else",
            $"You sent version {sentVersion}, but the annotation is at version {current.Version} " +
            $"(last changed by {current.UpdatedBy}). Reload it (see 'current'), re-apply your change, and send version {current.Version}.",
            new Dictionary<string, object?> { ["currentVersion"] = current.Version, ["current"] = AnnotationDto.From(current) });
}
