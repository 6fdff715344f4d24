using VisionLabel.Shapes;

namespace VisionLabel.Inference.Tiling;

/// <summary>Whole-image COCO RLE masks combined without ever expanding them to the image (which may be 100 megapixels).</summary>
public static class RleUnion
{
    /// <summary>The union of two masks of the same image: their foreground runs merged as sorted intervals, O(runs).</summary>
    public static RleMask Union(RleMask a, RleMask b)
    {
        if (a.Width != b.Width || a.Height != b.Height) throw new ArgumentException("masks of different images");
        var merged = Intervals(a.Counts).Concat(Intervals(b.Counts)).OrderBy(i => i.Start).ToList();
        long total = (long)a.Width * a.Height;
        var counts = new List<long>();
        long at = 0, start = -1, end = -1;
        foreach (var (s, e) in merged)
        {
            if (start >= 0 && s <= end) { end = Math.Max(end, e); continue; }
            if (start >= 0) { counts.Add(start - at); counts.Add(end - start); at = end; }
            (start, end) = (s, e);
        }
        if (start >= 0) { counts.Add(start - at); counts.Add(end - start); at = end; }
        if (at < total || counts.Count == 0) counts.Add(total - at); // canonical, as CocoRle.FromWindow: no empty last run
        return new RleMask(a.Height, a.Width, counts.ToArray());
    }

    /// <summary>Foreground [start, end) in column-major pixel order.</summary>
    private static IEnumerable<(long Start, long End)> Intervals(long[] counts)
    {
        long at = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            if ((i & 1) == 1 && counts[i] > 0) yield return (at, at + counts[i]);
            at += counts[i];
        }
    }

    /// <summary>The mask's pixels inside one window, row-major (what <see cref="MaskContours.Trace"/> reads).</summary>
    public static byte[] Window(RleMask mask, int x0, int y0, int w, int h)
    {
        var window = new byte[w * h];
        foreach (var (s, e) in Intervals(mask.Counts))
        {
            // Columns the run touches; within each, the rows it covers clipped to the window.
            for (long x = s / mask.Height, xEnd = (e - 1) / mask.Height; x <= xEnd; x++)
            {
                if (x < x0 || x >= x0 + w) continue;
                long colStart = x * mask.Height;
                long r0 = Math.Max(s - colStart, y0), r1 = Math.Min(e - colStart, y0 + h);
                for (long y = r0; y < r1; y++) window[(y - y0) * w + (x - x0)] = 1;
            }
        }
        return window;
    }
}
