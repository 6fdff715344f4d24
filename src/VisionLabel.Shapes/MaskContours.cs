namespace VisionLabel.Shapes;

/// <summary>
/// Outlines of a binary mask for editing: each 8-connected component is traced with Moore-neighbour tracing, and so is
/// each of its holes (4-connected background not reaching the image edge); both are simplified with Douglas–Peucker.
/// A COCO polygon is a union of rings and cannot say "minus this ring", so each hole is joined into its region's outer
/// ring by a zero-width "keyhole" bridge (out from the hole's vertex nearest the ring, around the hole the other way,
/// back): each region stays one ring, and even-odd or nonzero filling (COCO's rasterisation, the editor's canvas)
/// leaves the hole empty, as Ultralytics' merge_multi_segment does for multi-part segments. A component inside a hole
/// (an island) is a ring of its own. The RLE mask stays the exact shape; the polygon is the editable approximation.
/// </summary>
public static class MaskContours
{
    // Clockwise in image coordinates (y down), starting west.
    private static readonly (int Dx, int Dy)[] Directions = [(-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1)];
    private static readonly (int Dx, int Dy)[] Sides = [(-1, 0), (1, 0), (0, -1), (0, 1)];

    /// <summary>
    /// Rings as flat [x0,y0,x1,y1,…] in image pixels (pixel centres), offset by the window origin; components and holes
    /// under <paramref name="minPixels"/> pixels are left out.
    /// </summary>
    public static List<float[]> Trace(byte[] mask, int w, int h, int originX, int originY, float epsilon = 1f, int minPixels = 4)
    {
        var rings = new List<float[]>();
        if (w == 0 || h == 0) return rings;
        int n = w * h;
        // One label per pixel: components 1, 2, … (8-connected), background regions -1, -2, … (4-connected, the dual).
        int[] labels = System.Buffers.ArrayPool<int>.Shared.Rent(n);
        int[] stack = System.Buffers.ArrayPool<int>.Shared.Rent(n);
        try
        {
            Array.Clear(labels, 0, n);
            var components = new List<(int Start, int Size)>();
            var holes = new Dictionary<int, List<List<(int X, int Y)>>>();
            int backgrounds = 0;
            for (int start = 0; start < n; start++)
            {
                if (labels[start] != 0) continue;
                if (mask[start] != 0)
                {
                    int id = components.Count + 1;
                    components.Add((start, Fill(mask, w, h, labels, stack, start, id, eight: true, out _)));
                    continue;
                }
                int label = -++backgrounds;
                int size = Fill(mask, w, h, labels, stack, start, label, eight: false, out bool edge);
                if (edge || size < minPixels) continue; // the outside, or a hole too small to keep
                // The raster-first pixel of a hole has its enclosing component right above it (anything inside the
                // hole lies below its top row).
                int owner = labels[start - w];
                var outline = Simplify(Outline((x, y) => x >= 0 && y >= 0 && x < w && y < h && labels[y * w + x] == label, start % w, start / w, n), epsilon);
                if (outline.Count < 3) continue;
                outline.Reverse(); // the hole runs against its outer ring, so nonzero filling leaves it empty too
                if (!holes.TryGetValue(owner, out var list)) holes[owner] = list = [];
                list.Add(outline);
            }
            for (int c = 0; c < components.Count; c++)
            {
                var (start, size) = components[c];
                if (size < minPixels) continue;
                var ring = Simplify(Outline((x, y) => x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] != 0, start % w, start / w, n), epsilon);
                if (ring.Count < 3) continue;
                if (holes.TryGetValue(c + 1, out var inner))
                    foreach (var hole in inner) ring = Keyhole(ring, hole);
                var flat = new float[ring.Count * 2];
                for (int i = 0; i < ring.Count; i++)
                {
                    flat[2 * i] = originX + ring[i].X + 0.5f;
                    flat[2 * i + 1] = originY + ring[i].Y + 0.5f;
                }
                rings.Add(flat);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<int>.Shared.Return(labels);
            System.Buffers.ArrayPool<int>.Shared.Return(stack);
        }
        return rings;
    }

    /// <summary>Labels the region of equal mask value containing <paramref name="start"/>; returns its pixel count.</summary>
    private static int Fill(byte[] mask, int w, int h, int[] labels, int[] stack, int start, int label, bool eight, out bool edge)
    {
        bool on = mask[start] != 0;
        int size = 0, top = 0;
        edge = false;
        labels[start] = label;
        stack[top++] = start;
        while (top > 0)
        {
            int p = stack[--top];
            size++;
            int px = p % w, py = p / w;
            if (px == 0 || py == 0 || px == w - 1 || py == h - 1) edge = true;
            if (eight)
            {
                int x0 = px > 0 ? px - 1 : px, x1 = px < w - 1 ? px + 1 : px;
                int y0 = py > 0 ? py - 1 : py, y1 = py < h - 1 ? py + 1 : py;
                for (int qy = y0; qy <= y1; qy++)
                for (int q = qy * w + x0, end = qy * w + x1; q <= end; q++)
                {
                    if (labels[q] != 0 || (mask[q] != 0) != on) continue;
                    labels[q] = label;
                    stack[top++] = q;
                }
            }
            else
                foreach (var (dx, dy) in Sides)
                {
                    int qx = px + dx, qy = py + dy;
                    if (qx < 0 || qy < 0 || qx >= w || qy >= h) continue;
                    int q = qy * w + qx;
                    if (labels[q] != 0 || (mask[q] != 0) != on) continue;
                    labels[q] = label;
                    stack[top++] = q;
                }
        }
        return size;
    }

