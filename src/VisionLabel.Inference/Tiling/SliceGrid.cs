using System.Buffers;
using VisionLabel.Imaging;

namespace VisionLabel.Inference.Tiling;

/// <summary>One slice of a large image, in that image's pixels.</summary>
public readonly record struct SliceRect(int X, int Y, int Width, int Height)
{
    public int Right => X + Width;
    public int Bottom => Y + Height;
}

/// <summary>Where a slice sits in the image it was cut from: detections are shifted by (X, Y) and masks are that image's size.</summary>
public readonly record struct SlicePlacement(int X, int Y, int ImageWidth, int ImageHeight);

/// <summary>
/// The grid of overlapping model-sized slices over an image. Slices are exactly the model's input size (so they run at
/// 1:1, the scale a photo of that size runs at alone); the last slice of a row or column is moved back to end on the
/// image's edge rather than padded, so every slice is full of image and no slice is narrower than the others.
/// </summary>
public static class SliceGrid
{
    public static List<SliceRect> Plan(int imageWidth, int imageHeight, int sliceWidth, int sliceHeight, double overlap)
    {
        if (overlap is < 0 or > 0.5) throw new ArgumentOutOfRangeException(nameof(overlap), "overlap must be between 0 and 0.5");
        var xs = Starts(imageWidth, sliceWidth, overlap);
        var ys = Starts(imageHeight, sliceHeight, overlap);
        var slices = new List<SliceRect>(xs.Count * ys.Count);
        foreach (int y in ys)
            foreach (int x in xs)
                slices.Add(new SliceRect(x, y, Math.Min(sliceWidth, imageWidth - x), Math.Min(sliceHeight, imageHeight - y)));
        return slices;
    }

    /// <summary>Slice starts along one axis: every stride = size × (1 − overlap), the last one flush with the end.</summary>
    private static List<int> Starts(int length, int size, double overlap)
    {
        if (length <= size) return [0];
        int stride = Math.Max(1, (int)Math.Round(size * (1 - overlap)));
        var starts = new List<int>();
        for (int s = 0; s + size < length; s += stride) starts.Add(s);
        starts.Add(length - size);
        return starts;
    }

    /// <summary>
    /// Copies one slice out of a decoded image. The seam for region readers: a source that can read a window of a
    /// huge file (tiles of a pyramid, libvips) yields the same RgbImage without the whole image ever being in memory.
    /// </summary>
    public static RgbImage Cut(RgbImage image, SliceRect slice, ArrayPool<byte>? pool = null)
    {
        int rowBytes = slice.Width * 3;
        var pixels = pool?.Rent(rowBytes * slice.Height) ?? new byte[rowBytes * slice.Height];
        for (int y = 0; y < slice.Height; y++)
            image.Pixels.AsSpan(((slice.Y + y) * image.Width + slice.X) * 3, rowBytes).CopyTo(pixels.AsSpan(y * rowBytes, rowBytes));
        return new RgbImage(slice.Width, slice.Height, pixels);
    }
}
