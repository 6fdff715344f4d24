using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.ModelLoop;

public enum OutcomeGrouping { Label, ScoreBand }

/// <summary>A group's proposals by how they ended, and the shapes people drew by hand (missed; per label only).</summary>
public sealed record OutcomeRow(string Key, Guid? LabelId, string? Label, double? ScoreBand, long AcceptedUnchanged, long Edited, long Relabeled, long Rejected,
    long Pending, long Missed);

/// <summary>The score at which keeping this label's proposals gives the best F1 (kept proposals true positives, rejected
/// and relabeled ones false positives, hand-drawn shapes and kept proposals below the threshold false negatives).</summary>
public sealed record ThresholdAdvice(Guid LabelId, string Label, double? Threshold, double? F1, double? Precision, double? Recall, int Kept, int Wrong, long Missed);

/// <summary>Active seconds per accepted object on images without any model's proposals (drawn by hand) and on this
/// model's images; saved = this model's measured objects × (hand − with the model). Null where a figure has no objects.</summary>
public sealed record TimeSaved(double? HandSecondsPerObject, double? ModelSecondsPerObject, long ModelObjects, double? SavedSeconds);

public sealed record OutcomeReport(string ModelId, string? ModelName, OutcomeGrouping GroupBy, IReadOnlyList<OutcomeRow> Rows, OutcomeRow Totals,
    IReadOnlyList<ThresholdAdvice> Thresholds, TimeSaved TimeSaved);

public sealed record ModelWithProposals(string ModelId, string? Name, long Proposals);

/// <summary>Proposal outcomes per model (docs/models-in-the-loop.md): counted from the outcomes the write path keeps.</summary>
public sealed class ProposalOutcomes(VisionLabelDb db)
{
    public async Task<IReadOnlyList<ModelWithProposals>> ModelsAsync(Guid projectId, CancellationToken ct)
    {
        var counts = await db.ProposalOutcomes.AsNoTracking().Where(p => p.ProjectId == projectId && p.Outcome != ProposalOutcomeKind.Superseded)
            .GroupBy(p => p.ModelId).Select(g => new { g.Key, Count = g.LongCount() }).ToListAsync(ct);
        var names = await NamesAsync(counts.Select(c => c.Key), ct);
        return counts.Select(c => new ModelWithProposals(c.Key, names.GetValueOrDefault(c.Key), c.Count)).OrderBy(m => m.Name ?? m.ModelId, StringComparer.Ordinal).ToList();
    }

    public async Task<OutcomeReport?> ReportAsync(Guid projectId, string modelId, OutcomeGrouping groupBy, CancellationToken ct)
    {
        var mine = db.ProposalOutcomes.AsNoTracking().Where(p => p.ProjectId == projectId && p.ModelId == modelId && p.Outcome != ProposalOutcomeKind.Superseded);
        var proposals = await mine.Select(p => new { p.ProposedLabelId, p.Score, p.Outcome }).ToListAsync(ct);
        if (proposals.Count == 0) return null;
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        string Name(Guid id) => labels.GetValueOrDefault(id, id.ToString());
        // Missed: shapes people drew by hand (and did not reject) on the images this model pre-labelled, per label.
        var images = mine.Select(p => p.ImageId).Distinct();
        var missed = await db.Annotations.AsNoTracking().Where(a => images.Contains(a.ImageId) && a.Source == AnnotationSourceType.Human && a.State != AnnotationState.Rejected)
            .GroupBy(a => a.LabelId).Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);

        OutcomeRow Row(string key, Guid? label, double? band, IEnumerable<ProposalOutcomeKind> outcomes, long missedCount)
        {
            var c = outcomes.GroupBy(o => o).ToDictionary(g => g.Key, g => (long)g.Count());
            return new OutcomeRow(key, label, label is { } l ? Name(l) : null, band, c.GetValueOrDefault(ProposalOutcomeKind.AcceptedUnchanged),
                c.GetValueOrDefault(ProposalOutcomeKind.Edited), c.GetValueOrDefault(ProposalOutcomeKind.Relabeled), c.GetValueOrDefault(ProposalOutcomeKind.Rejected),
                c.GetValueOrDefault(ProposalOutcomeKind.Pending), missedCount);
        }
        var rows = groupBy == OutcomeGrouping.Label
            ? proposals.Select(p => p.ProposedLabelId).Concat(missed.Keys).Distinct()
                .Select(l => Row(Name(l), l, null, proposals.Where(p => p.ProposedLabelId == l).Select(p => p.Outcome), missed.GetValueOrDefault(l)))
                .OrderBy(r => r.Key, StringComparer.Ordinal).ToList()
            // Bands of 0.1 from 0 (the last takes 1.0 too); "no score" for proposals without one. Missed shapes have no score: in the totals only.
            : proposals.GroupBy(p => Band(p.Score)).OrderBy(g => g.Key ?? -1)
                .Select(g => Row(g.Key is { } b ? $"{b:0.0}–{b + 0.1:0.0}" : "no score", null, g.Key, g.Select(p => p.Outcome), 0)).ToList();
        var totals = Row("all", null, null, proposals.Select(p => p.Outcome), missed.Values.Sum());

