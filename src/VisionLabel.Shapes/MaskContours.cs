namespace VisionLabel.Shapes;

/// <summary>
/// Outer outlines of a binary mask for editing: each 8-connected component is traced with Moore-neighbour
/// tracing, then simplified with Douglas–Peucker. Holes are not traced: the RLE mask stays the exact shape,
/// the polygon is the editable approximation of it.
/// </summary>
public static class MaskContours
{
    // Clockwise in image coordinates (y down), starting west.
    private static readonly (int Dx, int Dy)[] Directions = [(-1, 0), (-1, -1), (0, -1), (1, -1), (1, 0), (1, 1), (0, 1), (-1, 1)];

    /// <summary>Rings as flat [x0,y0,x1,y1,…] in image pixels (pixel centres), offset by the window origin.</summary>
    public static List<float[]> Trace(byte[] mask, int w, int h, int originX, int originY, float epsilon = 1f, int minPixels = 4)
    {
        var rings = new List<float[]>();
        if (w == 0 || h == 0) return rings;
        byte[] seen = System.Buffers.ArrayPool<byte>.Shared.Rent(mask.Length);
        int[] stack = System.Buffers.ArrayPool<int>.Shared.Rent(mask.Length);
        try
        {
            Array.Clear(seen, 0, mask.Length);
            for (int start = 0; start < mask.Length; start++)
            {
                if (mask[start] == 0 || seen[start] != 0) continue;
                // Mark the whole component so it is traced once; its raster-first pixel has background to the west.
                int size = 0, top = 0;
                seen[start] = 1;
                stack[top++] = start;
                while (top > 0)
                {
                    int p = stack[--top];
                    size++;
                    int px = p % w, py = p / w;
                    int x0 = px > 0 ? px - 1 : px, x1 = px < w - 1 ? px + 1 : px;
                    int y0 = py > 0 ? py - 1 : py, y1 = py < h - 1 ? py + 1 : py;
                    for (int qy = y0; qy <= y1; qy++)
                    for (int q = qy * w + x0, end = qy * w + x1; q <= end; q++)
                    {
                        if (mask[q] == 0 || seen[q] != 0) continue;
                        seen[q] = 1;
                        stack[top++] = q;
                    }
                }
                if (size < minPixels) continue;
                var simplified = Simplify(Outline(mask, w, h, start % w, start / w), epsilon);
                if (simplified.Count < 3) continue;
                var ring = new float[simplified.Count * 2];
                for (int i = 0; i < simplified.Count; i++)
                {
                    ring[2 * i] = originX + simplified[i].X + 0.5f;
                    ring[2 * i + 1] = originY + simplified[i].Y + 0.5f;
                }
                rings.Add(ring);
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(seen);
            System.Buffers.ArrayPool<int>.Shared.Return(stack);
        }
        return rings;
    }

    private static List<(int X, int Y)> Outline(byte[] mask, int w, int h, int sx, int sy)
    {
        bool On(int x, int y) => x >= 0 && y >= 0 && x < w && y < h && mask[y * w + x] != 0;
        var points = new List<(int, int)> { (sx, sy) };
        int x = sx, y = sy, back = 0; // we arrived "from the west"
        int firstMove = -1;
        for (int guard = 0; guard < 4 * mask.Length + 16; guard++)
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
