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
    private sealed record Submission(Guid Id, Guid ImageId, string Annotator, string? GuidelineVersion = null);

    /// <param name="annotator">Only this person's submissions (e.g. their image rows), or everyone's.</param>
    public async Task<QualityReport> ReportAsync(Guid projectId, QualityGrouping groupBy, double iou, CancellationToken ct, string? annotator = null)
    {
        var truthImages = db.GroundTruth.Where(g => g.ProjectId == projectId).Select(g => g.ImageId);
        var events = await db.WorkEvents.AsNoTracking()
            .Where(e => e.ProjectId == projectId && (e.Kind == WorkEventKind.Submitted || e.Kind == WorkEventKind.AutoApproved) && truthImages.Contains(e.ImageId)
                        && (annotator == null || e.Actor == annotator))
            .Select(e => new { e.Id, e.ImageId, e.Actor, e.GuidelineVersion }).ToListAsync(ct);
        // The first submission of each (image, annotator): ids are time-ordered.
        var submissions = events.GroupBy(e => (e.ImageId, e.Actor)).Select(g => g.MinBy(e => e.Id)!).Select(e => new Submission(e.Id, e.ImageId, e.Actor, e.GuidelineVersion)).ToList();
        var scored = await ScoreAsync(projectId, submissions, iou, ct);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Id, ct);
        string Name(Guid label) => labels.TryGetValue(label, out var l) ? l.Name : label.ToString();

        IEnumerable<QualityRow> rows = groupBy switch
        {
            QualityGrouping.Annotator => scored.GroupBy(s => s.Submission.Annotator).Select(g => QualityRow.From(g.Key, g.Select(s => s.Submission.ImageId).Distinct().Count(),
                Sum(g.Select(s => s.Match.Counts)),
                g.SelectMany(s => s.Match.Confusions).GroupBy(c => (c.TruthLabel, c.SubmittedLabel))
                    .Select(c => new ConfusionCount(Name(c.Key.TruthLabel), Name(c.Key.SubmittedLabel), c.Count())).OrderByDescending(c => c.Count).ToList())),
            QualityGrouping.Label => scored.SelectMany(s => PerLabel(s.Match).Select(l => (l.Label, s.Submission.ImageId, l.Counts)))
                .GroupBy(x => x.Label).Select(g => QualityRow.From(Name(g.Key), g.Select(x => x.ImageId).Distinct().Count(), Sum(g.Select(x => x.Counts)),
                    requiredF1: labels.GetValueOrDefault(g.Key)?.RequiredF1)),
            QualityGrouping.Image => scored.GroupBy(s => s.Submission.ImageId).Select(g => QualityRow.From(g.Key.ToString(), 1, Sum(g.Select(s => s.Match.Counts)))),
            // The guideline version the submission was made under ("unversioned" before any was published).
            _ => scored.GroupBy(s => s.Submission.GuidelineVersion ?? "unversioned").Select(g => QualityRow.From(g.Key, g.Select(s => s.Submission.ImageId).Distinct().Count(),
                Sum(g.Select(s => s.Match.Counts)))),
        };
        return new QualityReport(groupBy, iou, scored.Count, rows.OrderBy(r => r.Key, StringComparer.Ordinal).ToList());
    }

    /// <summary>One submission, when its image has ground truth: its figure, pushed to the project's watchers.</summary>
    public async Task<QualityScored?> ScoreSubmissionAsync(Guid projectId, Guid imageId, Guid submissionId, string annotator, CancellationToken ct = default)
    {
        if (!await db.GroundTruth.AnyAsync(g => g.ImageId == imageId, ct)) return null;
        var scored = await ScoreAsync(projectId, [new Submission(submissionId, imageId, annotator)], 0.5, ct);
        var c = scored[0].Match.Counts;
        var figure = new QualityScored(projectId, imageId, annotator, c.Tp, c.Fp, c.Fn, c.Precision, c.Recall, c.F1, c.MeanIou);
        await live.Clients.Group(Jobs.LiveEvents.QualityGroup(projectId)).SendAsync("QualityScored", figure, ct); // reviewers and owners only
        return figure;
    }

    private async Task<List<(Submission Submission, ImageMatch Match)>> ScoreAsync(Guid projectId, IReadOnlyList<Submission> submissions, double iou, CancellationToken ct)
    {
        var imageIds = submissions.Select(s => s.ImageId).Distinct().ToList();
        var sizes = new Dictionary<Guid, (int W, int H)>();
        var truth = new Dictionary<Guid, List<MatchItem>>();
        foreach (var chunk in imageIds.Chunk(500))
        {
            foreach (var i in await db.Images.AsNoTracking().Where(i => chunk.Contains(i.Id)).Select(i => new { i.Id, i.Width, i.Height }).ToListAsync(ct))
                sizes[i.Id] = (i.Width, i.Height);
            foreach (var g in await db.GroundTruth.AsNoTracking().Where(g => chunk.Contains(g.ImageId)).OrderBy(g => g.Id).ToListAsync(ct)) // id order: ties break the same way every time
                (truth.TryGetValue(g.ImageId, out var list) ? list : truth[g.ImageId] = []).Add(new MatchItem(g.Id, g.LabelId, ShapeOf(g.Kind, g.Geometry), g.Crowd));
        }
        var shapes = new Dictionary<Guid, List<MatchItem>>();
        foreach (var chunk in submissions.Select(s => s.Id).Chunk(500))
            foreach (var s in await db.SubmittedShapes.AsNoTracking().Where(s => chunk.Contains(s.SubmissionId)).OrderBy(s => s.AnnotationId).ToListAsync(ct))
                (shapes.TryGetValue(s.SubmissionId, out var list) ? list : shapes[s.SubmissionId] = []).Add(new MatchItem(s.AnnotationId, s.LabelId, ShapeOf(s.Kind, s.Geometry)));
        return submissions.Where(s => sizes.ContainsKey(s.ImageId)).Select(s =>
        {
            var (w, h) = sizes[s.ImageId];
            return (s, ShapeMatcher.Match(truth.GetValueOrDefault(s.ImageId) ?? [], shapes.GetValueOrDefault(s.Id) ?? [], h, w, iou));
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

/// <summary>Scores each submission whose image has ground truth as it is made, and pushes the figure live.</summary>
public sealed class ScoreOnSubmit(QualityReports reports) : ISubmissionObserver
{
    public Task SubmittedAsync(Guid projectId, Guid imageId, Guid submissionId, string annotator) =>
        reports.ScoreSubmissionAsync(projectId, imageId, submissionId, annotator);
}
