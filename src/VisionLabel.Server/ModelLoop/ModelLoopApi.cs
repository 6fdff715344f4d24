using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.ModelLoop;

/// <summary>Models in the loop (docs/models-in-the-loop.md): how each model's proposals ended.</summary>
public static class ModelLoopApi
{
    public static IServiceCollection AddModelLoop(this IServiceCollection services) => services.AddScoped<ProposalOutcomes>();

    public static IEndpointRouteBuilder MapModelLoopApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/projects/{projectId:guid}/models").WithTags("Models in the loop");
        project.MapGet("/outcomes", Models).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "The models (registered ones by id, imported predictions by name) whose proposals the project has, with how many.");
        project.MapGet("/{modelId}/outcomes", Outcomes).RequireProjectRole(ProjectRole.Viewer).WithDescription(
            "How the model's proposals ended, ?groupBy=label (default) or scoreBand (bands of 0.1): rows with acceptedUnchanged, edited, relabeled, rejected, pending " +
            "and missed (shapes drawn by hand on the images it pre-labelled; per label), the totals, each label's recommended confidence threshold (the score with the best F1), " +
            "and the time saved against drawing by hand, from active time (docs/models-in-the-loop.md).");
        return app;
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
