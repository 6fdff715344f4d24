using VisionLabel.Shapes;

namespace VisionLabel.Inference.Tiling;

/// <summary>A detection in full-image pixels and where it came from: a slice, or the whole-image pass (Slice null).</summary>
public sealed record SliceDetection(Detection Detection, SliceRect? Slice);

public sealed record MergeOptions
{
    /// <summary>Same-class boxes overlapping more than this are one object (the model family's NMS IoU).</summary>
    public float Iou { get; init; } = 0.7f;
    public int MaxDetections { get; init; } = 300;
    /// <summary>A box this close (pixels) to an inner slice edge is taken as cut by it.</summary>
    public float EdgeTolerance { get; init; } = 2;
    /// <summary>A lesser box this much inside (intersection over its own area) a kept same-class box is a piece of it.</summary>
    public float Containment { get; init; } = 0.6f;
    /// <summary>Whole-image boxes shorter than this on their longer side are dropped: slices saw those objects at full resolution.</summary>
    public float WholeImageMinSide { get; init; }
    /// <summary>Retrace polygons of masks that were joined.</summary>
    public bool Polygons { get; init; } = true;
}

/// <summary>
/// Merges the detections of an image's slices (and of its whole-image pass) into one set in full-resolution pixels:
/// 1. boxes cut by an inner slice edge are joined with their other part across that edge (same class, both cut by the
///    edges of the band two slices share, overlapping along it) into their union, score the higher, masks united;
/// 2. one greedy class-aware suppression over everything, in order of trust: boxes whole in their slice, then large
///    whole-image boxes, then cut or joined ones; a box is dropped when it overlaps a kept same-class box by more than
///    the NMS IoU, and a box still cut by a slice edge also when it is a piece of a kept one (mostly inside it, which
///    goes on past the cut: an object some slice or the whole-image pass saw entire).
/// </summary>
public static class SliceMerge
{
    /// <summary>A working box: its detection, the slice edges (image x or y) it is cut by, and its tier.</summary>
    private sealed record Piece(Detection Detection, float? CutLeft, float? CutRight, float? CutTop, float? CutBottom, bool Whole, SliceRect? Slice = null)
    {
        public bool Cut => CutLeft is not null || CutRight is not null || CutTop is not null || CutBottom is not null;
        public BoxF Box => Detection.Box;
    }

    /// <param name="slices">Every slice of the image (also those where nothing was found): what each one saw.</param>
    public static List<Detection> Merge(IReadOnlyList<SliceDetection> found, IReadOnlyList<SliceRect> slices, int imageWidth, int imageHeight, MergeOptions options)
    {
        // Slices finish in any order (several runs at once): a fixed order makes the merge give the same result every time.
        var inOrder = found.OrderBy(f => f.Slice is null ? 1 : 0).ThenBy(f => f.Slice?.Y ?? 0).ThenBy(f => f.Slice?.X ?? 0)
            .ThenByDescending(f => f.Detection.Score).ThenBy(f => f.Detection.ClassId).ThenBy(f => f.Detection.Box.X).ThenBy(f => f.Detection.Box.Y).ToList();
        var pieces = new List<Piece>(inOrder.Count);
        foreach (var f in inOrder)
        {
            if (f.Slice is not { } s)
            {
                if (Math.Max(f.Detection.Box.Width, f.Detection.Box.Height) >= options.WholeImageMinSide) pieces.Add(new Piece(f.Detection, null, null, null, null, Whole: true));
                continue;
            }
            var b = f.Detection.Box;
            float t = options.EdgeTolerance;
            // Only inner edges cut: an object at the image's own border is as cut as in any photo.
            pieces.Add(new Piece(f.Detection,
                s.X > 0 && b.X <= s.X + t ? s.X : null, s.Right < imageWidth && b.Right >= s.Right - t ? s.Right : null,
                s.Y > 0 && b.Y <= s.Y + t ? s.Y : null, s.Bottom < imageHeight && b.Bottom >= s.Bottom - t ? s.Bottom : null, Whole: false, s));
        }

        var cut = pieces.Where(p => p.Cut && !p.Whole).ToList();
        JoinAcrossEdges(cut, imageWidth, imageHeight, options);
        // A piece that joined nothing though another slice saw all of its box (and past the edge that cut it) is not
        // corroborated: that slice found no object there, whole or cut. Such pieces are fragments (a corner of a photo
        // taken for a person); a real object that goes on past the edge shows in that slice too.
        cut.RemoveAll(p => p.Slice is { } own && slices.Any(other => other != own && Inside(p.Box, other, options.EdgeTolerance)));

        // Trust order, then score.
        var ordered = pieces.Where(p => !p.Cut && !p.Whole).OrderByDescending(p => p.Detection.Score)
            .Concat(pieces.Where(p => p.Whole).OrderByDescending(p => p.Detection.Score))
            .Concat(cut.OrderByDescending(p => p.Detection.Score)).ToList();
        var kept = new List<Piece>();
        foreach (var c in ordered)
        {
            if (kept.Count == options.MaxDetections) break;
            if (!kept.Any(k => k.Detection.ClassId == c.Detection.ClassId && (BoxF.IoU(k.Box, c.Box) > options.Iou || PieceOf(c, k, options)))) kept.Add(c);
        }
        return kept.Select(k => k.Detection).ToList();
    }

