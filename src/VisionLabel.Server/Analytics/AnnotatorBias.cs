using Microsoft.EntityFrameworkCore;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.Analytics;

/// <summary>A label's cell of a person's row: their count, the count expected if they labelled like the rest, and the
/// standardised residual (O − E)/√E (above 2 in size: a label that drives the difference).</summary>
public sealed record LabelDeviation(string Label, long Theirs, double Expected, double Residual);

/// <summary>On images several people labelled independently (consensus): where the others put one label, this person put another.</summary>
public sealed record ConfusionWithOthers(string Theirs, string Others, int Count);

/// <summary>One person against the rest of the project (docs/analytics.md, annotator bias).</summary>
public sealed record AnnotatorBiasRow(string User, long Objects, double? LabelChiSquare, int LabelDof, double? LabelP, IReadOnlyList<LabelDeviation> Labels,
    double? SizeChiSquare, int SizeDof, double? SizeP, IReadOnlyList<ConfusionWithOthers> Confusions, IReadOnlyList<string> Flags);

public sealed record BiasReport(double Alpha, int MinObjects, IReadOnlyList<AnnotatorBiasRow> Annotators);

/// <summary>
/// Annotator bias: each person's label mix and box sizes against everyone else's in the project, on the shapes as
/// submitted (each person's first submission of each image, private copies included), with Pearson's chi-square test
/// of homogeneity; and, where images were labelled by several people (consensus), the label confusions between them.
/// </summary>
public sealed class AnnotatorBias(VisionLabelDb db)
{
    public const int SizeBins = 5;

    public async Task<BiasReport> ReportAsync(Guid projectId, double alpha, int minObjects, string? only, CancellationToken ct)
    {
        var submissions = (await db.WorkEvents.AsNoTracking()
                .Where(e => e.ProjectId == projectId && (e.Kind == WorkEventKind.Submitted || e.Kind == WorkEventKind.AutoApproved))
                .Select(e => new { e.Id, e.ImageId, e.Actor }).ToListAsync(ct))
            .GroupBy(e => (e.ImageId, e.Actor)).Select(g => g.MinBy(e => e.Id)!).ToList();
        var ids = submissions.Select(s => s.Id).ToList();
        var shapes = new List<SubmittedShape>();
        foreach (var chunk in ids.Chunk(500))
            shapes.AddRange(await db.SubmittedShapes.AsNoTracking().Where(s => chunk.Contains(s.SubmissionId)).ToListAsync(ct));
        var bySubmission = shapes.ToLookup(s => s.SubmissionId);
        var labels = await db.Labels.AsNoTracking().Where(l => l.ProjectId == projectId).ToDictionaryAsync(l => l.Id, l => l.Name, ct);
        string Name(Guid id) => labels.GetValueOrDefault(id, id.ToString());
        var objects = submissions.SelectMany(s => bySubmission[s.Id].Select(x => (s.Actor, x.LabelId, Area: Area(x)))).ToList();

        // Consensus copies: the image each copy is of, to compare the people who labelled the same image.
        var copyOf = await db.Images.IgnoreQueryFilters().AsNoTracking().Where(i => i.ProjectId == projectId && i.ReplicaKind == ReplicaKind.Consensus)
            .Select(i => new { i.Id, i.ReplicaOf, i.Width, i.Height }).ToDictionaryAsync(i => i.Id, ct);
        var shared = submissions.Where(s => copyOf.ContainsKey(s.ImageId)).GroupBy(s => copyOf[s.ImageId].ReplicaOf).Where(g => g.Count() >= 2).ToList();

        var people = objects.Select(o => o.Actor).Distinct().Where(p => only is null || p == only).Order(StringComparer.Ordinal).ToList();
        var rows = people.Select(person =>
        {
            var mine = objects.Where(o => o.Actor == person).ToList();
            var rest = objects.Where(o => o.Actor != person).ToList();
            // Label mix: a 2 × K table (this person, the rest) over the labels either used.
            var keys = mine.Concat(rest).Select(o => o.LabelId).Distinct().OrderBy(Name, StringComparer.Ordinal).ToList();
            var (labelChi, labelDof, labelP, cells) = mine.Count >= minObjects && rest.Count >= minObjects
                ? ChiSquare(keys.Select(k => (long)mine.Count(o => o.LabelId == k)).ToArray(), keys.Select(k => (long)rest.Count(o => o.LabelId == k)).ToArray())
                : (null, 0, null, []);
            var drivers = cells.Select((c, i) => new LabelDeviation(Name(keys[i]), c.Observed, Math.Round(c.Expected, 6), Math.Round(c.Residual, 6)))
                .Where(d => Math.Abs(d.Residual) > 2).OrderByDescending(d => Math.Abs(d.Residual)).ToList();
            // Box sizes: the rest's log areas cut into quintiles; a 2 × 5 table of how many fall in each.
            var restSizes = rest.Where(o => o.Area > 0).Select(o => Math.Log(o.Area)).Order().ToArray();
            var mySizes = mine.Where(o => o.Area > 0).Select(o => Math.Log(o.Area)).ToArray();
            var (sizeChi, sizeDof, sizeP, _) = mySizes.Length >= minObjects && restSizes.Length >= minObjects
                ? ChiSquare(Bin(mySizes, restSizes), Bin(restSizes, restSizes)) : (null, 0, null, []);
            var confusions = shared.SelectMany(g =>
                {
                    var me = g.FirstOrDefault(s => s.Actor == person);
                    if (me is null) return [];
                    var size = copyOf[me.ImageId];
                    var myItems = bySubmission[me.Id].Select(Item).ToList();
                    return g.Where(s => s.Actor != person).SelectMany(other =>
                        ShapeMatcher.Match(bySubmission[other.Id].Select(Item).ToList(), myItems, size.Height, size.Width).Confusions);
                })
                .GroupBy(c => (c.SubmittedLabel, c.TruthLabel)).Select(c => new ConfusionWithOthers(Name(c.Key.SubmittedLabel), Name(c.Key.TruthLabel), c.Count()))
                .OrderByDescending(c => c.Count).ToList();
            var flags = new List<string>();
            if (labelP < alpha)
                flags.Add($"label mix differs from the rest of the team (χ² {labelChi:0.0}, p {labelP:0.##e+0})" +
                          (drivers.Count > 0 ? ": " + string.Join(", ", drivers.Select(d => $"{(d.Residual > 0 ? "more" : "fewer")} {d.Label}")) + " than expected" : "") +
                          " — worth a look at their images");
            if (sizeP < alpha) flags.Add($"box sizes differ from the rest of the team (χ² {sizeChi:0.0}, p {sizeP:0.##e+0}) — worth a look at their images");
            return new AnnotatorBiasRow(person, mine.Count, Round(labelChi), labelDof, labelP, drivers, Round(sizeChi), sizeDof, sizeP, confusions, flags);
        }).ToList();
        return new BiasReport(alpha, minObjects, rows);
    }

