namespace VisionLabel.Shapes.Matching;

/// <summary>
/// Shapes as COCO rasterises them, as column-major run lengths at image resolution (the runs start with a run of
/// zeros, as COCO RLE does). Polygons follow pycocotools' rleFrPoly exactly — the outline walked at 5× resolution,
/// its points where it crosses pixel columns taken back to image resolution, each column filled between them — so a
/// polygon covers the same pixels here as in the COCO evaluation; a box is the polygon of its four corners (rleFrBbox).
/// A polygon of several rings covers their union (COCO's several polygons of one annotation).
/// </summary>
public static class CocoRaster
{
    private const double Scale = 5;

    public static long[] Box(double x, double y, double width, double height, int imageHeight, int imageWidth) =>
        Polygon([x, y, x, y + height, x + width, y + height, x + width, y], imageHeight, imageWidth);

    public static long[] Polygons(IReadOnlyList<double[]> rings, int imageHeight, int imageWidth)
    {
        if (rings.Count == 0) return [(long)imageHeight * imageWidth];
        var runs = Polygon(rings[0], imageHeight, imageWidth);
        for (int i = 1; i < rings.Count; i++) runs = Runs.Union(runs, Polygon(rings[i], imageHeight, imageWidth));
        return runs;
    }

    /// <summary>One ring, flat [x0, y0, x1, y1, …].</summary>
    public static long[] Polygon(double[] xy, int h, int w)
    {
        int k = xy.Length / 2;
        if (k == 0) return [(long)h * w];
        var x = new int[k + 1];
        var y = new int[k + 1];
        for (int j = 0; j < k; j++) { x[j] = (int)(Scale * xy[2 * j] + .5); y[j] = (int)(Scale * xy[2 * j + 1] + .5); }
        x[k] = x[0];
        y[k] = y[0];

        // The outline, densely: every step of the longer axis between consecutive vertices (at 5× resolution).
        long total = 0;
        for (int j = 0; j < k; j++) total += Math.Max(Math.Abs(x[j] - x[j + 1]), Math.Abs(y[j] - y[j + 1])) + 1;
        var u = new int[total];
        var v = new int[total];
        int m = 0;
        for (int j = 0; j < k; j++)
        {
            int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
            int dx = Math.Abs(xe - xs), dy = Math.Abs(ys - ye);
            bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
            if (flip) { (xs, xe) = (xe, xs); (ys, ye) = (ye, ys); }
            double s = dx >= dy ? (dx == 0 ? 0 : (double)(ye - ys) / dx) : (double)(xe - xs) / dy;
            if (dx >= dy)
                for (int d = 0; d <= dx; d++) { int t = flip ? dx - d : d; u[m] = t + xs; v[m] = (int)(ys + s * t + .5); m++; }
            else
                for (int d = 0; d <= dy; d++) { int t = flip ? dy - d : d; v[m] = t + ys; u[m] = (int)(xs + s * t + .5); m++; }
        }

        // Where the outline crosses a pixel column's centre, back at image resolution: the rows where each column's runs flip.
        var flips = new List<long>(m / 4 + 2);
        for (int j = 1; j < m; j++)
        {
            if (u[j] == u[j - 1]) continue;
            double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
            xd = (xd + .5) / Scale - .5;
            if (Math.Floor(xd) != xd || xd < 0 || xd > w - 1) continue;
            double yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
            yd = (yd + .5) / Scale - .5;
            yd = yd < 0 ? 0 : yd > h ? h : yd;
            yd = Math.Ceiling(yd);
            flips.Add((long)xd * h + (long)yd);
        }
        flips.Add((long)h * w);
        flips.Sort();

        // Flip positions → run lengths; a zero-length run joins its neighbours.
        var deltas = new long[flips.Count];
        long previous = 0;
        for (int j = 0; j < flips.Count; j++) { deltas[j] = flips[j] - previous; previous = flips[j]; }
        var runs = new List<long>(deltas.Length) { deltas[0] };
        for (int j = 1; j < deltas.Length;)
        {
            if (deltas[j] > 0) runs.Add(deltas[j++]);
            else { j++; if (j < deltas.Length) runs[^1] += deltas[j++]; }
        }
        return [.. runs];
    }
}
