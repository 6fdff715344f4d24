using OpenCvSharp;
using VisionLabel.Imaging;

namespace VisionLabel.Server.ModelLoop;

/// <summary>
/// GrabCut (OpenCV) on a crop around the prompt: scaled to <see cref="WorkingSide"/> pixels on its longer side, seeded by the box
/// (outside it background, inside it probably foreground) and the points (positive: foreground, negative: background),
/// then upsampled, keeping the connected part under a positive point (else the largest).
/// </summary>
internal static class GrabCutSegmenter
{
    /// <summary>The crop is scaled to this longer side, down or up: GrabCut's smoothness term is tuned for whole photos,
    /// and on small crops it loses the object (on coco128-seg boxes, mean IoU 0.38 at their own size, 0.67 at 400 px;
    /// docs/models-in-the-loop.md).</summary>
    public const int WorkingSide = 400;
    // One iteration: on coco128-seg boxes more did not help (mean IoU 0.69 at 1, 0.67 at 3) and each costs a full graph cut.
    private const int Iterations = 1;
    private const byte Bgd = 0, Fgd = 1, PrBgd = 2, PrFgd = 3;

    /// <param name="crop">The crop; <paramref name="prompt"/> is in its pixels.</param>
    /// <returns>The mask, or null when the prompt leaves nothing that could be the object.</returns>
    public static MaskWindow? Segment(RgbImage crop, Prompt prompt)
    {
        double scale = (double)WorkingSide / Math.Max(crop.Width, crop.Height);
        int sw = Math.Max(1, (int)Math.Round(crop.Width * scale)), sh = Math.Max(1, (int)Math.Round(crop.Height * scale));
        using var full = Mat.FromPixelData(crop.Height, crop.Width, MatType.CV_8UC3, crop.Pixels);
        using var image = new Mat();
        Cv2.Resize(full, image, new Size(sw, sh), interpolation: scale < 1 ? InterpolationFlags.Area : InterpolationFlags.Linear);
        using var mask = new Mat(sh, sw, MatType.CV_8UC1, Scalar.All(prompt.Box is null ? PrBgd : Bgd));
        int radius = Math.Max(2, (int)Math.Round(Math.Min(sw, sh) * 0.015));
        if (prompt.Box is { } b)
            mask[Rect(b.X * scale, b.Y * scale, b.Width * scale, b.Height * scale, sw, sh)].SetTo(Scalar.All(PrFgd));
        else
        {
            // Points only: the crop's edge is background, a disc around each positive point probably foreground.
            Cv2.Rectangle(mask, new Rect(0, 0, sw, sh), Scalar.All(Bgd), 2);
            foreach (var p in prompt.Positive)
                Cv2.Circle(mask, new Point(p.X * scale, p.Y * scale), Math.Max(radius * 3, (int)(Math.Min(sw, sh) * 0.2)), Scalar.All(PrFgd), -1);
        }
        foreach (var p in prompt.Points)
            Cv2.Circle(mask, new Point(p.X * scale, p.Y * scale), radius, Scalar.All(p.Positive ? Fgd : Bgd), -1);
        EnsureBothSides(mask);
        // Negative points may cover the whole box: then nothing may be the object (and GrabCut would refuse to run).
        using (var possible = new Mat())
        {
            Cv2.BitwiseAnd(mask, Scalar.All(1), possible); // FGD and PR_FGD have the low bit set
            if (Cv2.CountNonZero(possible) == 0) return null;
        }

        using var bg = new Mat();
        using var fg = new Mat();
        try { Cv2.GrabCut(image, mask, new Rect(), bg, fg, Iterations, GrabCutModes.InitWithMask); }
        catch (OpenCVException) { return null; } // a degenerate seed (e.g. one colour model without samples)
        using var foreground = new Mat();
        Cv2.BitwiseAnd(mask, Scalar.All(1), foreground);
        // The component is chosen at the working size, and only it is scaled up: on a large crop the label map at full
        // size would cost gigabytes.
        var kept = KeepComponent(foreground, prompt, scale);
        using var small = Mat.FromPixelData(sh, sw, MatType.CV_8UC1, kept);
        using var scaled = new Mat();
        Cv2.Resize(small, scaled, new Size(crop.Width, crop.Height), interpolation: InterpolationFlags.Linear);
        using var binary = new Mat();
        Cv2.Threshold(scaled, binary, 127, 1, ThresholdTypes.Binary);
        binary.GetArray(out byte[] pixels);
        double? score = prompt.Box is { } box ? BoundsIoU(pixels, crop.Width, crop.Height, box) : null;
        return new MaskWindow(pixels, 0, 0, crop.Width, crop.Height, score);
    }

