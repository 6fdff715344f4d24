using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>How a model's proposal ended (docs/models-in-the-loop.md). Superseded: deleted by a job or import (a re-run
/// replacing untouched proposals), not by a person: counted nowhere.</summary>
public enum ProposalOutcomeKind { Pending, AcceptedUnchanged, Edited, Relabeled, Rejected, Superseded }

/// <summary>
/// One proposal a model made (created by a pre-labeling job or an import, never by a person), with what it was when
/// proposed and how it stands now. Kept up to date by the write path (<see cref="ProposalTracking"/>), in the same
/// transaction as the ops, so outcomes are counted without reading the op log.
/// </summary>
public sealed class ProposalOutcome
{
    public Guid AnnotationId { get; set; }
    public Guid ProjectId { get; set; }
    public Guid ImageId { get; set; }
    /// <summary>The annotation's source.modelId: a registered model's id, or an imported predictions' name.</summary>
    public required string ModelId { get; set; }
    public Guid ProposedLabelId { get; set; }
    /// <summary>A hash of the geometry as proposed: "edited" is a geometry that differs from it.</summary>
    public long ProposedGeometryHash { get; set; }
    public double? Score { get; set; }
    public DateTime ProposedAt { get; set; }
    public ProposalOutcomeKind Outcome { get; set; }
    /// <summary>The person whose change settled the outcome (null while pending, or when a job superseded it).</summary>
    public string? DecidedBy { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>
/// The outcome of each proposal, decided from its current state against what was proposed (so an undo puts an
/// outcome back): deleted or rejected by a person → rejected; else its label differs → relabeled; else still proposed →
/// pending; else (accepted) its geometry differs → edited; else accepted unchanged.
/// </summary>
internal static class ProposalTracking
{
    /// <summary>Called by the op applier with the rows its ops created, changed and deleted (in op order), before it saves.</summary>
    public static async Task TrackAsync(VisionLabelDb db, ImageInfo image, IReadOnlyList<(OpEffect Effect, Annotation Row)> touched, OpOrigin origin,
        string author, DateTime now)
    {
        // Only rows a model made can be proposals: a person's edits of their own shapes cost no query.
        var models = touched.Where(t => t.Row.Source == AnnotationSourceType.Model && t.Row.ModelId is not null).ToList();
        if (models.Count == 0) return;
        var ids = models.Select(t => t.Row.Id).Distinct().ToList();
        var kept = await db.ProposalOutcomes.Where(p => ids.Contains(p.AnnotationId)).ToDictionaryAsync(p => p.AnnotationId);
        foreach (var (effect, row) in models)
        {
            if (!kept.TryGetValue(row.Id, out var outcome))
            {
                // A proposal is what a job or an import made; a person's "model" shape (or one made before tracking began) is not tracked.
                if (effect != OpEffect.Created || origin == OpOrigin.Person) continue;
                outcome = new ProposalOutcome
                {
                    AnnotationId = row.Id, ProjectId = image.ProjectId, ImageId = image.Id, ModelId = row.ModelId!, ProposedLabelId = row.LabelId,
                    ProposedGeometryHash = GeometryHash(row.Geometry), Score = row.Score, ProposedAt = now, UpdatedAt = now,
                };
                outcome.Outcome = Classify(outcome, row); // made by a job or an import: nobody decided it
                db.ProposalOutcomes.Add(outcome);
                kept[row.Id] = outcome;
                continue;
            }
            var decided = effect == OpEffect.Deleted
                ? origin == OpOrigin.Person ? ProposalOutcomeKind.Rejected : ProposalOutcomeKind.Superseded
                : Classify(outcome, row);
            // Only a change of outcome is a decision: touching an accepted proposal's attributes does not take it over.
            if (decided == outcome.Outcome) continue;
            outcome.Outcome = decided;
            outcome.DecidedBy = origin == OpOrigin.Person && decided is not (ProposalOutcomeKind.Pending or ProposalOutcomeKind.Superseded) ? author : null;
            outcome.UpdatedAt = now;
        }
    }

    public static ProposalOutcomeKind Classify(ProposalOutcome proposed, Annotation now) =>
        now.State == AnnotationState.Rejected ? ProposalOutcomeKind.Rejected
        : now.LabelId != proposed.ProposedLabelId ? ProposalOutcomeKind.Relabeled
        : now.State == AnnotationState.Proposed ? ProposalOutcomeKind.Pending
        : GeometryHash(now.Geometry) != proposed.ProposedGeometryHash ? ProposalOutcomeKind.Edited
        : ProposalOutcomeKind.AcceptedUnchanged;

    /// <summary>The first 8 bytes of the SHA-256 of the normalised geometry JSON (the write path stores it normalised).</summary>
    public static long GeometryHash(string geometry) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(geometry)));
}
