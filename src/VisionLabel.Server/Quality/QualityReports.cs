using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.Quality;

/// <summary>How a quality report groups its rows. On the wire: "annotator", "label", "image", "guideline-version".</summary>
public enum QualityGrouping { Annotator, Label, Image, GuidelineVersion }

/// <summary>A confusion: where the ground truth has one label, the submission put another on the same object (class-agnostic match at τ).</summary>
public sealed record ConfusionCount(string TruthLabel, string SubmittedLabel, int Count);

/// <summary>One row of a quality report: its key, how many images it covers, the counts and the figures (docs/quality.md);
/// a label's row also has the F1 the label requires (the page shows a row below it in red).</summary>
public sealed record QualityRow(string Key, int Images, long Tp, long Fp, long Fn, double Precision, double Recall, double F1, double Accuracy, double MeanIoU,
    IReadOnlyList<ConfusionCount>? Confusions = null, double? RequiredF1 = null)
{
    public static QualityRow From(string key, int images, QualityCounts c, IReadOnlyList<ConfusionCount>? confusions = null, double? requiredF1 = null) =>
        new(key, images, c.Tp, c.Fp, c.Fn, c.Precision, c.Recall, c.F1, c.Accuracy, c.MeanIou, confusions, requiredF1);
}

/// <summary>A ground-truth shape most of the submissions scored against it missed: attempts, misses, and their share.</summary>
public sealed record GroundTruthFlag(Guid ImageId, Guid GroundTruthId, string Label, int Attempts, int Missed, double MissedShare);

public sealed record QualityReport(QualityGrouping GroupBy, double Iou, int Submissions, IReadOnlyList<QualityRow> Rows);

/// <summary>One submission scored against its image's ground truth: pushed live as QualityScored on /hubs/live.</summary>
public sealed record QualityScored(Guid ProjectId, Guid ImageId, string Annotator, long Tp, long Fp, long Fn, double Precision, double Recall, double F1, double MeanIoU);

/// <summary>
/// Quality figures: each annotator's submissions (as submitted: the snapshot taken at submit, before any reviewer
/// change) scored against ground truth with the one matching engine (<see cref="ShapeMatcher"/>). Only an annotator's
/// first submission of an image counts: rework after a rejection is not their unaided answer. Images without ground
/// truth are not scored.
/// </summary>
public sealed class QualityReports(VisionLabelDb db, IHubContext<Jobs.LiveHub> live)
{
    /// <summary>A submission of ImageId (an image, or a private copy of TruthImageId), scored against TruthImageId's ground truth.</summary>
    private sealed record Submission(Guid Id, Guid ImageId, Guid TruthImageId, string Annotator, string? GuidelineVersion = null);

    /// <param name="annotator">Only this person's submissions (e.g. their image rows), or everyone's.</param>
    public async Task<QualityReport> ReportAsync(Guid projectId, QualityGrouping groupBy, double iou, CancellationToken ct, string? annotator = null)
    {
        var submissions = await SubmissionsAsync(projectId, annotator, ct);
        var scored = await ScoreAsync(projectId, submissions, iou, ct);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Id, ct);
        string Name(Guid label) => labels.TryGetValue(label, out var l) ? l.Name : label.ToString();