    private static MatchItem Item(SubmittedShape s) => new(s.AnnotationId, s.LabelId, Quality.QualityReports.ShapeOf(s.Kind, s.Geometry));

    private static double Area(SubmittedShape s)
    {
        var b = Geometry.Read(s.Kind, s.Geometry).Bounds;
        return b[2] * b[3];
    }

    private static double? Round(double? v) => v is { } x ? Math.Round(x, 6) : null;

    /// <summary>How many of values fall in each quintile of reference (cut points at its 20th, 40th, 60th, 80th percentiles).</summary>
    private static long[] Bin(double[] values, double[] reference)
    {
        var cuts = Enumerable.Range(1, SizeBins - 1).Select(k => reference[Math.Min(reference.Length - 1, k * reference.Length / SizeBins)]).ToArray();
        var bins = new long[SizeBins];
        foreach (var v in values) bins[cuts.Count(c => v >= c)]++;
        return bins;
    }

    /// <summary>
    /// Pearson's chi-square test of homogeneity on a 2 × K table (a: this person, b: the rest), over the columns either row
    /// has: χ² = Σ (O − E)² / E with E = row total × column total ÷ grand total, K − 1 degrees of freedom, p = the upper
    /// regularised incomplete gamma Q((K − 1)/2, χ²/2). Also this person's cells (observed, expected, residual).
    /// </summary>
    public static (double? ChiSquare, int Dof, double? P, List<(long Observed, double Expected, double Residual)> Cells) ChiSquare(long[] a, long[] b)
    {
        var columns = Enumerable.Range(0, a.Length).Where(i => a[i] + b[i] > 0).ToList();
        double ra = a.Sum(), rb = b.Sum(), n = ra + rb;
        var cells = new List<(long, double, double)>();
        if (columns.Count < 2 || ra == 0 || rb == 0) return (null, 0, null, cells);
        double chi = 0;
        foreach (int i in columns)
        {
            double col = a[i] + b[i];
            double ea = ra * col / n, eb = rb * col / n;
            chi += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
            cells.Add((a[i], ea, (a[i] - ea) / Math.Sqrt(ea)));
        }
        int dof = columns.Count - 1;
        return (chi, dof, MathNet.Numerics.SpecialFunctions.GammaUpperRegularized(dof / 2.0, chi / 2), cells);
    }
}