    private static Rect Rect(double x, double y, double w, double h, int maxW, int maxH)
    {
        int x0 = Math.Clamp((int)Math.Floor(x), 0, maxW - 1), y0 = Math.Clamp((int)Math.Floor(y), 0, maxH - 1);
        int x1 = Math.Clamp((int)Math.Ceiling(x + w), x0 + 1, maxW), y1 = Math.Clamp((int)Math.Ceiling(y + h), y0 + 1, maxH);
        return new Rect(x0, y0, x1 - x0, y1 - y0);
    }

    /// <summary>GrabCut learns a colour model of each side: a box over the whole crop leaves no background, so its
    /// edge becomes probably background.</summary>
    private static void EnsureBothSides(Mat mask)
    {
        using var isBackground = new Mat();
        Cv2.InRange(mask, Scalar.All(Bgd), Scalar.All(Bgd), isBackground);
        using var isProbablyBackground = new Mat();
        Cv2.InRange(mask, Scalar.All(PrBgd), Scalar.All(PrBgd), isProbablyBackground);
        if (Cv2.CountNonZero(isBackground) + Cv2.CountNonZero(isProbablyBackground) == 0)
            Cv2.Rectangle(mask, new Rect(0, 0, mask.Width, mask.Height), Scalar.All(PrBgd), 1);
    }

    /// <summary>The connected part (8-connected) under the first positive point that has one, else the largest, as
    /// 0/255 at the working size (<paramref name="scale"/> from the prompt's frame).</summary>
    private static byte[] KeepComponent(Mat binary, Prompt prompt, double scale)
    {
        using var labels = new Mat();
        using var stats = new Mat();
        using var centroids = new Mat();
        int n = Cv2.ConnectedComponentsWithStats(binary, labels, stats, centroids, PixelConnectivity.Connectivity8, MatType.CV_32S);
        int w = binary.Width, h = binary.Height;
        var result = new byte[w * h];
        if (n <= 1) return result;
        int keep = 0;
        foreach (var p in prompt.Positive)
        {
            int x = Math.Clamp((int)(p.X * scale), 0, w - 1), y = Math.Clamp((int)(p.Y * scale), 0, h - 1);
            if (labels.At<int>(y, x) is > 0 and var l) { keep = l; break; }
        }
        if (keep == 0)
        {
            int best = 0;
            for (int i = 1; i < n; i++)
            {
                int area = stats.At<int>(i, (int)ConnectedComponentsTypes.Area);
                if (area > best) (best, keep) = (area, i);
            }
        }
        labels.GetArray(out int[] all);
        for (int i = 0; i < all.Length; i++) if (all[i] == keep) result[i] = 255;
        return result;
    }

    /// <summary>IoU of the mask's bounding box with the prompt box (how well the mask fits what was asked for).</summary>
    public static double BoundsIoU(byte[] pixels, int w, int h, VisionLabel.Server.ModelLoop.SegmentBox box)
    {
        int minX = w, minY = h, maxX = -1, maxY = -1;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                if (pixels[y * w + x] != 0) { minX = Math.Min(minX, x); maxX = Math.Max(maxX, x); minY = Math.Min(minY, y); maxY = Math.Max(maxY, y); }
        if (maxX < 0) return 0;
        var a = new VisionLabel.Inference.BoxF(minX, minY, maxX - minX + 1, maxY - minY + 1);
        var b = new VisionLabel.Inference.BoxF((float)box.X, (float)box.Y, (float)box.Width, (float)box.Height);
        return Math.Round(VisionLabel.Inference.BoxF.IoU(a, b), 4);
    }
}
