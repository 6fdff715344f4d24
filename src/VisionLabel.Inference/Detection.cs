using VisionLabel.Shapes;
namespace VisionLabel.Inference;

/// <summary>A box in original-image pixels, top-left origin.</summary>
public readonly record struct BoxF(float X, float Y, float Width, float Height)
{
    public float Right => X + Width;
    public float Bottom => Y + Height;
    public float Area => Width * Height;

    public static float IoU(in BoxF a, in BoxF b)
    {
        float w = Math.Min(a.Right, b.Right) - Math.Max(a.X, b.X);
        float h = Math.Min(a.Bottom, b.Bottom) - Math.Max(a.Y, b.Y);
        if (w <= 0 || h <= 0) return 0;
        float inter = w * h;
        return inter / (a.Area + b.Area - inter);
    }
}

/// <summary>A binary mask as COCO RLE over the whole original image (column-major runs starting with zeros).</summary>
public sealed record RleMask(int Height, int Width, long[] Counts)
{
    public long Area => CocoRle.Area(Counts);
}

public sealed record Detection(int ClassId, float Score, BoxF Box)
{
    public RleMask? Mask { get; init; }
    /// <summary>Score minus the runner-up class's score at the same anchor: small when the model hesitated between two
    /// classes (margin sampling, the queue's "lowest confidence first"). Equal to the score for a one-class model.</summary>
    public float Margin { get; init; }
    /// <summary>Outer outlines of the mask, simplified for editing: rings of x,y pairs in image pixels.</summary>
    public IReadOnlyList<float[]>? Polygons { get; init; }
}

public sealed record DetectionOptions
{
    public float Confidence { get; init; } = 0.25f;
    /// <summary>NMS IoU; null uses the model family's default (Ultralytics 0.7, YOLOX 0.45).</summary>
    public float? Iou { get; init; }
    public int MaxDetections { get; init; } = 300;
    /// <summary>Also trace simplified polygons from masks (segmentation models).</summary>
    public bool Polygons { get; init; } = true;
}
