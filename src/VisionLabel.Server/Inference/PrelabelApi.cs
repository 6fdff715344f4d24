using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VisionLabel.Inference.Tiling;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Accounts;

namespace VisionLabel.Server.Inference;

/// <summary>
/// What to pre-label: a model, and either explicit image ids or a status filter (default: every image).
/// Mapping overrides the project's saved class→label mapping; classes without a label are skipped.
/// ExistingProposals: "replace" (default) this model's untouched proposals, or "keep" them and add.
/// IncludeReviewed: submitted and approved images are left alone unless this is true (their review would no longer hold).
/// Tiling: "auto" (default: images over 40 MP are cut into overlapping slices of the model's size and the results merged), "always" or "never"; Overlap: the fraction of a slice its neighbours share, 0 to 0.5 (default 0.2).
/// </summary>
public sealed record PrelabelRequest(
    Guid ModelId, [property: MaxLength(Limits.ImageIdsPerRequest)] IReadOnlyList<Guid>? ImageIds = null, [property: MaxLength(10)] IReadOnlyList<string>? Status = null,
    float? Confidence = null, float? Iou = null, [property: MaxLength(Limits.ClassesPerModel)] IReadOnlyList<ClassMappingInput>? Mapping = null,
    string? ExistingProposals = null, [property: Range(1, 64)] int? MaxBatch = null, bool IncludeReviewed = false,
    string? Tiling = null, double? Overlap = null);

