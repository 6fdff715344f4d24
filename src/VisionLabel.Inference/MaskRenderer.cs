using System.Numerics;
using VisionLabel.Shapes;

namespace VisionLabel.Inference;

/// <summary>
/// Instance masks the way Ultralytics does for full-resolution output (process_mask_native): mask logits =
/// coefficients · prototypes; the letterbox padding is cut off in prototype space; the rest is bilinearly
/// upsampled (align_corners = false) to the original image; pixels outside the box are dropped; logit > 0
/// (sigmoid > 0.5) is foreground. Only the box's own region is ever computed.
/// </summary>
public static class MaskRenderer
{
    public readonly record struct ProtoView(float[] Data, int Offset, int Channels, int Height, int Width);

    /// <summary>Renders the mask inside <paramref name="box"/> (original pixels) as a row-major byte grid plus its origin.</summary>
    public static (byte[] Pixels, int X0, int Y0, int W, int H) Render(ReadOnlySpan<float> coefficients, ProtoView protos, BoxF box, int imageWidth, int imageHeight)
    {
        // Pixel columns/rows inside the box: x >= x1 and x < x2 (integer pixel indices against float edges).
        int x0 = Math.Max(0, (int)MathF.Ceiling(box.X)), x1 = Math.Min(imageWidth, (int)MathF.Ceiling(box.Right));
        int y0 = Math.Max(0, (int)MathF.Ceiling(box.Y)), y1 = Math.Min(imageHeight, (int)MathF.Ceiling(box.Bottom));
        int w = Math.Max(0, x1 - x0), h = Math.Max(0, y1 - y0);
        var pixels = new byte[w * h];
        if (w == 0 || h == 0) return (pixels, x0, y0, w, h);

        int mh = protos.Height, mw = protos.Width;
        double gain = Math.Min((double)mh / imageHeight, (double)mw / imageWidth);
        int padX = (int)((mw - imageWidth * gain) / 2), padY = (int)((mh - imageHeight * gain) / 2);
        int cropW = mw - 2 * padX, cropH = mh - 2 * padY;
        double sx = (double)cropW / imageWidth, sy = (double)cropH / imageHeight;

        // Prototype cells the box's pixels sample from (one cell of margin for the bilinear neighbour).
        var (gx0, _, _) = Source(x0, sx, cropW);
        var (gx1, _, _) = Source(x1 - 1, sx, cropW);
        var (gy0, _, _) = Source(y0, sy, cropH);
        var (gy1, _, _) = Source(y1 - 1, sy, cropH);
        gx1 = Math.Min(gx1 + 1, cropW - 1);
        gy1 = Math.Min(gy1 + 1, cropH - 1);
        int lw = gx1 - gx0 + 1, lh = gy1 - gy0 + 1;

        // Logits over that window: sum_k c[k] * P[k], one vectorised axpy per prototype row.
        var logits = new float[lw * lh];
        for (int k = 0; k < protos.Channels; k++)
        {
            float c = coefficients[k];
            for (int r = 0; r < lh; r++)
            {
                var src = protos.Data.AsSpan(protos.Offset + k * mh * mw + (padY + gy0 + r) * mw + padX + gx0, lw);
                Axpy(c, src, logits.AsSpan(r * lw, lw));
            }
        }

        var xTaps = new (int I0, int I1, float L1)[w];
        for (int x = 0; x < w; x++)
        {
            var (i0, i1, l1) = Source(x0 + x, sx, cropW);
            xTaps[x] = (i0 - gx0, i1 - gx0, l1);
        }
        for (int y = 0; y < h; y++)
        {
            var (j0, j1, ly1) = Source(y0 + y, sy, cropH);
            var row0 = logits.AsSpan((j0 - gy0) * lw, lw);
            var row1 = logits.AsSpan((j1 - gy0) * lw, lw);
            float ly0 = 1 - ly1;
            for (int x = 0; x < w; x++)
            {
                var (i0, i1, lx1) = xTaps[x];
                float lx0 = 1 - lx1;
                float v = ly0 * (lx0 * row0[i0] + lx1 * row0[i1]) + ly1 * (lx0 * row1[i0] + lx1 * row1[i1]);
                pixels[y * w + x] = v > 0 ? (byte)1 : (byte)0;
            }
        }
        return (pixels, x0, y0, w, h);
    }

    /// <summary>PyTorch's bilinear source index (align_corners=false): clamp below at 0, neighbour clamped at the edge.</summary>
    private static (int I0, int I1, float Lambda1) Source(int dst, double scale, int size)
    {
        double src = Math.Max(0, (dst + 0.5) * scale - 0.5);
        int i0 = Math.Min((int)src, size - 1);
        int i1 = i0 + (i0 < size - 1 ? 1 : 0);
        return (i0, i1, (float)(src - i0));
    }

    private static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<float>(a);
            for (; i <= x.Length - Vector<float>.Count; i += Vector<float>.Count)
                (new Vector<float>(y[i..]) + va * new Vector<float>(x[i..])).CopyTo(y[i..]);
        }
        for (; i < x.Length; i++) y[i] += a * x[i];
    }

    /// <summary>The whole-image COCO RLE of a mask that is empty outside one window (see <see cref="CocoRle.FromWindow"/>).</summary>
    public static RleMask ToRle(byte[] window, int x0, int y0, int w, int h, int imageWidth, int imageHeight) =>
        new(imageHeight, imageWidth, CocoRle.FromWindow(window, x0, y0, w, h, imageWidth, imageHeight));
}
