using System.Numerics;
using System.Runtime.CompilerServices;
using VisionLabel.Imaging;

namespace VisionLabel.Inference;

/// <summary>Where the resized image sits inside the model input: original = (input - pad) / scale.</summary>
public readonly record struct LetterboxGeometry(double Scale, int PadLeft, int PadTop, int ResizedWidth, int ResizedHeight, int SourceWidth, int SourceHeight);

/// <summary>How a model family wants its input: the resized image centred (else at the top-left corner), channels
/// in BGR order (else RGB), each value times Unit (1/255, or 1 for raw 0..255).</summary>
public sealed record LetterboxStyle(bool Centered, bool Bgr, float Unit);

/// <summary>
/// Resize-with-padding into a planar float tensor slot in one pass per row.
/// Ultralytics: centred, RGB, value/255, pad 114. YOLOX: top-left, BGR, raw 0..255, pad 114.
/// Resampling is bilinear with pixel-centre alignment (as OpenCV INTER_LINEAR) in integer fixed point
/// (11-bit weights, rounded once at the end), so the result is exact and reproducible: the reference
/// pipeline in tests/reference computes the same bytes.
/// </summary>
public static class Letterbox
{
    private const int CoefBits = 11;
    private const int CoefScale = 1 << CoefBits;
    private const int PadValue = 114;

    public static LetterboxGeometry Geometry(ModelFamily family, int srcW, int srcH, int dstW, int dstH) =>
        Geometry(ModelAdapters.For(family).Letterbox, srcW, srcH, dstW, dstH);

    public static LetterboxGeometry Geometry(LetterboxStyle style, int srcW, int srcH, int dstW, int dstH)
    {
        double r = Math.Min((double)dstH / srcH, (double)dstW / srcW);
        if (!style.Centered)
        {
            // YOLOX preproc: int() truncation, image at the top-left corner.
            return new LetterboxGeometry(r, 0, 0, Math.Max(1, (int)(srcW * r)), Math.Max(1, (int)(srcH * r)), srcW, srcH);
        }
        // Ultralytics LetterBox: Python round() (half to even, as Math.Round), borders split with the ±0.1 rule.
        int w = Math.Max(1, (int)Math.Round(srcW * r)), h = Math.Max(1, (int)Math.Round(srcH * r));
        double dw = (dstW - w) / 2.0, dh = (dstH - h) / 2.0;
        return new LetterboxGeometry(r, (int)Math.Round(dw - 0.1), (int)Math.Round(dh - 0.1), w, h, srcW, srcH);
    }

    /// <summary>Fills one CHW slot (3 * dstH * dstW floats) of a batch tensor.</summary>
    public static LetterboxGeometry Fill(RgbImage image, ModelFamily family, Span<float> slot, int dstW, int dstH) =>
        Fill(image, ModelAdapters.For(family).Letterbox, slot, dstW, dstH);

    public static LetterboxGeometry Fill(RgbImage image, LetterboxStyle style, Span<float> slot, int dstW, int dstH)
    {
        var g = Geometry(style, image.Width, image.Height, dstW, dstH);
        bool bgr = style.Bgr;
        float unit = style.Unit;
        int plane = dstW * dstH;
        if (slot.Length < plane * 3) throw new ArgumentException("tensor slot too small", nameof(slot));

        float padValue = PadValue * unit;
        // Tensor channel 0 reads source channel m0 (R for RGB models, B for BGR ones); channel 1 is always G.
        int m0 = bgr ? 2 : 0, m2 = bgr ? 0 : 2;

        if (g.ResizedWidth == image.Width && g.ResizedHeight == image.Height)
        {
            // No resampling (weights would be 2048/0): convert the pixels straight through a lookup table.
            Span<float> lut = stackalloc float[256];
            for (int v = 0; v < 256; v++) lut[v] = v * unit;
            for (int y = 0; y < dstH; y++)
            {
                int ry = y - g.PadTop;
                PadRow(slot, plane, y, dstW, ry, g, padValue);
                if (ry < 0 || ry >= g.ResizedHeight) continue;
                for (int c = 0; c < 3; c++)
                {
                    var outRow = slot.Slice(c * plane + y * dstW, dstW);
                    int channel = c == 0 ? m0 : c == 1 ? 1 : m2;
                    var src = image.Pixels.AsSpan(ry * image.Width * 3 + channel);
                    var dst = outRow.Slice(g.PadLeft, g.ResizedWidth);
                    for (int x = 0; x < dst.Length; x++) dst[x] = lut[src[x * 3]];
                }
            }
            return g;
        }

        var xs = XTable(image.Width, g.ResizedWidth);
        int[] rowA = new int[g.ResizedWidth * 3], rowB = new int[g.ResizedWidth * 3];
        int cachedA = -1, cachedB = -1;
        double scaleY = (double)image.Height / g.ResizedHeight;

        for (int y = 0; y < dstH; y++)
        {
            int ry = y - g.PadTop;
            PadRow(slot, plane, y, dstW, ry, g, padValue);
            if (ry < 0 || ry >= g.ResizedHeight) continue;

            var (sy, wy) = Tap(ry, scaleY, image.Height);
            int sy1 = Math.Min(sy + 1, image.Height - 1);
            // Horizontal passes for the two source rows, reusing the previous ones when they repeat.
            if (cachedA != sy)
            {
                if (cachedB == sy) { (rowA, rowB) = (rowB, rowA); (cachedA, cachedB) = (cachedB, cachedA); }
                else { Horizontal(image, sy, xs, rowA, m0, m2); cachedA = sy; }
            }
            if (cachedB != sy1) { Horizontal(image, sy1, xs, rowB, m0, m2); cachedB = sy1; }

            int w0 = wy, w1 = CoefScale - wy;
            for (int c = 0; c < 3; c++)
            {
                var outRow = slot.Slice(c * plane + y * dstW + g.PadLeft, g.ResizedWidth);
                Vertical(rowA.AsSpan(c * g.ResizedWidth, g.ResizedWidth), rowB.AsSpan(c * g.ResizedWidth, g.ResizedWidth), w0, w1, unit, outRow);
            }
        }
        return g;
    }