    /// <summary>
    /// Whether cut box <paramref name="c"/> is a piece of the object <paramref name="k"/> shows: mostly inside it, and
    /// <paramref name="k"/> goes on past every edge that cut <paramref name="c"/> (it saw what the slice of c could not).
    /// Without the second rule a large low-score box (a dining table) would swallow the smaller objects on it.
    /// </summary>
    private static bool PieceOf(Piece c, Piece k, MergeOptions options)
    {
        if (!c.Cut || InsideOf(c.Box, k.Box) < options.Containment) return false;
        float t = options.EdgeTolerance;
        return (c.CutLeft is not { } l || k.Box.X < l - t) && (c.CutRight is not { } r || k.Box.Right > r + t)
               && (c.CutTop is not { } top || k.Box.Y < top - t) && (c.CutBottom is not { } b || k.Box.Bottom > b + t);
    }

    private static bool Inside(BoxF box, SliceRect slice, float margin) =>
        box.X >= slice.X + margin && box.Y >= slice.Y + margin && box.Right <= slice.Right - margin && box.Bottom <= slice.Bottom - margin;

    /// <summary>Intersection over the area of <paramref name="inner"/>.</summary>
    private static float InsideOf(BoxF inner, BoxF outer)
    {
        float w = Math.Min(inner.Right, outer.Right) - Math.Max(inner.X, outer.X);
        float h = Math.Min(inner.Bottom, outer.Bottom) - Math.Max(inner.Y, outer.Y);
        return w <= 0 || h <= 0 || inner.Area <= 0 ? 0 : w * h / inner.Area;
    }

    /// <summary>
    /// Joins pairs until none is left, so an object over four slices becomes two halves, then one box. A pair is joinable
    /// when one is cut by a right (bottom) edge and the other by a left (top) edge of the band their slices share — the
    /// left one's right edge lies after the right one's left edge — each reaches across the band, and along the edge
    /// their extents overlap by at least half the shorter one.
    /// </summary>
    private static void JoinAcrossEdges(List<Piece> cut, int imageWidth, int imageHeight, MergeOptions options)
    {
        bool joined = true;
        while (joined)
        {
            joined = false;
            for (int i = 0; i < cut.Count && !joined; i++)
            {
                for (int j = 0; j < cut.Count && !joined; j++)
                {
                    if (i == j || cut[i].Detection.ClassId != cut[j].Detection.ClassId) continue;
                    var (a, b) = (cut[i], cut[j]);
                    Piece? union = null;
                    if (a.CutRight is { } r && b.CutLeft is { } l && l < r && a.Box.X < l && b.Box.Right > r && Along(a.Box.Y, a.Box.Bottom, b.Box.Y, b.Box.Bottom))
                        union = Join(a, b, horizontal: true, imageWidth, imageHeight, options);
                    else if (a.CutBottom is { } bottom && b.CutTop is { } top && top < bottom && a.Box.Y < top && b.Box.Bottom > bottom && Along(a.Box.X, a.Box.Right, b.Box.X, b.Box.Right))
                        union = Join(a, b, horizontal: false, imageWidth, imageHeight, options);
                    if (union is null) continue;
                    cut.RemoveAt(Math.Max(i, j));
                    cut.RemoveAt(Math.Min(i, j));
                    cut.Add(union);
                    joined = true;
                }
            }
        }
    }

    private static bool Along(float a0, float a1, float b0, float b1)
    {
        float overlap = Math.Min(a1, b1) - Math.Max(a0, b0);
        return overlap > 0 && overlap >= 0.5f * Math.Min(a1 - a0, b1 - b0);
    }

    /// <summary>The union of <paramref name="first"/> (left or top) and <paramref name="second"/>: the edges that cut the
    /// pair inwards are gone; the outer ones stay, so the union can join again further on.</summary>
    private static Piece Join(Piece first, Piece second, bool horizontal, int imageWidth, int imageHeight, MergeOptions options)
    {
        var (a, b) = (first.Box, second.Box);
        float x0 = Math.Min(a.X, b.X), y0 = Math.Min(a.Y, b.Y), x1 = Math.Max(a.Right, b.Right), y1 = Math.Max(a.Bottom, b.Bottom);
        var best = first.Detection.Score >= second.Detection.Score ? first.Detection : second.Detection;
        var detection = best with { Box = new BoxF(x0, y0, x1 - x0, y1 - y0), Mask = null, Polygons = null };
        if (first.Detection.Mask is { } ma && second.Detection.Mask is { } mb)
        {
            var mask = RleUnion.Union(ma, mb);
            detection = detection with { Mask = mask };
            if (options.Polygons)
            {
                int wx0 = Math.Max(0, (int)MathF.Floor(x0)), wy0 = Math.Max(0, (int)MathF.Floor(y0));
                int w = Math.Min(imageWidth, (int)MathF.Ceiling(x1)) - wx0, h = Math.Min(imageHeight, (int)MathF.Ceiling(y1)) - wy0;
                detection = detection with { Polygons = MaskContours.Trace(RleUnion.Window(mask, wx0, wy0, w, h), w, h, wx0, wy0) };
            }
        }
        return horizontal
            ? new Piece(detection, first.CutLeft, second.CutRight, first.CutTop ?? second.CutTop, first.CutBottom ?? second.CutBottom, Whole: false)
            : new Piece(detection, first.CutLeft ?? second.CutLeft, first.CutRight ?? second.CutRight, first.CutTop, second.CutBottom, Whole: false);
    }
}
