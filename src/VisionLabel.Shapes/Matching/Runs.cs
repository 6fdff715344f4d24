namespace VisionLabel.Shapes.Matching;

/// <summary>Set operations on column-major run lengths of one image size (runs alternate zeros and ones, zeros first).</summary>
public static class Runs
{
    public static long Area(IReadOnlyList<long> runs)
    {
        long area = 0;
        for (int i = 1; i < runs.Count; i += 2) area += runs[i];
        return area;
    }

    /// <summary>How many pixels are set in both.</summary>
    public static long IntersectionArea(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        long area = 0;
        Walk(a, b, (inA, inB, length) => { if (inA && inB) area += length; });
        return area;
    }

    public static long[] Union(IReadOnlyList<long> a, IReadOnlyList<long> b)
    {
        var runs = new List<long> { 0 };
        bool current = false;
        Walk(a, b, (inA, inB, length) =>
        {
            bool on = inA || inB;
            if (on != current) { runs.Add(0); current = on; }
            runs[^1] += length;
        });
        return [.. runs];
    }

    /// <summary>Calls <paramref name="segment"/> for each stretch where neither run list changes, in order.</summary>
    private static void Walk(IReadOnlyList<long> a, IReadOnlyList<long> b, Action<bool, bool, long> segment)
    {
        int i = 0, j = 0;
        long leftA = a.Count > 0 ? a[0] : 0, leftB = b.Count > 0 ? b[0] : 0;
        while (true)
        {
            while (leftA == 0 && ++i < a.Count) leftA = a[i];
            while (leftB == 0 && ++j < b.Count) leftB = b[j];
            if (i >= a.Count || j >= b.Count) return;
            long step = Math.Min(leftA, leftB);
            segment(i % 2 == 1, j % 2 == 1, step);
            leftA -= step;
            leftB -= step;
        }
    }
}
