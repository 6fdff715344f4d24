using System.Text;

namespace VisionLabel.Shapes;

/// <summary>
/// All of VisionLabel's COCO run-length code, in one place (masks from models, stored masks, dataset masks).
/// COCO run-length encoding (pycocotools' rleToString / rleFrString): column-major runs, starting with a
/// run of zeros, each count LEB-style in 5-bit groups offset by 48, counts after the second delta-coded
/// against the count two before.
/// </summary>
public static class CocoRle
{
    public static string Encode(IReadOnlyList<long> counts)
    {
        var s = new StringBuilder(counts.Count * 2);
        for (int i = 0; i < counts.Count; i++)
        {
            long x = counts[i];
            if (i > 2) x -= counts[i - 2];
            bool more = true;
            while (more)
            {
                long c = x & 0x1f;
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                s.Append((char)(c + 48));
            }
        }
        return s.ToString();
    }

    /// <summary>Decodes a counts string; null if it is not valid RLE text.</summary>
    public static List<long>? Decode(string text)
    {
        var counts = new List<long>();
        int p = 0;
        while (p < text.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= text.Length || k > 12) return null;
                int c = text[p] - 48;
                if (c is < 0 or > 63) return null;
                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1L << (5 * k);
            }
            if (counts.Count > 2) x += counts[^2];
            counts.Add(x);
        }
        return counts;
    }

    /// <summary>Column-major 0/1 mask of height*width from counts.</summary>
    public static byte[] ToMask(IReadOnlyList<long> counts, int height, int width)
    {
        var mask = new byte[height * width];
        long at = 0;
        for (int i = 0; i < counts.Count; i++)
        {
            if ((i & 1) == 1) mask.AsSpan((int)at, (int)counts[i]).Fill(1);
            at += counts[i];
        }
        return mask;
    }

    public static List<long> FromMask(ReadOnlySpan<byte> columnMajor)
    {
        var counts = new List<long>();
        byte current = 0;
        long run = 0;
        foreach (byte b in columnMajor)
        {
            byte v = b != 0 ? (byte)1 : (byte)0;
            if (v != current) { counts.Add(run); run = 0; current = v; }
            run++;
        }
        counts.Add(run);
        return counts;
    }

    /// <summary>
    /// COCO RLE (column-major, starting with zeros) of a whole image that is empty outside one window; O(window)
    /// whatever the image size. Canonical: runs alternate and only the first may be empty, as pycocotools writes.
    /// </summary>
    public static long[] FromWindow(byte[] window, int x0, int y0, int w, int h, int imageWidth, int imageHeight)
    {
        if (w == 0 || h == 0) return [(long)imageWidth * imageHeight];
        var counts = new List<long>();
        long run = 0;
        bool on = false;
        void Zeros(long n)
        {
            if (n == 0) return;
            if (on) { counts.Add(run); run = 0; on = false; }
            run += n;
        }
        Zeros((long)x0 * imageHeight + y0);
        for (int x = 0; x < w; x++)
        {
            if (x > 0) Zeros(imageHeight - h); // bottom of the previous column and top of this one
            for (int y = 0, i = x; y < h; y++, i += w)
            {
                bool v = window[i] != 0;
                if (v != on) { counts.Add(run); run = 0; on = v; }
                run++;
            }
        }
        Zeros((long)(imageHeight - y0 - h) + (long)(imageWidth - x0 - w) * imageHeight);
        counts.Add(run);
        return counts.ToArray();
    }

    /// <summary>Pixels set: the sum of the odd runs.</summary>
    /// <summary>The pixels the runs cover, or -1 when a run is negative or the total passes <paramref name="limit"/>
    /// (untrusted counts: a sum of huge runs would overflow).</summary>
    public static long Covered(IReadOnlyList<long> runs, long limit)
    {
        long total = 0;
        foreach (long r in runs)
        {
            if (r < 0 || r > limit - total) return -1;
            total += r;
        }
        return total;
    }

    public static long Area(IReadOnlyList<long> runs)
    {
        long area = 0;
        for (int i = 1; i < runs.Count; i += 2) area += runs[i];
        return area;
    }

    /// <summary>[x, y, w, h] of a column-major RLE mask (pycocotools' toBbox); zeros for an empty mask.</summary>
    public static double[] Box(IReadOnlyList<long> runs, int height)
    {
        long xs = long.MaxValue, ys = long.MaxValue, xe = -1, ye = -1, at = 0;
        for (int i = 0; i < runs.Count; i++)
        {
            if ((i & 1) == 1 && runs[i] > 0)
            {
                long first = at, last = at + runs[i] - 1;
                long x0 = first / height, x1 = last / height;
                xs = Math.Min(xs, x0);
                xe = Math.Max(xe, x1);
                // A run that spans a column break covers the whole height of the columns in between.
                if (x0 != x1) { ys = 0; ye = height - 1; }
                else { ys = Math.Min(ys, first % height); ye = Math.Max(ye, last % height); }
            }
            at += runs[i];
        }
        return xe < 0 ? [0, 0, 0, 0] : [xs, ys, xe - xs + 1, ye - ys + 1];
    }
}
