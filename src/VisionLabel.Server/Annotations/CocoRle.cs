using System.Text;

namespace VisionLabel.Server.Annotations;

/// <summary>
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
}
