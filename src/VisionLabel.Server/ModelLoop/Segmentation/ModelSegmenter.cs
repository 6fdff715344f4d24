using VisionLabel.Imaging;
using VisionLabel.Inference;
using VisionLabel.Shapes;

namespace VisionLabel.Server.ModelLoop;

/// <summary>
/// A YOLO segmentation model on the crop around the prompt (letterboxed to the model's size by its adapter),
/// class-agnostic: the instance whose box fits the prompt box best (IoU at least <see cref="MinBoxIoU"/>), or the most
/// confident one whose mask holds every positive point and no negative one.
/// </summary>
internal static class ModelSegmenter
{
    public const double MinBoxIoU = 0.5;
    private static readonly DetectionOptions Options = new() { Confidence = 0.05f, MaxDetections = 100, Polygons = false };

    /// <returns>The instance's mask in crop pixels, or null when the model found none that fits.</returns>
    public static MaskWindow? Segment(Detector detector, RgbImage crop, Prompt prompt)
    {
        var buffers = detector.CreateBuffers(detector.BatchSize(1));
        var geometry = detector.Preprocess(crop, buffers.Slot(0, detector.SlotLength));
        detector.Run(buffers, buffers.Capacity); // a fixed-batch model runs its whole batch: the other slots are blank
        var found = detector.Postprocess(buffers, 0, geometry, Options).Where(d => d.Mask is not null).ToList();
        Detection? best;
        if (prompt.Box is { } b)
        {
            var asked = new BoxF((float)b.X, (float)b.Y, (float)b.Width, (float)b.Height);
            best = found.Select(d => (d, IoU: BoxF.IoU(d.Box, asked))).Where(x => x.IoU >= MinBoxIoU)
                .OrderByDescending(x => x.IoU).ThenByDescending(x => x.d.Score).Select(x => x.d).FirstOrDefault();
        }
        else
        {
            best = found.Where(d => Holds(d.Mask!, prompt)).OrderByDescending(d => d.Score).FirstOrDefault();
        }
        if (best?.Mask is not { } mask) return null;
        // The detection's RLE is column-major over the crop; the window is row-major.
        var columns = CocoRle.ToMask(mask.Counts, mask.Height, mask.Width);
        var rows = new byte[columns.Length];
        for (int x = 0; x < mask.Width; x++)
            for (int y = 0; y < mask.Height; y++)
                rows[y * mask.Width + x] = columns[x * mask.Height + y];
        return new MaskWindow(rows, 0, 0, mask.Width, mask.Height, Math.Round(best.Score, 4));
    }

    private static bool Holds(RleMask mask, Prompt prompt)
    {
        bool At(SegmentPoint p)
        {
            int x = (int)p.X, y = (int)p.Y;
            if (x < 0 || y < 0 || x >= mask.Width || y >= mask.Height) return false;
            long index = (long)x * mask.Height + y, at = 0;
            for (int i = 0; i < mask.Counts.Length; i++)
            {
                if (index < at + mask.Counts[i]) return (i & 1) == 1;
                at += mask.Counts[i];
            }
            return false;
        }
        return prompt.Points.All(p => At(p) == p.Positive);
    }
}