        IEnumerable<QualityRow> rows = groupBy switch
        {
            QualityGrouping.Annotator => scored.GroupBy(s => s.Submission.Annotator).Select(g => QualityRow.From(g.Key, g.Select(s => s.Submission.TruthImageId).Distinct().Count(),
                Sum(g.Select(s => s.Match.Counts)),
                g.SelectMany(s => s.Match.Confusions).GroupBy(c => (c.TruthLabel, c.SubmittedLabel))
                    .Select(c => new ConfusionCount(Name(c.Key.TruthLabel), Name(c.Key.SubmittedLabel), c.Count())).OrderByDescending(c => c.Count).ToList())),
            QualityGrouping.Label => scored.SelectMany(s => PerLabel(s.Match).Select(l => (l.Label, s.Submission.TruthImageId, l.Counts)))
                .GroupBy(x => x.Label).Select(g => QualityRow.From(Name(g.Key), g.Select(x => x.TruthImageId).Distinct().Count(), Sum(g.Select(x => x.Counts)),
                    requiredF1: labels.GetValueOrDefault(g.Key)?.RequiredF1)),
            QualityGrouping.Image => scored.GroupBy(s => s.Submission.TruthImageId).Select(g => QualityRow.From(g.Key.ToString(), 1, Sum(g.Select(s => s.Match.Counts)))),
            // The guideline version the submission was made under ("unversioned" before any was published).
            _ => scored.GroupBy(s => s.Submission.GuidelineVersion ?? "unversioned").Select(g => QualityRow.From(g.Key, g.Select(s => s.Submission.TruthImageId).Distinct().Count(),
                Sum(g.Select(s => s.Match.Counts)))),
        };
        return new QualityReport(groupBy, iou, scored.Count, rows.OrderBy(r => r.Key, StringComparer.Ordinal).ToList());
    }

    /// <summary>The submissions a report scores: each annotator's first of every image with ground truth, a private copy
    /// (honeypot, consensus share) counting as the image it copies.</summary>
    private async Task<List<Submission>> SubmissionsAsync(Guid projectId, string? annotator, CancellationToken ct)
    {
        var truthImages = db.GroundTruth.Where(g => g.ProjectId == projectId).Select(g => g.ImageId);
        if (!await truthImages.AnyAsync(ct)) return []; // nothing to score against: skip reading the submissions
        // Private copies of ground-truth images (honeypots, consensus shares) are scored against the image they copy.
        var copyOf = await db.Images.IgnoreQueryFilters().AsNoTracking().Where(i => i.ProjectId == projectId && i.ReplicaOf != null && truthImages.Contains(i.ReplicaOf.Value))
            .Select(i => new { i.Id, ReplicaOf = i.ReplicaOf!.Value }).ToDictionaryAsync(i => i.Id, i => i.ReplicaOf, ct);
        // A subquery, not a list of ids: a project may have more copies than a statement may have parameters.
        var copies = db.Images.IgnoreQueryFilters().Where(i => i.ProjectId == projectId && i.ReplicaOf != null && truthImages.Contains(i.ReplicaOf.Value)).Select(i => i.Id);
        var events = await db.WorkEvents.AsNoTracking()
            .Where(e => e.ProjectId == projectId && (e.Kind == WorkEventKind.Submitted || e.Kind == WorkEventKind.AutoApproved)
                        && (truthImages.Contains(e.ImageId) || copies.Contains(e.ImageId)) && (annotator == null || e.Actor == annotator))
            .Select(e => new { e.Id, e.ImageId, e.Actor, e.GuidelineVersion }).ToListAsync(ct);
        // The first submission of each (image, annotator), a copy counting as the image it copies: ids are time-ordered.
        return events.Select(e => new Submission(e.Id, e.ImageId, copyOf.GetValueOrDefault(e.ImageId, e.ImageId), e.Actor, e.GuidelineVersion))
            .GroupBy(e => (e.TruthImageId, e.Annotator)).Select(g => g.MinBy(e => e.Id)!).ToList();
    }

    /// <summary>
    /// Ground truth most annotators disagree with (docs/quality.md): a ground-truth shape that at least
    /// <paramref name="minAttempts"/> scored submissions of its image were matched against, and that most of them (more
    /// than half) left unmatched at τ. An invitation to look again at the truth, not a verdict.
    /// </summary>
    public async Task<IReadOnlyList<GroundTruthFlag>> FlagsAsync(Guid projectId, double iou, int minAttempts, CancellationToken ct)
    {
        var scored = await ScoreAsync(projectId, await SubmissionsAsync(projectId, null, ct), iou, ct);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        var truth = await db.GroundTruth.AsNoTracking().Where(g => g.ProjectId == projectId && !g.Crowd).Select(g => new { g.Id, g.ImageId, g.LabelId }).ToListAsync(ct);
        var attempts = scored.GroupBy(s => s.Submission.TruthImageId).ToDictionary(g => g.Key, g => g.Count());
        var missed = scored.SelectMany(s => s.Match.FalseNegatives.Select(f => f.Id)).GroupBy(id => id).ToDictionary(g => g.Key, g => g.Count());
        return truth.Select(g => new { g, n = attempts.GetValueOrDefault(g.ImageId), m = missed.GetValueOrDefault(g.Id) })
            .Where(x => x.n >= minAttempts && x.m * 2 > x.n)
            .Select(x => new GroundTruthFlag(x.g.ImageId, x.g.Id, labels.GetValueOrDefault(x.g.LabelId, x.g.LabelId.ToString()), x.n, x.m, Math.Round((double)x.m / x.n, 6)))
            .OrderByDescending(f => f.MissedShare).ThenBy(f => f.ImageId).ThenBy(f => f.GroundTruthId).ToList();
    }

    /// <summary>One submission, when its image (or the image it is a copy of) has ground truth: its figure, pushed to the
    /// project's watchers, and the match behind it (for a honeypot's feedback).</summary>
    public async Task<(QualityScored Figure, ImageMatch Match)?> ScoreSubmissionAsync(Guid projectId, Guid imageId, Guid submissionId, string annotator,
        CancellationToken ct = default, Guid? truthImageId = null)
    {
        var truth = truthImageId ?? imageId;
        if (!await db.GroundTruth.AnyAsync(g => g.ImageId == truth, ct)) return null;
        var scored = await ScoreAsync(projectId, [new Submission(submissionId, imageId, truth, annotator)], 0.5, ct);
        var match = scored[0].Match;
        var c = match.Counts;
        var figure = new QualityScored(projectId, imageId, annotator, c.Tp, c.Fp, c.Fn, c.Precision, c.Recall, c.F1, c.MeanIou);
        await live.Clients.Group(Jobs.LiveEvents.QualityGroup(projectId)).SendAsync("QualityScored", figure, ct); // reviewers and owners only
        return (figure, match);
    }

    private async Task<List<(Submission Submission, ImageMatch Match)>> ScoreAsync(Guid projectId, IReadOnlyList<Submission> submissions, double iou, CancellationToken ct)
    {
        var imageIds = submissions.Select(s => s.TruthImageId).Distinct().ToList();
        var sizes = new Dictionary<Guid, (int W, int H)>();
        var truth = new Dictionary<Guid, List<MatchItem>>();
        foreach (var chunk in imageIds.Chunk(500))
        {
            foreach (var i in await db.Images.AsNoTracking().Where(i => chunk.Contains(i.Id)).Select(i => new { i.Id, i.Width, i.Height }).ToListAsync(ct))
                sizes[i.Id] = (i.Width, i.Height); // a copy has the size of the image it copies
            foreach (var g in await db.GroundTruth.AsNoTracking().Where(g => chunk.Contains(g.ImageId)).OrderBy(g => g.Id).ToListAsync(ct)) // id order: ties break the same way every time
                (truth.TryGetValue(g.ImageId, out var list) ? list : truth[g.ImageId] = []).Add(new MatchItem(g.Id, g.LabelId, ShapeOf(g.Kind, g.Geometry), g.Crowd));
        }
        var shapes = new Dictionary<Guid, List<MatchItem>>();
        foreach (var chunk in submissions.Select(s => s.Id).Chunk(500))
            foreach (var s in await db.SubmittedShapes.AsNoTracking().Where(s => chunk.Contains(s.SubmissionId)).OrderBy(s => s.AnnotationId).ToListAsync(ct))
                (shapes.TryGetValue(s.SubmissionId, out var list) ? list : shapes[s.SubmissionId] = []).Add(new MatchItem(s.AnnotationId, s.LabelId, ShapeOf(s.Kind, s.Geometry)));
        return submissions.Where(s => sizes.ContainsKey(s.TruthImageId)).Select(s =>
        {
            var (w, h) = sizes[s.TruthImageId];
            return (s, ShapeMatcher.Match(truth.GetValueOrDefault(s.TruthImageId) ?? [], shapes.GetValueOrDefault(s.Id) ?? [], h, w, iou));
        }).ToList();
    }

    /// <summary>A stored geometry as the matching engine takes it.</summary>
    public static Shape ShapeOf(AnnotationKind kind, string geometry) => Annotations.Geometry.Read(kind, geometry) switch
    {
        BoxGeometry b => new BoxShape(b.X, b.Y, b.Width, b.Height),
        PolygonGeometry p => new PolygonShape(p.Rings),
        MaskGeometry m => new MaskShape([.. m.Runs]),
        var other => throw new InvalidOperationException($"no shape for {other.GetType().Name}"),
    };

    /// <summary>An image's counts split by label: true positives by their label, false positives by the submitted label, false negatives by the truth's.</summary>
    private static IEnumerable<(Guid Label, QualityCounts Counts)> PerLabel(ImageMatch m) =>
        m.Pairs.Select(p => (p.Label, new QualityCounts(1, 0, 0, p.Iou)))
            .Concat(m.FalsePositives.Select(f => (f.Label, new QualityCounts(0, 1, 0, 0))))
            .Concat(m.FalseNegatives.Select(f => (f.Label, new QualityCounts(0, 0, 1, 0))))
            .GroupBy(x => x.Item1).Select(g => (g.Key, Sum(g.Select(x => x.Item2))));

    private static QualityCounts Sum(IEnumerable<QualityCounts> counts) => counts.Aggregate(default(QualityCounts), (a, b) => a + b);
}
