using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.ModelLoop.Scissors;

namespace VisionLabel.Server.ModelLoop;

/// <summary>Models in the loop (docs/models-in-the-loop.md): how each model's proposals ended.</summary>
public static class ModelLoopApi
{
    public static IServiceCollection AddModelLoop(this IServiceCollection services) => services.AddScoped<ProposalOutcomes>().AddScoped<Segmenter>()
        .AddSingleton<LiveWire>().AddScoped<ComparisonReports>().AddScoped<Predictions.PredictionsImport>().AddSingleton<Jobs.IJobHandler, ComparisonJob>();

    public static IEndpointRouteBuilder MapModelLoopApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/projects/{projectId:guid}/models").WithTags("Models in the loop");
        project.MapGet("/outcomes", Models).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "The models (registered ones by id, imported predictions by name) whose proposals the project has, with how many.");
        project.MapGet("/{modelId}/outcomes", Outcomes).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "How the model's proposals ended, ?groupBy=label (default) or scoreBand (bands of 0.1): rows with acceptedUnchanged, edited, relabeled, rejected, pending " +
            "and missed (shapes drawn by hand on the images it pre-labelled; per label), the totals, each label's recommended confidence threshold (the score with the best F1), " +
            "and the time saved against drawing by hand, from active time (docs/models-in-the-loop.md).");
        app.MapPost("/api/images/{imageId:guid}/segment", Segment).WithTags("Models in the loop").WithBodyLimit(Limits.SmallJsonBody)
            .RequireProjectRole(ProjectRole.Annotator).WithDescription(
                "Box → mask and click → mask: {box?: {x, y, width, height}, points?: [{x, y, positive}], modelId?, method: auto|model|grabcut} in image pixels. " +
                "Answers {mask: COCO RLE at image size, polygon: rings of x, y, method (the one that made it), score, ms}. model: the project's YOLO segmentation model " +
                "on a crop around the prompt, class-agnostic; grabcut: OpenCV GrabCut on the crop; auto: the model when it finds an instance, else GrabCut.");
        app.MapComparisonsApi();
        app.MapPost("/api/images/{imageId:guid}/scissors", ScissorsEndpoint.Trace).WithTags("Models in the loop").WithBodyLimit(Limits.SmallJsonBody)
            .RequireProjectRole(ProjectRole.Annotator).WithDescription(ScissorsEndpoint.Description);
        return app;
    }

    public const int MaxPoints = 50;

    private static async Task<Results<Ok<SegmentResult>, ValidationProblem, ProblemHttpResult>> Segment(Guid imageId, SegmentRequest request, VisionLabelDb db,
        Segmenter segmenter, CancellationToken ct)
    {
        var method = SegmentMethod.Auto;
        if (request.Method is not null && !ApiEnum.TryParse(request.Method, out method))
            return Problems.Invalid("method", $"'{request.Method}' is not a method; use auto, model or grabcut");
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        var points = request.Points ?? [];
        if (points.Count > MaxPoints) return Problems.Invalid("points", $"at most {MaxPoints} points, not {points.Count}");
        for (int i = 0; i < points.Count; i++)
            if (points[i] is not { } p || !double.IsFinite(p.X) || !double.IsFinite(p.Y) || p.X < 0 || p.Y < 0 || p.X >= image.Width || p.Y >= image.Height)
                return Problems.Invalid($"points[{i}]", $"must lie inside the image (0 ≤ x < {image.Width}, 0 ≤ y < {image.Height})");
        SegmentBox? box = null;
        if (request.Box is { } b)
        {
            if (!double.IsFinite(b.X) || !double.IsFinite(b.Y) || !double.IsFinite(b.Width) || !double.IsFinite(b.Height) || b.Width < 2 || b.Height < 2)
                return Problems.Invalid("box", "needs finite x, y and a width and height of at least 2 pixels");
            // Clamped to the image: a box dragged past the edge means "up to the edge".
            double x0 = Math.Max(0, b.X), y0 = Math.Max(0, b.Y), x1 = Math.Min(image.Width, b.X + b.Width), y1 = Math.Min(image.Height, b.Y + b.Height);
            if (x1 - x0 < 2 || y1 - y0 < 2) return Problems.Invalid("box", $"lies outside the image ({image.Width}×{image.Height})");
            box = new SegmentBox(x0, y0, x1 - x0, y1 - y0);
        }
        if (box is null && !points.Any(p => p.Positive)) return Problems.Invalid("box", "give a box, or at least one positive point");
        var (result, refusal) = await segmenter.SegmentAsync(image, method, new Prompt(box, points), request.ModelId, ct);
        if (refusal is { Field: { } field }) return Problems.Invalid(field, refusal.Detail);
        if (refusal is not null) return TypedResults.Problem(statusCode: refusal.Status, title: refusal.Title, detail: refusal.Detail);
        return TypedResults.Ok(result!);
    }

    private static async Task<Results<Ok<IReadOnlyList<ModelWithProposals>>, ProblemHttpResult>> Models(Guid projectId, VisionLabelDb db, ProposalOutcomes outcomes, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        return TypedResults.Ok(await outcomes.ModelsAsync(projectId, ct));
    }

    private static async Task<Results<Ok<OutcomeReport>, ValidationProblem, ProblemHttpResult>> Outcomes(Guid projectId, string modelId, string? groupBy, VisionLabelDb db,
        ProposalOutcomes outcomes, CancellationToken ct)
    {
        var grouping = OutcomeGrouping.Label;
        if (groupBy is not null && !ApiEnum.TryParse(groupBy, out grouping))
            return Problems.Invalid("groupBy", $"'{groupBy}' is not a grouping; use label or scoreBand");
        if (modelId.Length > 200) return Problems.Invalid("modelId", "is at most 200 characters");
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        return await outcomes.ReportAsync(projectId, modelId, grouping, ct) is { } report
            ? TypedResults.Ok(report)
            : TypedResults.Problem(statusCode: 404, title: "No proposals from this model",
                detail: $"The project has no proposals from model '{modelId}'. Pre-label with it first; GET /api/projects/{projectId}/models/outcomes lists the models that made some.");
    }
}
