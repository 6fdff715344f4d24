using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;

namespace VisionLabel.Server.Health;

/// <summary>Dataset health: POST starts a run (a job), GET answers the latest result (docs/analytics.md).</summary>
public static class HealthApi
{
    public const int DefaultMaxDistance = 10;

    public static IServiceCollection AddHealth(this IServiceCollection services) =>
        services.AddScoped<DatasetHealth>().AddSingleton<IJobHandler, HealthJob>().AddScoped<Datasets.IImportObserver, HealthAfterImport>();

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/projects/{projectId:guid}/health").WithTags("Health").WithBodyLimit(Limits.SmallJsonBody);
        project.MapPost("/", Start).RequireProjectRole(ProjectRole.Reviewer).WithDescription(
            "Starts a dataset health run: 202 with the job (progress on /hubs/live); a run of the same figures still queued is answered instead of a second. Body (optional): {val, seed} — the export split to check for leaks, as the export takes them " +
            "(default 0.2 and 0) — and maxDistance, the perceptual-hash bits two near-duplicates may differ by (default 10).");
        project.MapGet("/", Latest).RequireProjectRole(ProjectRole.Reviewer).WithDescription(
            "The latest health result: status running|done|none, computedAt, classCounts [{labelId, label, split, count}], nearDuplicates [{imageA, imageB, distance}], " +
            "leaks (near-duplicates in different splits), approvedEmpty, neverReviewed, objectsPerImage, boxOutliers, heatmaps, imageSizes.");
        return app;
    }

    private static async Task<Results<Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> Start(Guid projectId, HealthRequest? request, VisionLabelDb db,
        JobDispatcher dispatcher, IOptions<JobOptions> jobs, TimeProvider time, CancellationToken ct)
    {
        var r = request ?? new HealthRequest();
        if (r.Val is { } v && (!double.IsFinite(v) || v < 0 || v >= 1)) return Problems.Invalid("val", $"is the val split's share, at least 0 and below 1, not {v}");
        if (r.MaxDistance is < 0 or > 32) return Problems.Invalid("maxDistance", $"must be between 0 and 32 bits, not {r.MaxDistance}");
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var payload = new HealthPayload(projectId, r.Val ?? 0.2, r.Seed ?? 0, r.MaxDistance ?? DefaultMaxDistance);
        // One run at a time for the same figures: several open health pages rerun as work lands, and one run serves them all.
        var waiting = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId && j.Kind == HealthJob.JobKind && j.Status == JobStatus.Queued)
            .OrderByDescending(j => j.CreatedAt).ToListAsync(ct);
        if (waiting.FirstOrDefault(j => JsonSerializer.Deserialize<HealthPayload>(j.Payload, JsonSerializerOptions.Web) == payload) is { } queued)
            return TypedResults.Accepted($"/api/jobs/{queued.Id}", JobDto.From(queued));
        var job = await StartAsync(db, dispatcher, jobs.Value, time, payload);
        return TypedResults.Accepted($"/api/jobs/{job.Id}", JobDto.From(job));
    }

    /// <summary>Queues a health run (also after an import).</summary>
    public static async Task<Job> StartAsync(VisionLabelDb db, JobDispatcher dispatcher, JobOptions jobs, TimeProvider time, HealthPayload payload)
    {
        var job = new Job
        {
            Kind = HealthJob.JobKind, ProjectId = payload.ProjectId, CreatedAt = time.GetUtcNow().UtcDateTime, MaxAttempts = jobs.MaxAttempts,
            Payload = JsonSerializer.Serialize(payload, JsonSerializerOptions.Web),
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync(CancellationToken.None);
        job.Chunks = await dispatcher.DispatchAsync(job.Id, CancellationToken.None);
        return job;
    }

    /// <summary>The project's latest health result: the newest completed run's (null when none has completed). The grid's
    /// ?flagged=duplicate|outlier filters read it too.</summary>
    public static async Task<HealthResult?> LatestResultAsync(VisionLabelDb db, Guid projectId, CancellationToken ct)
    {
        string? json = await db.Jobs.AsNoTracking()
            .Where(j => j.ProjectId == projectId && j.Kind == HealthJob.JobKind && j.Status == JobStatus.Completed && j.Result != null)
            .OrderByDescending(j => j.FinishedAt).ThenByDescending(j => j.Id).Select(j => j.Result).FirstOrDefaultAsync(ct);
        return json is null ? null : JsonSerializer.Deserialize<HealthResult>(json, JsonSerializerOptions.Web);
    }

    private static async Task<Ok<HealthDto>> Latest(Guid projectId, VisionLabelDb db, CancellationToken ct)
    {
        var runs = db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId && j.Kind == HealthJob.JobKind);
        var latest = await runs.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id).FirstOrDefaultAsync(ct);
        var result = await LatestResultAsync(db, projectId, ct);
        string status = latest is null ? "none" : latest.Status is JobStatus.Queued or JobStatus.Running ? "running" : result is null ? "none" : "done";
        string? error = latest?.Status is JobStatus.Dead or JobStatus.Cancelled ? latest.LastError ?? $"the latest run was {ApiEnum.Name(latest.Status)}" : null;
        return TypedResults.Ok(HealthDto.From(status, latest?.Id, error, result));
    }
}

/// <summary>Reruns dataset health after each import, with the split and distance of the project's last run (or the defaults).</summary>
public sealed class HealthAfterImport(VisionLabelDb db, JobDispatcher dispatcher, IOptions<JobOptions> jobs, TimeProvider time) : Datasets.IImportObserver
{
    public async Task ImportedAsync(Guid projectId)
    {
        var last = await db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId && j.Kind == HealthJob.JobKind).OrderByDescending(j => j.CreatedAt).Select(j => j.Payload).FirstOrDefaultAsync();
        var payload = last is null ? new HealthPayload(projectId, 0.2, 0, HealthApi.DefaultMaxDistance) : JsonSerializer.Deserialize<HealthPayload>(last, JsonSerializerOptions.Web)!;
        await HealthApi.StartAsync(db, dispatcher, jobs.Value, time, payload);
    }
}
