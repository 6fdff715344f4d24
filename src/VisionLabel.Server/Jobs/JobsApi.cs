using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Jobs;

public static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var jobs = app.MapGroup("/api/jobs/{jobId:guid}").WithTags("Jobs");
        jobs.MapGet("/", Get).RequireProjectRole(ProjectRole.Viewer);
        jobs.MapPost("/cancel", Cancel).RequireProjectRole(ProjectRole.Owner);
        jobs.MapGet("/items", Items).RequireProjectRole(ProjectRole.Viewer).WithDescription("Per-image outcomes; ?status=failed lists the errors.");
        app.MapGet("/api/projects/{projectId:guid}/jobs", ForProject).WithTags("Jobs").RequireProjectRole(ProjectRole.Viewer);
        // Progress live. Connecting needs a signed-in caller (reads nothing: read tokens may connect); each hub method
        // declares the project role it needs.
        app.MapHub<LiveHub>("/hubs/live").RequireSignedIn(writes: false);
        return app;
    }

    private static async Task<Results<Ok<JobDto>, ProblemHttpResult>> Get(Guid jobId, VisionLabelDb db, CancellationToken ct) =>
        await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct) is { } job ? TypedResults.Ok(JobDto.From(job)) : Problems.NotFound("Job", jobId);

    private static async Task<Results<Accepted<JobDto>, ProblemHttpResult>> Cancel(Guid jobId, JobRows rows, VisionLabelDb db, LiveEvents live, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return Problems.NotFound("Job", jobId);
        if (!await rows.CancelAsync(jobId, ct))
            return Problems.Conflict("Job already finished", $"The job is {job.Status.ToString().ToLowerInvariant()}; only queued or running jobs can be cancelled.");
        await live.JobChangedAsync(jobId, force: true);
        var now = await db.Jobs.AsNoTracking().FirstAsync(j => j.Id == jobId, ct);
        return TypedResults.Accepted($"/api/jobs/{jobId}", JobDto.From(now));
    }

    private static async Task<Results<Ok<List<JobItemDto>>, ValidationProblem, ProblemHttpResult>> Items(
        Guid jobId, string? status, int? limit, VisionLabelDb db, CancellationToken ct)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == jobId, ct)) return Problems.NotFound("Job", jobId);
        var query = db.JobItems.AsNoTracking().Where(i => i.JobId == jobId);
        if (status is not null)
        {
            if (!ApiEnum.TryParse<JobItemStatus>(status, out var wanted)) return Problems.Invalid("status", $"use one of {ApiEnum.Names<JobItemStatus>()}");
            query = query.Where(i => i.Status == wanted);
        }
        var items = await query.OrderBy(i => i.ImageId).Take(Math.Clamp(limit ?? 1000, 1, 10000)).ToListAsync(ct);
        return TypedResults.Ok(items.Select(i => new JobItemDto(i.ImageId, i.Status, i.Error, i.FinishedAt)).ToList());
    }

    private static async Task<Results<Ok<List<JobDto>>, ProblemHttpResult>> ForProject(Guid projectId, VisionLabelDb db, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId).OrderByDescending(j => j.Id).ToListAsync(ct);
        return TypedResults.Ok(jobs.Select(JobDto.From).ToList());
    }
}