    /// <summary>Fills the padding of output row y in all three planes: the whole row above/below the image, else its sides.</summary>
    private static void PadRow(Span<float> slot, int plane, int y, int dstW, int ry, LetterboxGeometry g, float padValue)
    {
        for (int c = 0; c < 3; c++)
        {
            var outRow = slot.Slice(c * plane + y * dstW, dstW);
            if (ry < 0 || ry >= g.ResizedHeight) { outRow.Fill(padValue); continue; }
            outRow[..Math.Min(g.PadLeft, dstW)].Fill(padValue);
            int right = g.PadLeft + g.ResizedWidth;
            if (right < dstW) outRow[right..].Fill(padValue);
        }
    }

    /// <summary>Planar horizontal pass: row[c * width + x] = p0 * a + p1 * (2048 - a), channels reordered to m0, 1, m2.</summary>
    private static void Horizontal(RgbImage img, int sy, (int X0, int X1, int W)[] taps, int[] row, int m0, int m2)
    {
        var src = img.Pixels.AsSpan(sy * img.Width * 3, img.Width * 3);
        int width = taps.Length;
        for (int x = 0; x < width; x++)
        {
            var (x0, x1, a) = taps[x];
            int b = CoefScale - a;
            int i0 = x0 * 3, i1 = x1 * 3;
            row[x] = src[i0 + m0] * a + src[i1 + m0] * b;
            row[width + x] = src[i0 + 1] * a + src[i1 + 1] * b;
            row[2 * width + x] = src[i0 + m2] * a + src[i1 + m2] * b;
        }
    }

    /// <summary>
    /// out = ((a * w0 + b * w1 + 2^21) >> 22) * unit, vectorised. Exact integer maths; the float step is one
    /// correctly rounded multiply, which the reference reproduces.
    /// </summary>
    private static void Vertical(ReadOnlySpan<int> a, ReadOnlySpan<int> b, int w0, int w1, float unit, Span<float> output)
    {
        int n = output.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<int>.Count)
        {
            var vw0 = new Vector<int>(w0);
            var vw1 = new Vector<int>(w1);
            var round = new Vector<int>(1 << (2 * CoefBits - 1));
            var vunit = new Vector<float>(unit);
            for (; i <= n - Vector<int>.Count; i += Vector<int>.Count)
            {
                var sum = new Vector<int>(a[i..]) * vw0 + new Vector<int>(b[i..]) * vw1 + round;
                var v = Vector.ShiftRightArithmetic(sum, 2 * CoefBits);
                (Vector.ConvertToSingle(v) * vunit).CopyTo(output[i..]);
            }
        }
        for (; i < n; i++) output[i] = ((a[i] * w0 + b[i] * w1 + (1 << (2 * CoefBits - 1))) >> (2 * CoefBits)) * unit;
    }

    /// <summary>Source index and weight of the first tap for destination coordinate d (pixel centres aligned).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (int Index, int Weight) Tap(int d, double scale, int size)
    {
        double f = (d + 0.5) * scale - 0.5;
        int s = (int)Math.Floor(f);
        f -= s;
        if (s < 0) { s = 0; f = 0; }
        if (s >= size - 1) { s = size - 1; f = 0; }
        return (s, (int)Math.Round((1 - f) * CoefScale)); // Math.Round: half to even, as the reference
    }

    private static (int X0, int X1, int W)[] XTable(int srcW, int dstW)
    {
        double scale = (double)srcW / dstW;
        var taps = new (int, int, int)[dstW];
        for (int x = 0; x < dstW; x++)
        {
            var (s, w) = Tap(x, scale, srcW);
            taps[x] = (s, Math.Min(s + 1, srcW - 1), w);
        }
        return taps;
    }
}
