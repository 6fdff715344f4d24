namespace VisionLabel.Shapes.Matching;

/// <summary>A shape to match: a box as stored, polygon rings, or a mask's runs at image size.</summary>
public abstract record Shape
{
    private long[]? _runs;

    /// <summary>The shape's pixels as COCO rasterises them (computed once).</summary>
    public long[] Raster(int height, int width) => _runs ??= Rasterise(height, width);

    protected abstract long[] Rasterise(int height, int width);
}

public sealed record BoxShape(double X, double Y, double Width, double Height) : Shape
{
    protected override long[] Rasterise(int height, int width) => CocoRaster.Box(X, Y, Width, Height, height, width);
}

public sealed record PolygonShape(IReadOnlyList<double[]> Rings) : Shape
{
    protected override long[] Rasterise(int height, int width) => CocoRaster.Polygons(Rings, height, width);
}

/// <summary>A mask: COCO run lengths (column-major, zeros first) over the whole image.</summary>
public sealed record MaskShape(long[] Counts) : Shape
{
    protected override long[] Rasterise(int height, int width) => Counts;
}

/// <summary>One shape of one side: its id, label, geometry, and (ground truth only) whether it is a crowd region.</summary>
public sealed record MatchItem(Guid Id, Guid Label, Shape Shape, bool Crowd = false);

public sealed record MatchedPair(Guid Truth, Guid Submitted, Guid Label, double Iou);

/// <summary>A pair matched class-agnostically whose labels differ: the ground truth said one, the submission another.</summary>
public sealed record Confusion(Guid TruthLabel, Guid SubmittedLabel, Guid Truth, Guid Submitted);

/// <summary>The matching of one image: true positives (pairs), false positives (submitted, unmatched), false negatives
/// (ground truth, unmatched; crowd regions never count), and the confusions.</summary>
public sealed record ImageMatch(IReadOnlyList<MatchedPair> Pairs, IReadOnlyList<MatchItem> FalsePositives, IReadOnlyList<MatchItem> FalseNegatives,
    IReadOnlyList<Confusion> Confusions)
{
    public QualityCounts Counts => new(Pairs.Count, FalsePositives.Count, FalseNegatives.Count, Pairs.Sum(p => p.Iou));
}

/// <summary>
/// The one matching engine (quality scores, consensus, review diffs, model comparisons), exactly as docs/quality.md
/// defines it: shapes are matched per image and per label; a pair is allowed when its IoU ≥ τ; the matching is
/// one-to-one and maximises the total IoU over allowed pairs (<see cref="Hungarian"/>). The IoU of two boxes is the
/// area IoU of the rectangles as stored; any other pair is compared on their COCO rasterisations at image resolution.
/// Crowd ground truth is left out. Confusions: at the same τ, matched class-agnostically, the pairs whose labels differ.
/// </summary>
public static class ShapeMatcher
{
    public static ImageMatch Match(IReadOnlyList<MatchItem> truth, IReadOnlyList<MatchItem> submitted, int height, int width, double tau = 0.5)
    {
        var gt = truth.Where(t => !t.Crowd).ToList();
        var pairs = new List<MatchedPair>();
        var matchedTruth = new HashSet<Guid>();
        var matchedSubmitted = new HashSet<Guid>();
        foreach (var label in gt.Select(t => t.Label).Concat(submitted.Select(s => s.Label)).Distinct())
        {
            var a = gt.Where(t => t.Label == label).ToList();
            var b = submitted.Where(s => s.Label == label).ToList();
            foreach (var (i, j, iou) in Assign(a, b, height, width, tau))
            {
                pairs.Add(new MatchedPair(a[i].Id, b[j].Id, label, iou));
                matchedTruth.Add(a[i].Id);
                matchedSubmitted.Add(b[j].Id);
            }
        }
        var confusions = new List<Confusion>();
        foreach (var (i, j, _) in Assign(gt, submitted, height, width, tau))
            if (gt[i].Label != submitted[j].Label) confusions.Add(new Confusion(gt[i].Label, submitted[j].Label, gt[i].Id, submitted[j].Id));
        return new ImageMatch(pairs, submitted.Where(s => !matchedSubmitted.Contains(s.Id)).ToList(), gt.Where(t => !matchedTruth.Contains(t.Id)).ToList(), confusions);
    }

    /// <summary>The allowed pairs of the maximum-total-IoU one-to-one matching of a and b.</summary>
    private static List<(int A, int B, double Iou)> Assign(IReadOnlyList<MatchItem> a, IReadOnlyList<MatchItem> b, int height, int width, double tau)
    {
        var result = new List<(int, int, double)>();
        if (a.Count == 0 || b.Count == 0) return result;
        var weight = new double[a.Count, b.Count];
        bool any = false;
        for (int i = 0; i < a.Count; i++)
            for (int j = 0; j < b.Count; j++)
            {
                double iou = Iou(a[i].Shape, b[j].Shape, height, width);
                // A disallowed pair weighs nothing: every allowed one weighs at least τ > 0, so dropping the zero
                // pairs of the best full assignment leaves the best matching of allowed pairs.
                if (iou >= tau) { weight[i, j] = iou; any = true; }
            }
        if (!any) return result;
        var assignment = Hungarian.MaxWeight(weight);
        for (int i = 0; i < assignment.Length; i++)
            if (assignment[i] >= 0 && weight[i, assignment[i]] > 0) result.Add((i, assignment[i], weight[i, assignment[i]]));
        return result;
    }

    public static double Iou(Shape a, Shape b, int height, int width)
    {
        if (a is BoxShape p && b is BoxShape q)
        {
            double ix = Math.Max(0, Math.Min(p.X + p.Width, q.X + q.Width) - Math.Max(p.X, q.X));
            double iy = Math.Max(0, Math.Min(p.Y + p.Height, q.Y + q.Height) - Math.Max(p.Y, q.Y));
            double inter = ix * iy, union = p.Width * p.Height + q.Width * q.Height - inter;
            return union > 0 ? inter / union : 0;
        }
        var ra = a.Raster(height, width);
        var rb = b.Raster(height, width);
        long both = Runs.IntersectionArea(ra, rb);
        long either = Runs.Area(ra) + Runs.Area(rb) - both;
        return either > 0 ? (double)both / either : 0;
    }
}

/// <summary>
/// Counts of a matching and the figures from them: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R),
/// accuracy = TP/(TP+FP+FN), meanIoU = the mean IoU of the true positives; each 0 when its denominator is 0.
/// </summary>
public readonly record struct QualityCounts(long Tp, long Fp, long Fn, double IouSum)
{
    public double Precision => Tp + Fp == 0 ? 0 : (double)Tp / (Tp + Fp);
    public double Recall => Tp + Fn == 0 ? 0 : (double)Tp / (Tp + Fn);
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
    public double Accuracy => Tp + Fp + Fn == 0 ? 0 : (double)Tp / (Tp + Fp + Fn);
    public double MeanIou => Tp == 0 ? 0 : IouSum / Tp;

    public static QualityCounts operator +(QualityCounts a, QualityCounts b) => new(a.Tp + b.Tp, a.Fp + b.Fp, a.Fn + b.Fn, a.IouSum + b.IouSum);
}
