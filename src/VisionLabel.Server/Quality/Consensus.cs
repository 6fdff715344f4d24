using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.Quality;

/// <summary>One consensus copy as GET /api/images/{id}/replicas lists it (reviewers, owners).</summary>
public sealed record ReplicaDto(Guid ImageId, ReplicaKind Kind, string Owner, ImageStatus Status, DateTime? SubmittedAt, double? F1, int Shapes);

/// <summary>GET /api/images/{id}/replicas: the image's copies, and its agreement once merged.</summary>
public sealed record ReplicasDto(Guid ImageId, int Overlap, double? Agreement, bool NeedsAdjudication, IReadOnlyList<ReplicaDto> Replicas);

/// <summary>
/// Consensus (docs/quality.md): when the overlap-th copy of an image is submitted, the copies are merged with
/// <see cref="ConsensusMerge"/>: the image's agreement is recorded, its annotations become the shapes a quorum agreed on
/// (written through the write path, so editors on it see them arrive), and it moves to review: to the adjudication
/// queue when the agreement is below the project's threshold.
/// </summary>
public sealed class Consensus(VisionLabelDb db, AnnotationSequencer sequencer, IServiceProvider services, ILogger<Consensus> log)
{
    /// <summary>The author of merged results in the op log and the workflow history.</summary>
    public const string Author = "consensus";

    public async Task CopySubmittedAsync(Guid imageId)
    {
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId);
        if (image is null || image.Agreement is not null) return; // gone, or merged already
        var project = await db.Projects.AsNoTracking().FirstAsync(p => p.Id == image.ProjectId);
        var copies = await db.Images.IgnoreQueryFilters().AsNoTracking()
            .Where(r => r.ReplicaOf == imageId && r.ReplicaKind == ReplicaKind.Consensus && r.Status == ImageStatus.Approved)
            .OrderBy(r => r.SubmittedAt).ThenBy(r => r.Id).ToListAsync();
        if (copies.Count < project.Overlap) return;
        copies = copies.Take(project.Overlap).ToList();
        var sets = await SubmittedShapesAsync(copies.Select(c => c.Id).ToList());
        var items = copies.Select(c => (IReadOnlyList<MatchItem>)(sets.GetValueOrDefault(c.Id) ?? [])
            .Select(s => new MatchItem(s.AnnotationId, s.LabelId, QualityReports.ShapeOf(s.Kind, s.Geometry))).ToList()).ToList();
        var result = ConsensusMerge.Merge(items, image.Height, image.Width, 0.5, project.Quorum);
        double agreement = Math.Round(result.Agreement, 6);
        bool adjudicate = agreement < project.AgreementThreshold;
        // The claim: whoever records the agreement merges (two last copies submitted at once in two processes merge once).
        if (await db.Images.Where(i => i.Id == imageId && i.Agreement == null)
                .ExecuteUpdateAsync(u => u.SetProperty(i => i.Agreement, agreement).SetProperty(i => i.NeedsAdjudication, adjudicate)) == 0) return;
        var shapes = sets.Values.SelectMany(v => v).ToDictionary(s => s.AnnotationId);
        await sequencer.ApplyBatchAsync(imageId, Author, OpOrigin.System, async w =>
        {
            // The merged result replaces whatever the image had (proposals a model made before the copies were handed out).
            var existing = await w.Annotations.Where(a => a.ImageId == imageId).Select(a => a.Id).ToListAsync();
            var ops = existing.Select(id => new SubmitOp($"consensus:{imageId}:delete:{id}", imageId, OpType.Delete, id)).ToList();
            foreach (var merged in result.Merged)
            {
                var s = shapes[merged.Kept.Id];
                var id = MonotonicGuid.Next();
                ops.Add(new SubmitOp($"consensus:{imageId}:create:{id}", imageId, OpType.Create, id, JsonSerializer.SerializeToElement(new JsonObject
                {
                    ["labelId"] = s.LabelId, ["kind"] = ApiEnum.Name(s.Kind), ["geometry"] = JsonNode.Parse(s.Geometry), ["state"] = "accepted",
                    ["attributes"] = new JsonObject { ["votes"] = merged.Votes, ["of"] = copies.Count },
                })));
            }
            return ops;
        }, freshIds: true);
        // Resolved here, not injected: the transitions tell this class of submissions (an observer), a cycle for the container.
        var outcome = await services.GetRequiredService<WorkTransitions>().MergedAsync(imageId, adjudicate);
        if (outcome.Refusal is { } r) log.LogWarning("Consensus of image {ImageId} merged, but its stage did not move: {Detail}", imageId, r.Detail);
    }

    /// <summary>Each copy's submission as submitted (its latest: a copy is submitted once).</summary>
    private async Task<Dictionary<Guid, List<SubmittedShape>>> SubmittedShapesAsync(List<Guid> copyIds)
    {
        var submissions = (await db.WorkEvents.AsNoTracking().Where(e => copyIds.Contains(e.ImageId) && (e.Kind == WorkEventKind.AutoApproved || e.Kind == WorkEventKind.Submitted))
                .Select(e => new { e.Id, e.ImageId }).ToListAsync())
            .GroupBy(e => e.ImageId).ToDictionary(g => g.Key, g => g.MaxBy(e => e.Id)!.Id);
        var ids = submissions.Values.ToList();
        var shapes = await db.SubmittedShapes.AsNoTracking().Where(s => ids.Contains(s.SubmissionId)).OrderBy(s => s.AnnotationId).ToListAsync();
        return submissions.ToDictionary(kv => kv.Key, kv => shapes.Where(s => s.SubmissionId == kv.Value).ToList());
    }

    public async Task<ReplicasDto?> ReplicasAsync(Guid imageId, CancellationToken ct)
    {
        var image = await db.Images.AsNoTracking().FirstOrDefaultAsync(i => i.Id == imageId, ct);
        if (image is null) return null;
        var overlap = await db.Projects.Where(p => p.Id == image.ProjectId).Select(p => p.Overlap).FirstAsync(ct);
        var copies = await db.Images.IgnoreQueryFilters().AsNoTracking().Where(r => r.ReplicaOf == imageId).OrderBy(r => r.Id)
            .Select(r => new { r.Id, r.ReplicaKind, r.ReplicaOwner, r.Status, r.SubmittedAt, r.ReplicaF1, Shapes = db.Annotations.Count(a => a.ImageId == r.Id && a.State == AnnotationState.Accepted) })
            .ToListAsync(ct);
        return new ReplicasDto(imageId, overlap, image.Agreement, image.NeedsAdjudication,
            copies.Select(c => new ReplicaDto(c.Id, c.ReplicaKind!.Value, c.ReplicaOwner!, c.Status, c.SubmittedAt, c.ReplicaF1, c.Shapes)).ToList());
    }
}