    /// <summary>
    /// The hole spliced into the ring at their closest pair of vertices: … r[j], h[i], h[i+1], …, h[i], r[j], r[j+1] ….
    /// The bridge is walked once each way, so it adds no area and no crossing to any scanline.
    /// </summary>
    public static List<(int X, int Y)> Keyhole(List<(int X, int Y)> ring, List<(int X, int Y)> hole)
    {
        int bestRing = 0, bestHole = 0;
        long best = long.MaxValue;
        for (int j = 0; j < ring.Count; j++)
            for (int i = 0; i < hole.Count; i++)
            {
                long dx = ring[j].X - hole[i].X, dy = ring[j].Y - hole[i].Y, d = dx * dx + dy * dy;
                if (d < best) { best = d; bestRing = j; bestHole = i; }
            }
        var joined = new List<(int X, int Y)>(ring.Count + hole.Count + 2);
        for (int j = 0; j <= bestRing; j++) joined.Add(ring[j]);
        for (int k = 0; k <= hole.Count; k++) joined.Add(hole[(bestHole + k) % hole.Count]);
        for (int j = bestRing; j < ring.Count; j++) joined.Add(ring[j]);
        return joined;
    }

    /// <summary>Moore-neighbour tracing from the region's raster-first pixel, which has no region pixel to its west.</summary>
    private static List<(int X, int Y)> Outline(Func<int, int, bool> On, int sx, int sy, int pixels)
    {
        var points = new List<(int, int)> { (sx, sy) };
        int x = sx, y = sy, back = 0; // we arrived "from the west"
        int firstMove = -1;
        for (int guard = 0; guard < 4 * pixels + 16; guard++)
        {
            int found = -1;
            for (int k = 1; k <= 8; k++)
            {
                int d = (back + k) % 8;
                if (On(x + Directions[d].Dx, y + Directions[d].Dy)) { found = d; break; }
            }
            if (found < 0) return points; // a single pixel
            if (x == sx && y == sy)
            {
                if (firstMove == found) break; // back at the start, about to repeat the first step
                if (firstMove < 0) firstMove = found;
            }
            // The neighbour checked just before the found one is background; seen from the new pixel it is our backtrack.
            int prev = (found + 7) % 8;
            int bx = x + Directions[prev].Dx, by = y + Directions[prev].Dy;
            x += Directions[found].Dx;
            y += Directions[found].Dy;
            back = DirectionOf(bx - x, by - y);
            if (x != sx || y != sy) points.Add((x, y)); // the start is already the first point
        }
        return points;
    }

    private static int DirectionOf(int dx, int dy)
    {
        for (int d = 0; d < 8; d++) if (Directions[d] == (dx, dy)) return d;
        return 0;
    }

    /// <summary>Douglas–Peucker on a closed ring: split at the point farthest from the first, simplify both halves.</summary>
    public static List<(int X, int Y)> Simplify(List<(int X, int Y)> ring, float epsilon)
    {
        if (ring.Count < 4) return ring;
        int far = 0;
        double best = -1;
        for (int i = 1; i < ring.Count; i++)
        {
            double d = Math.Pow(ring[i].X - ring[0].X, 2) + Math.Pow(ring[i].Y - ring[0].Y, 2);
            if (d > best) { best = d; far = i; }
        }
        var keep = new bool[ring.Count + 1];
        keep[0] = keep[far] = keep[ring.Count] = true;
        (int, int) At(int i) => ring[i % ring.Count];
        var stack = new Stack<(int, int)>();
        stack.Push((0, far));
        stack.Push((far, ring.Count));
        while (stack.Count > 0)
        {
            var (a, b) = stack.Pop();
            if (b - a < 2) continue;
            var (ax, ay) = At(a);
            var (bx, by) = At(b);
            double dx = bx - ax, dy = by - ay, len = Math.Sqrt(dx * dx + dy * dy);
            int index = -1;
            double max = 0;
            for (int i = a + 1; i < b; i++)
            {
                var (px, py) = At(i);
                double dist = len == 0 ? Math.Sqrt((px - ax) * (px - ax) + (py - ay) * (py - ay)) : Math.Abs(dy * px - dx * py + bx * ay - by * ax) / len;
                if (dist > max) { max = dist; index = i; }
            }
            if (max > epsilon)
            {
                keep[index] = true;
                stack.Push((a, index));
                stack.Push((index, b));
            }
        }
        var result = new List<(int, int)>();
        for (int i = 0; i < ring.Count; i++) if (keep[i]) result.Add(ring[i]);
        return result;
    }
}
