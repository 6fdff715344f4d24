using OpenCvSharp;

namespace VisionLabel.Tests.Support;

/// <summary>Masks against a truth polygon (the segment tests, in the API and in the editor).</summary>
public static class MaskTruth
{
    /// <summary>The polygon as a row-major 0/1 mask.</summary>
    public static byte[] Rasterise(Point[] polygon, int width, int height)
    {
        using var mat = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        Cv2.FillPoly(mat, [polygon], Scalar.All(1));
        mat.GetArray(out byte[] rows);
        return rows;
    }

    /// <summary>A column-major mask (as COCO RLE decodes) against the row-major truth.</summary>
    public static double IoU(byte[] mask, byte[] truth, int width, int height)
    {
        long inter = 0, union = 0;
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                bool a = mask[x * height + y] != 0, b = truth[y * width + x] != 0;
                if (a && b) inter++;
                if (a || b) union++;
            }
        return union == 0 ? 0 : (double)inter / union;
    }

    /// <summary>The truth's most interior pixel (farthest from its outline): where a person clicks.</summary>
    public static Point Inside(byte[] truth, int width, int height)
    {
        using var mat = Mat.FromPixelData(height, width, MatType.CV_8UC1, truth);
        using var distance = new Mat();
        Cv2.DistanceTransform(mat, distance, DistanceTypes.L2, DistanceTransformMasks.Mask3);
        Cv2.MinMaxLoc(distance, out _, out _, out _, out Point max);
        return max;
    }
}
