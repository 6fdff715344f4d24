using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.Quality;

/// <summary>
/// After each submission: scores it when its image (or the image a copy is of) has ground truth and pushes the figure
/// live; answers a honeypot's submitter with feedback (and keeps the copy's F1 for onboarding); merges consensus copies
/// once the last of them is in.
/// </summary>
public sealed class ScoreOnSubmit(VisionLabelDb db, QualityReports reports, Consensus consensus) : ISubmissionObserver
{
    public async Task<SubmissionFeedback?> SubmittedAsync(Guid projectId, Guid imageId, Guid submissionId, string annotator)
    {
        var image = await db.Images.IgnoreQueryFilters().AsNoTracking().Where(i => i.Id == imageId)
            .Select(i => new { i.ReplicaOf, i.ReplicaKind }).FirstOrDefaultAsync();
        if (image is null) return null;
        var scored = await reports.ScoreSubmissionAsync(projectId, imageId, submissionId, annotator, truthImageId: image.ReplicaOf ?? imageId);
        SubmissionFeedback? feedback = null;
        if (image.ReplicaKind == ReplicaKind.Honeypot && scored is { } s)
        {
            double f1 = Math.Round(s.Figure.F1, 6);
            await db.Images.IgnoreQueryFilters().Where(i => i.Id == imageId).ExecuteUpdateAsync(u => u.SetProperty(i => i.ReplicaF1, f1));
            var threshold = await db.Projects.Where(p => p.Id == projectId).Select(p => p.AgreementThreshold).FirstAsync();
            var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Id, l => l.Name);
            feedback = HoneypotFeedback.From(s.Match, f1, threshold, id => labels.GetValueOrDefault(id, "a deleted label"));
        }
        if (image.ReplicaKind == ReplicaKind.Consensus && image.ReplicaOf is { } of) await consensus.CopySubmittedAsync(of);
        return feedback;
    }
}

/// <summary>
/// The hints a honeypot's submitter gets (docs/quality.md): counts by label, never where the truth is or what it looks like.
/// A confusion (a shape on a true object with another label) is said once as such, not also as a miss and an extra.
/// </summary>
public static class HoneypotFeedback
{
    public const double LooseIou = 0.75;

    public static SubmissionFeedback From(ImageMatch match, double f1, double threshold, Func<Guid, string> name)
    {
        var hints = new List<string>();
        // A confusion here is a missed true object that a wrongly labelled shape of theirs covers (an extra of theirs).
        var missed = match.FalseNegatives.Select(f => f.Id).ToHashSet();
        var extra = match.FalsePositives.Select(f => f.Id).ToHashSet();
        var confusions = match.Confusions.Where(c => missed.Contains(c.Truth) && extra.Contains(c.Submitted)).ToList();
        var confusedTruth = confusions.Select(c => c.Truth).ToHashSet();
        var confusedMine = confusions.Select(c => c.Submitted).ToHashSet();
        foreach (var g in confusions.GroupBy(c => (c.TruthLabel, c.SubmittedLabel)).OrderByDescending(g => g.Count()).ThenBy(g => name(g.Key.TruthLabel), StringComparer.Ordinal))
            hints.Add($"confused {name(g.Key.TruthLabel)}/{name(g.Key.SubmittedLabel)} × {g.Count()} (labelled {name(g.Key.SubmittedLabel)} where it is {name(g.Key.TruthLabel)})");
        foreach (var g in match.FalseNegatives.Where(f => !confusedTruth.Contains(f.Id)).GroupBy(f => f.Label).OrderByDescending(g => g.Count()).ThenBy(g => name(g.Key), StringComparer.Ordinal))
            hints.Add($"missed objects: {g.Count()} × {name(g.Key)}");
        foreach (var g in match.FalsePositives.Where(f => !confusedMine.Contains(f.Id)).GroupBy(f => f.Label).OrderByDescending(g => g.Count()).ThenBy(g => name(g.Key), StringComparer.Ordinal))
            hints.Add($"extra objects: {g.Count()} × {name(g.Key)}");
        int loose = match.Pairs.Count(p => p.Iou < LooseIou);
        if (loose > 0) hints.Add($"loose outlines: {loose} of your {match.Pairs.Count} matched shapes overlap the truth by less than {LooseIou:0.00} IoU");
        if (hints.Count == 0) hints.Add("every object found, with the right labels");
        return new SubmissionFeedback(f1, threshold, f1 >= threshold, hints);
    }
}
