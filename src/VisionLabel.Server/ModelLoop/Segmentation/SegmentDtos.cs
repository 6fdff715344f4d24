namespace VisionLabel.Server.ModelLoop;

public sealed record SegmentBox(double X, double Y, double Width, double Height);
public sealed record SegmentPoint(double X, double Y, bool Positive = true);

/// <summary>POST /api/images/{imageId}/segment: a box and/or points (positive and negative) in image pixels, the method
/// (auto, model, grabcut) and, for the model, which segmentation model (default: the project's).</summary>
public sealed record SegmentRequest(SegmentBox? Box = null, IReadOnlyList<SegmentPoint>? Points = null, Guid? ModelId = null, string? Method = null);

/// <summary>A COCO RLE at image size: size [height, width], counts compressed as pycocotools writes them.</summary>
public sealed record SegmentMask(int[] Size, string Counts);

/// <summary>The mask, its outlines as rings of x, y pairs, the method that made it, a score (the model's confidence; for
/// GrabCut with a box, how well the mask's bounds fit the box as IoU; else null), and how long it took.</summary>
public sealed record SegmentResult(SegmentMask Mask, IReadOnlyList<float[]> Polygon, string Method, double? Score, double Ms);

public enum SegmentMethod { Auto, Model, Grabcut }

/// <summary>A mask as a row-major 0/1 window of the image at (X0, Y0).</summary>
internal sealed record MaskWindow(byte[] Pixels, int X0, int Y0, int Width, int Height, double? Score);

/// <summary>The prompt in one coordinate frame (the image's, or a crop's after <see cref="Shift"/>).</summary>
public sealed record Prompt(SegmentBox? Box, IReadOnlyList<SegmentPoint> Points)
{
    public Prompt Shift(int dx, int dy) => new(Box is { } b ? b with { X = b.X - dx, Y = b.Y - dy } : null,
        Points.Select(p => p with { X = p.X - dx, Y = p.Y - dy }).ToList());

    public IEnumerable<SegmentPoint> Positive => Points.Where(p => p.Positive);

    /// <summary>The region the prompt is about: the box, or the positive points' bounds.</summary>
    public (double X, double Y, double Right, double Bottom) Bounds()
    {
        if (Box is { } b) return (b.X, b.Y, b.X + b.Width, b.Y + b.Height);
        var pos = Positive.ToList();
        return (pos.Min(p => p.X), pos.Min(p => p.Y), pos.Max(p => p.X), pos.Max(p => p.Y));
    }
}