        var thresholds = proposals.Select(p => p.ProposedLabelId).Distinct()
            .Select(l => Advise(l, Name(l), proposals.Where(p => p.ProposedLabelId == l).Select(p => (p.Score, p.Outcome)).ToList(), missed.GetValueOrDefault(l)))
            .OrderBy(t => t.Label, StringComparer.Ordinal).ToList();
        var names = await NamesAsync([modelId], ct);
        return new OutcomeReport(modelId, names.GetValueOrDefault(modelId), groupBy, rows, totals, thresholds, await TimeSavedAsync(projectId, modelId, ct));
    }

    public static double? Band(double? score) => score is { } s ? Math.Min(9, Math.Floor(s * 10 + 1e-9)) / 10 : null;

    /// <summary>The threshold with the best F1 over this label's decided proposals with a score; ties go to the higher
    /// threshold (fewer proposals to check for the same F1). Null when none was kept.</summary>
    public static ThresholdAdvice Advise(Guid label, string name, IReadOnlyList<(double? Score, ProposalOutcomeKind Outcome)> proposals, long missed)
    {
        var decided = proposals.Where(p => p.Score is not null && p.Outcome is not (ProposalOutcomeKind.Pending or ProposalOutcomeKind.Superseded))
            .Select(p => (Score: p.Score!.Value, Kept: p.Outcome is ProposalOutcomeKind.AcceptedUnchanged or ProposalOutcomeKind.Edited)).ToList();
        int kept = decided.Count(d => d.Kept), wrong = decided.Count - kept;
        if (kept == 0) return new ThresholdAdvice(label, name, null, null, null, null, kept, wrong, missed);
        double? best = null, bestF1 = -1, precision = null, recall = null;
        int tp = 0, fp = 0;
        foreach (var group in decided.GroupBy(d => d.Score).OrderByDescending(g => g.Key))
        {
            tp += group.Count(d => d.Kept);
            fp += group.Count(d => !d.Kept);
            long fn = missed + (kept - tp);
            double f1 = 2.0 * tp / (2.0 * tp + fp + fn);
            if (f1 > bestF1 + 1e-12)
                (best, bestF1, precision, recall) = (group.Key, f1, (double)tp / (tp + fp), (double)tp / (tp + fn));
        }
        return new ThresholdAdvice(label, name, best, Math.Round(bestF1!.Value, 6), Math.Round(precision!.Value, 6), Math.Round(recall!.Value, 6), kept, wrong, missed);
    }

    private async Task<TimeSaved> TimeSavedAsync(Guid projectId, string modelId, CancellationToken ct)
    {
        var active = await db.ActiveTimes.AsNoTracking().Where(a => a.ProjectId == projectId).GroupBy(a => a.ImageId)
            .Select(g => new { g.Key, Seconds = g.Sum(a => a.Seconds) }).ToDictionaryAsync(a => a.Key, a => a.Seconds, ct);
        if (active.Count == 0) return new TimeSaved(null, null, 0, null);
        var worked = db.ActiveTimes.Where(a => a.ProjectId == projectId).Select(a => a.ImageId);
        var objects = await db.Annotations.AsNoTracking().Where(a => worked.Contains(a.ImageId) && a.State == AnnotationState.Accepted)
            .GroupBy(a => a.ImageId).Select(g => new { g.Key, Count = g.LongCount() }).ToDictionaryAsync(x => x.Key, x => x.Count, ct);
        // An image whose proposals were all superseded (replaced by a re-run) was not worked with them.
        var modelsOf = (await db.ProposalOutcomes.AsNoTracking().Where(p => p.ProjectId == projectId && p.Outcome != ProposalOutcomeKind.Superseded && worked.Contains(p.ImageId))
            .Select(p => new { p.ImageId, p.ModelId }).Distinct().ToListAsync(ct)).ToLookup(p => p.ImageId, p => p.ModelId);
        return Estimate(active.Select(a => (a.Value, objects.GetValueOrDefault(a.Key), Hand: !modelsOf.Contains(a.Key), Model: modelsOf[a.Key].Contains(modelId))));
    }

    /// <summary>Time saved from each worked image's active seconds and accepted objects, and whether no model / this model
    /// proposed on it (docs/models-in-the-loop.md).</summary>
    public static TimeSaved Estimate(IEnumerable<(double Seconds, long Objects, bool Hand, bool Model)> images)
    {
        double handSeconds = 0, modelSeconds = 0;
        long handObjects = 0, modelObjects = 0;
        foreach (var (seconds, count, isHand, isModel) in images)
            if (isHand) { handSeconds += seconds; handObjects += count; }
            else if (isModel) { modelSeconds += seconds; modelObjects += count; }
        double? hand = handObjects > 0 ? handSeconds / handObjects : null, model = modelObjects > 0 ? modelSeconds / modelObjects : null;
        return new TimeSaved(Round(hand), Round(model), modelObjects, hand is { } h && model is { } m ? Math.Round(modelObjects * (h - m), 3) : null);
    }

    private static double? Round(double? x) => x is { } v ? Math.Round(v, 6) : null;

    private async Task<Dictionary<string, string>> NamesAsync(IEnumerable<string> modelIds, CancellationToken ct)
    {
        var ids = modelIds.Select(m => Guid.TryParse(m, out var g) ? g : (Guid?)null).OfType<Guid>().Distinct().ToList();
        if (ids.Count == 0) return [];
        return (await db.Models.AsNoTracking().Where(m => ids.Contains(m.Id)).Select(m => new { m.Id, m.Name }).ToListAsync(ct))
            .ToDictionary(m => m.Id.ToString(), m => m.Name);
    }
}
