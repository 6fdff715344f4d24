using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Work;

/// <summary>POST …/queue/next: which queue ("annotate", "review" or "adjudicate").</summary>
public sealed record NextRequest(WorkStage Stage);

/// <summary>
/// Work distribution over HTTP: the pull queue, leases, the workflow transitions, assignments, "My work" and the
/// owners' overview. The same transitions are hub methods on /hubs/annotations for the editor (AnnotationsHub).
/// </summary>
public static class WorkApi
{
    public static IServiceCollection AddWork(this IServiceCollection services) =>
        services.AddScoped<WorkQueue>().AddScoped<Replicas>().AddScoped<Assignments>().AddScoped<WorkOverview>();

    public static IEndpointRouteBuilder MapWorkApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/projects/{projectId:guid}").WithTags("Work").WithBodyLimit(Limits.SmallJsonBody);
        project.MapPost("/queue/next", Next).RequireProjectRole(ProjectRole.Annotator)
            .WithDescription("Leases you the next image of a stage: 200 {imageId, stage, leaseExpiresAt}, or 204 when nothing is left for you. Order: an image you already hold, a private copy of yours left unfinished, onboarding honeypots until you pass them (409 when none is left), your rework, your assignments, a honeypot at the project's share, then unassigned work in the project's priority (with overlap above 1, a consensus copy). Reviewing and adjudicating need the reviewer role and never hand you your own submissions.");
        project.MapGet("/onboarding", async Task<Results<Ok<OnboardingState>, ProblemHttpResult>> (Guid projectId, HttpContext context, VisionLabelDb db, Replicas replicas, CancellationToken ct) =>
                await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct) is { } p
                    ? TypedResults.Ok(await replicas.OnboardingAsync(p, context.Caller().UserName, ct)) : Problems.NotFound("Project", projectId))
            .RequireProjectRole(ProjectRole.Annotator)
            .WithDescription("Where you stand with the project's onboarding: honeypots required and done, your mean F1 over the last of them, the bar, and whether you passed.");
        project.MapGet("/queue/mine", Mine).RequireProjectRole(ProjectRole.Viewer)
            .WithDescription("Your rework, your assignments, what you hold, and how many images each queue has for you.");
        project.MapGet("/work", Overview).RequireProjectRole(ProjectRole.Reviewer)
            .WithDescription("Images by stage, who holds which lease, and each member's work (assigned, holding, submitted, approved, rework rounds, reviewed).");
        project.MapPut("/assignments", Assign).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Assigns images to a person for a stage (assignee null unassigns them).");
        project.MapPost("/assignments/distribute", Distribute).RequireProjectRole(ProjectRole.Owner)
            .WithDescription("Spreads the next `count` unassigned images of a stage evenly over `people`, in the project's priority, honouring workflow.maxPerAnnotator.");

        var image = app.MapGroup("/api/images/{imageId:guid}").WithTags("Work").WithBodyLimit(Limits.SmallJsonBody);
        image.MapGet("/work", ImageWork).RequireProjectRole(ProjectRole.Viewer)
            .WithDescription("The image's stage, lease, assignees, submitter, reviewer, rework rounds and last rejection, with its workflow history.");
        image.MapPost("/submit", (Guid imageId, HttpContext context, WorkTransitions work) => Transition(imageId, WorkAction.Submit, context, work))
            .RequireProjectRole(ProjectRole.Annotator).WithDescription("Submits the image for review (or approves it at once when the review sample skips it); releases your lease. Answers the new state.");
        image.MapPost("/approve", (Guid imageId, HttpContext context, WorkTransitions work) => Transition(imageId, WorkAction.Approve, context, work))
            .RequireProjectRole(ProjectRole.Reviewer).WithDescription("Approves a submitted image (never your own unless the project allows self-review).");
        image.MapPost("/reject", (Guid imageId, RejectRequest request, HttpContext context, WorkTransitions work) => Transition(imageId, WorkAction.Reject, context, work, request))
            .RequireProjectRole(ProjectRole.Reviewer).WithDescription("Rejects a submitted image with one of the project's reasons and an optional comment; it goes back to its annotator as rework.");
        image.MapPost("/reopen", (Guid imageId, HttpContext context, WorkTransitions work) => Transition(imageId, WorkAction.Reopen, context, work))
            .RequireProjectRole(ProjectRole.Owner).WithDescription("Reopens an approved (or submitted) image for annotation.");
        image.MapPost("/lease/release", async (Guid imageId, HttpContext context, WorkTransitions work) => Answer(await work.ReleaseLeaseAsync(imageId, Actor(context))))
            .RequireProjectRole(ProjectRole.Annotator).WithDescription("Gives your lease back (skip); owners release anyone's.");
        image.MapPost("/lease/renew", async (Guid imageId, HttpContext context, WorkTransitions work) => Answer(await work.RenewLeaseAsync(imageId, Actor(context))))
            .RequireProjectRole(ProjectRole.Annotator).WithDescription("Extends your lease by the project's lease time (the editor does this over the hub while it is open).");
        return app;
    }

    public static Actor Actor(HttpContext context) => new(context.Caller().UserName, context.Access().Role ?? ProjectRole.Viewer);

    private static async Task<Results<Ok<WorkStateDto>, ValidationProblem, ProblemHttpResult>> Transition(Guid imageId, WorkAction action, HttpContext context,
        WorkTransitions work, RejectRequest? reject = null) =>
        Answer(await work.TransitionAsync(imageId, action, Actor(context), reject?.Reason, reject?.Comment));

    /// <summary>A workflow outcome as HTTP: the new state, or the refusal as ProblemDetails (400 naming the field, 403, 404, 409).</summary>
    public static Results<Ok<WorkStateDto>, ValidationProblem, ProblemHttpResult> Answer(WorkOutcome outcome) => outcome switch
    {
        { State: { } state } => TypedResults.Ok(state),
        { Refusal: { StatusCode: 400, Field: { } field } r } => Problems.Invalid(field, r.Detail),
        { Refusal: { } r } => TypedResults.Problem(statusCode: r.StatusCode, title: r.Title, detail: r.Detail),
        _ => throw new InvalidOperationException("an outcome has a state or a refusal"),
    };

    private static async Task<Results<Ok<LeaseDto>, NoContent, ProblemHttpResult>> Next(Guid projectId, NextRequest request, HttpContext context,
        VisionLabelDb db, WorkQueue queue, CancellationToken ct)
    {
        var access = context.Access();
        if (request.Stage != WorkStage.Annotate && access.Role < ProjectRole.Reviewer)
            return TypedResults.Problem(statusCode: 403, title: "Reviewer role required",
                detail: $"The {Common.ApiEnum.Name(request.Stage)} queue needs the reviewer role in this project; you are {access.Role?.ToString().ToLowerInvariant()}. Ask for \"annotate\" work, or a project owner can change your role.");
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        if (project.ArchivedAt is not null)
            return Problems.Conflict("Project archived", "This project is archived: its queue is closed. An owner can unarchive it on the project page (POST /api/projects/{id}/unarchive).");
        // A major guideline change is read before more work (docs/guidelines.md).
        if (await Guidelines.GuidelinesApi.UnacknowledgedAsync(db, projectId, context.Caller().UserName, ct) is { } version)
            return Problems.Conflict($"Guidelines {version} not acknowledged",
                $"Version {version} of this project's guidelines is a major change: read it (GET /api/projects/{projectId}/guidelines) and acknowledge it " +
                $"(POST /api/projects/{projectId}/guidelines/acknowledge {{\"version\": \"{version}\"}}) before your next image.",
                new Dictionary<string, object?> { ["guidelineVersion"] = version });
        var next = await queue.NextAsync(project, request.Stage, context.Caller().UserName, ct);
        if (next.Refusal is { } r) return TypedResults.Problem(statusCode: r.StatusCode, title: r.Title, detail: r.Detail);
        return next.Lease is null ? TypedResults.NoContent() : TypedResults.Ok(next.Lease);
    }

    private static async Task<Results<Ok<MyWorkDto>, ProblemHttpResult>> Mine(Guid projectId, HttpContext context, VisionLabelDb db, WorkOverview overview, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        return TypedResults.Ok(await overview.MineAsync(project, context.Caller().UserName, context.Access().Role ?? ProjectRole.Viewer, ct));
    }

    private static async Task<Results<Ok<WorkOverviewDto>, ProblemHttpResult>> Overview(Guid projectId, VisionLabelDb db, WorkOverview overview, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        return project is null ? Problems.NotFound("Project", projectId) : TypedResults.Ok(await overview.OverviewAsync(project, ct));
    }

    private static async Task<Results<Ok<AssignmentResult>, ValidationProblem, ProblemHttpResult>> Assign(Guid projectId, AssignRequest request, HttpContext context,
        VisionLabelDb db, Assignments assignments, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var (result, field, problem) = await assignments.AssignAsync(projectId, request, context.Caller().UserName, ct);
        return result is not null ? TypedResults.Ok(result) : Problems.Invalid(field!, problem!);
    }

    private static async Task<Results<Ok<AssignmentResult>, ValidationProblem, ProblemHttpResult>> Distribute(Guid projectId, DistributeRequest request, HttpContext context,
        VisionLabelDb db, Assignments assignments, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct);
        if (project is null) return Problems.NotFound("Project", projectId);
        var (result, field, problem) = await assignments.DistributeAsync(project, request, context.Caller().UserName, ct);
        return result is not null ? TypedResults.Ok(result) : Problems.Invalid(field!, problem!);
    }

    private static async Task<Results<Ok<ImageWorkDto>, ProblemHttpResult>> ImageWork(Guid imageId, VisionLabelDb db, WorkTransitions work, TimeProvider time, CancellationToken ct)
    {
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return Problems.NotFound("Image", imageId);
        var history = await db.WorkEvents.AsNoTracking().Where(e => e.ImageId == imageId).OrderByDescending(e => e.Id).Take(200).ToListAsync(ct);
        history.Reverse();
        var state = WorkStateDto.From(image, time.GetUtcNow().UtcDateTime, await work.LastRejectionAsync(image));
        return TypedResults.Ok(new ImageWorkDto(state, history.Select(WorkEventDto.From).ToList()));
    }
}