public static class PrelabelApi
{
    public static IEndpointRouteBuilder MapPrelabelApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/projects/{projectId:guid}/prelabel", Enqueue).WithTags("Jobs").RequireProjectRole(ProjectRole.Owner).WithBodyLimit(Limits.PrelabelBody)
            .WithDescription("Starts a background pre-labeling job; 202 with the job. Follow it at /api/jobs/{id} or over /hubs/live.");
        return app;
    }

    private static async Task<Results<Accepted<JobDto>, ValidationProblem, ProblemHttpResult>> Enqueue(
        Guid projectId, PrelabelRequest request, VisionLabelDb db, JobDispatcher dispatcher, IOptions<JobOptions> options, CancellationToken ct)
    {
        if (!await db.Projects.AnyAsync(p => p.Id == projectId, ct)) return Problems.NotFound("Project", projectId);
        var model = await db.Models.AsNoTracking().FirstOrDefaultAsync(m => m.Id == request.ModelId, ct);
        if (model is null) return Problems.Invalid("modelId", $"no model has id {request.ModelId}; upload one at /api/models");
        if (request.Confidence is { } c && (c <= 0 || c >= 1)) return Problems.Invalid("confidence", "confidence must be between 0 and 1");
        if (request.Iou is { } iou && (iou <= 0 || iou > 1)) return Problems.Invalid("iou", "iou must be in (0, 1]");
        bool? replace = request.ExistingProposals?.ToLowerInvariant() switch
        {
            null or "replace" => true,
            "keep" => false,
            _ => null,
        };
        if (replace is null) return Problems.Invalid("existingProposals", "use 'replace' (default) or 'keep'");
        if (!Enum.TryParse<TilingMode>(request.Tiling ?? "auto", ignoreCase: true, out var tiling) || !Enum.IsDefined(tiling) || int.TryParse(request.Tiling, out _))
            return Problems.Invalid("tiling", "use 'auto' (default: slice images over 40 megapixels), 'always' or 'never'");
        if (request.Overlap is { } overlap && (double.IsNaN(overlap) || overlap < 0 || overlap > 0.5)) return Problems.Invalid("overlap", "overlap must be between 0 and 0.5");

        // Class → label: the request's, else the project's saved or by-name mapping.
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToListAsync(ct);
        var mapping = new Dictionary<int, Guid>();
        int classCount = ModelDto.ClassNamesOf(model).Count;
        if (request.Mapping is { } explicitMapping)
        {
            foreach (var m in explicitMapping)
            {
                if (m.ClassIndex < 0 || m.ClassIndex >= classCount) return Problems.Invalid("mapping", $"class index {m.ClassIndex} is out of range 0..{classCount - 1}");
                if (m.LabelId is not { } labelId) continue;
                if (labels.All(l => l.Id != labelId)) return Problems.Invalid("mapping", $"label {labelId} is not a label of this project");
                mapping[m.ClassIndex] = labelId;
            }
        }
        else
        {
            var saved = await db.ModelMappings.AsNoTracking().FirstOrDefaultAsync(m => m.ProjectId == projectId && m.ModelId == model.Id, ct);
            foreach (var cm in ModelMappings.Describe(projectId, model, labels, saved).Classes)
                if (cm.LabelId is { } id) mapping[cm.ClassIndex] = id;
        }
        if (mapping.Count == 0)
            return Problems.BadRequest("No class maps to a label",
                $"None of the model's {classCount} classes maps to a label of this project. Add labels named like the classes, or save a mapping at /api/projects/{projectId}/models/{model.Id}/mapping.");

        var statuses = new List<ImageStatus>();
        foreach (var text in request.Status ?? [])
        {
            if (!ApiEnum.TryParse<ImageStatus>(text, out var status)) return Problems.Invalid("status", $"'{text}' is not an image status; use {ApiEnum.Names<ImageStatus>()}");
            statuses.Add(status);
        }
        List<Guid>? explicitIds = null;
        if (request.ImageIds is { Count: > 0 } ids)
        {
            // In chunks: one query with 100,000 parameters is more than SQLite (and sense) allows.
            var found = new List<(Guid Id, ImageStatus Status)>();
            foreach (var chunk in ids.Distinct().Chunk(500))
                found.AddRange((await db.Images.AsNoTracking().Where(i => i.ProjectId == projectId && chunk.Contains(i.Id)).Select(i => new { i.Id, i.Status }).ToListAsync(ct))
                    .Select(i => (i.Id, i.Status)));
            var missing = ids.Except(found.Select(f => f.Id)).ToList();
            if (missing.Count > 0) return Problems.Invalid("imageIds", $"{missing.Count} image id(s) are not in this project, e.g. {missing[0]}");
            explicitIds = found.Where(f => (statuses.Count == 0 || statuses.Contains(f.Status)) && (request.IncludeReviewed || !Reviewed(f.Status))).Select(f => f.Id).Distinct().ToList();
        }

        var now = DateTime.UtcNow;
        var job = new Job
        {
            Kind = PrelabelJob.JobKind, ProjectId = projectId, CreatedAt = now, MaxAttempts = options.Value.MaxAttempts,
            Payload = JsonSerializer.Serialize(new PrelabelPayload(model.Id, request.Confidence ?? 0.25f, request.Iou, mapping, replace.Value, request.MaxBatch ?? 8, request.IncludeReviewed,
                tiling, request.Overlap ?? 0.2)),
        };
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            db.Jobs.Add(job);
            await db.SaveChangesAsync(ct);
            if (explicitIds is not null)
            {
                db.JobItems.AddRange(explicitIds.Select(id => new JobItem { JobId = job.Id, ImageId = id }));
                job.Total = explicitIds.Count;
            }
            else
            {
                // A whole project: items are made by the database from the selection, no id list passes through memory.
                string statusFilter = statuses.Count == 0 ? "" : $" AND \"Status\" IN ({string.Join(", ", statuses.Select((_, i) => $"{{{i + 2}}}"))})";
                if (!request.IncludeReviewed) statusFilter += " AND \"Status\" NOT IN ('Submitted', 'Approved')";
                object[] parameters = [job.Id, projectId, .. statuses.Select(st => (object)st.ToString())];
#pragma warning disable EF1003 // only generated {n} placeholders are concatenated; every value is a parameter
                job.Total = await db.Database.ExecuteSqlRawAsync(
                    "INSERT INTO \"JobItems\" (\"JobId\", \"ImageId\", \"Status\") SELECT {0}, \"Id\", 'Pending' FROM \"Images\" WHERE \"ProjectId\" = {1} AND \"ArchivedAt\" IS NULL" + statusFilter,
                    parameters, ct);
#pragma warning restore EF1003
            }
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        job.Chunks = await dispatcher.DispatchAsync(job.Id, CancellationToken.None); // committed: it must reach Hangfire even if the client went away
        return TypedResults.Accepted($"/api/jobs/{job.Id}", JobDto.From(job));
    }

    private static bool Reviewed(ImageStatus status) => status is ImageStatus.Submitted or ImageStatus.Approved;
}
