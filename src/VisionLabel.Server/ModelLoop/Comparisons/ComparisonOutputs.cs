using VisionLabel.Inference;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Server.ModelLoop;

/// <summary>A comparison's outputs as stored, and as the matching engine compares them.</summary>
internal static class ComparisonOutputs
{
    public static ComparisonOutput From(Guid comparisonId, Guid imageId, Guid modelId, (Guid Id, string Name) label, Detection d)
    {
        Geometry geometry = d.Mask is { } mask
            ? new MaskGeometry(mask.Height, mask.Width, mask.Counts, (d.Polygons ?? []).Select(r => r.Select(v => Math.Round((double)v, 2)).ToArray()).ToList())
            : new BoxGeometry(Math.Round(d.Box.X, 2), Math.Round(d.Box.Y, 2), Math.Round(d.Box.Width, 2), Math.Round(d.Box.Height, 2));
        return new ComparisonOutput
        {
            ComparisonId = comparisonId, ImageId = imageId, ModelId = modelId, LabelId = label.Id, Label = label.Name, Kind = geometry.Kind,
            Geometry = geometry.ToJsonString(), Score = Math.Round(d.Score, 5),
        };
    }

    /// <summary>
    /// Shapes to match against shapes of <paramref name="otherKinds"/>: a mask or polygon stands as its bounding box when
    /// the other side is boxes only (a detector's boxes or box ground truth), since a box cannot match a mask's pixels.
    /// </summary>
    public static List<MatchItem> Items(IEnumerable<(Guid Id, Guid Label, AnnotationKind Kind, string Geometry)> shapes, bool asBoxes) =>
        shapes.Select(s =>
        {
            if (!asBoxes || s.Kind == AnnotationKind.Box) return new MatchItem(s.Id, s.Label, Quality.QualityReports.ShapeOf(s.Kind, s.Geometry));
            var b = Geometry.Read(s.Kind, s.Geometry).Bounds;
            return new MatchItem(s.Id, s.Label, new BoxShape(b[0], b[1], b[2], b[3]));
        }).ToList();

    public static List<MatchItem> Items(List<ComparisonOutput> outputs, bool asBoxes) =>
        Items(outputs.Select(o => (o.Id, o.LabelId, o.Kind, o.Geometry)), asBoxes);

    /// <summary>1 − the mean, over each two models, of the F1 between their outputs on the image (IoU ≥ 0.5, same label;
    /// two empty outputs agree; a mask against boxes by its bounding box).</summary>
    public static double Disagreement(List<List<ComparisonOutput>> sets, int width, int height)
    {
        double sum = 0;
        int pairs = 0;
        for (int a = 0; a < sets.Count; a++)
            for (int b = a + 1; b < sets.Count; b++, pairs++)
            {
                if (sets[a].Count == 0 && sets[b].Count == 0) { sum += 1; continue; }
                bool boxes = sets[a].All(o => o.Kind == AnnotationKind.Box) || sets[b].All(o => o.Kind == AnnotationKind.Box);
                sum += ShapeMatcher.Match(Items(sets[a], boxes), Items(sets[b], boxes), height, width).Counts.F1;
            }
        return pairs == 0 ? 0 : 1 - sum / pairs;
    }
}
