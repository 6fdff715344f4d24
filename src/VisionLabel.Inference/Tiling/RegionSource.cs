using System.Buffers;
using VisionLabel.Imaging;
using VisionLabel.Shapes;

namespace VisionLabel.Inference.Tiling;

/// <summary>
/// An image too large to decode whole, read a window at a time (the server reads the original file through libvips):
/// the pipeline cuts its slices with <see cref="ReadAsync"/> and runs its whole-image pass (or, with tiling off, its
/// only pass) on a reduced copy from <see cref="OverviewAsync"/>. Pixels come from the pipeline's pool; the pipeline
/// returns them, and disposes the source once it has read what it needs.
/// </summary>
public interface IRegionSource : IDisposable
{
    int Width { get; }
    int Height { get; }

    /// <summary>The pixels of a region inside the image (upright, full resolution).</summary>
    ValueTask<RgbImage> ReadAsync(SliceRect region, ArrayPool<byte> pool, CancellationToken ct);

    /// <summary>The whole image reduced so its longest side is at least <paramref name="minSide"/> (and as little more as the source allows).</summary>
    ValueTask<RgbImage> OverviewAsync(int minSide, ArrayPool<byte> pool, CancellationToken ct);
}

/// <summary>Detections found on an overview, brought back to the full image's pixels.</summary>
public static class OverviewScale
{
    public static List<Detection> ToFull(IReadOnlyList<Detection> found, int overviewWidth, int overviewHeight, int width, int height)
    {
        float sx = (float)width / overviewWidth, sy = (float)height / overviewHeight;
        return found.Select(d => d with
        {
            Box = new BoxF(d.Box.X * sx, d.Box.Y * sy, d.Box.Width * sx, d.Box.Height * sy),
            Mask = d.Mask is { } m ? Resize(m, width, height) : null,
            Polygons = d.Polygons?.Select(r => r.Select((v, i) => i % 2 == 0 ? v * sx : v * sy).ToArray()).ToList(),
        }).ToList();
    }

    /// <summary>
    /// A mask resized to <paramref name="width"/> × <paramref name="height"/> by nearest neighbour, run by run: each
    /// target column repeats its source column with the run edges moved to the target rows, so no full-size pixel
    /// array is made (a 20,000² mask is a few runs per column).
    /// </summary>
    public static RleMask Resize(RleMask mask, int width, int height)
    {
        var pixels = CocoRle.ToMask(mask.Counts, mask.Height, mask.Width); // column-major, overview size (small)
        var counts = new List<long>();
        long run = 0;
        byte value = 0;
        // The target row where each source row starts.
        var rowStart = new int[mask.Height + 1];
        for (int r = 0; r <= mask.Height; r++) rowStart[r] = (int)Math.Ceiling((double)r * height / mask.Height);
        for (int x = 0; x < width; x++)
        {
            int sx = Math.Min(mask.Width - 1, (int)((long)x * mask.Width / width));
            for (int r = 0; r < mask.Height; r++)
            {
                int rows = rowStart[r + 1] - rowStart[r];
                if (rows == 0) continue;
                byte v = pixels[sx * mask.Height + r];
                if (v != value) { counts.Add(run); run = 0; value = v; }
                run += rows;
            }
        }
        counts.Add(run);
        return new RleMask(height, width, counts.ToArray());
    }
}
