using System.Buffers;

namespace VisionLabel.Imaging;

public static class ImageTransforms
{
    /// <summary>
    /// Shrinks by averaging each output pixel's footprint (a box filter), so thin lines and text survive
    /// a large reduction instead of aliasing. Never enlarges.
    /// </summary>
    public static RgbImage ShrinkToFit(RgbImage source, int longestSide)
    {
        int longest = Math.Max(source.Width, source.Height);
        if (longest <= longestSide) return source;
        double scale = (double)longestSide / longest;
        int dw = Math.Max(1, (int)Math.Round(source.Width * scale));
        int dh = Math.Max(1, (int)Math.Round(source.Height * scale));
        var dst = new RgbImage(dw, dh);
        var src = source.Pixels;
        int sw = source.Width, sh = source.Height;
        var sums = new int[dw * 3];

        for (int dy = 0; dy < dh; dy++)
        {
            int y0 = (int)((long)dy * sh / dh), y1 = Math.Max(y0 + 1, (int)((long)(dy + 1) * sh / dh));
            Array.Clear(sums);
            for (int y = y0; y < y1; y++)
            {
                int row = y * sw * 3;
                for (int dx = 0; dx < dw; dx++)
                {
                    int x0 = (int)((long)dx * sw / dw), x1 = Math.Max(x0 + 1, (int)((long)(dx + 1) * sw / dw));
                    int r = 0, g = 0, b = 0;
                    for (int i = row + x0 * 3, end = row + x1 * 3; i < end; i += 3) { r += src[i]; g += src[i + 1]; b += src[i + 2]; }
                    sums[dx * 3] += r; sums[dx * 3 + 1] += g; sums[dx * 3 + 2] += b;
                }
            }
            int outRow = dy * dw * 3;
            for (int dx = 0; dx < dw; dx++)
            {
                int x0 = (int)((long)dx * sw / dw), x1 = Math.Max(x0 + 1, (int)((long)(dx + 1) * sw / dw));
                int area = (x1 - x0) * (y1 - y0);
                for (int c = 0; c < 3; c++) dst.Pixels[outRow + dx * 3 + c] = (byte)((sums[dx * 3 + c] + area / 2) / area);
            }
        }
        return dst;
    }

    /// <summary>Applies an EXIF orientation (1..8) so the result looks the way a viewer shows the file.</summary>
    /// <param name="pool">When given, the result's pixels come from it and a turned source's go back to it (so the source's
    /// pixels must have come from it too).</param>
    public static RgbImage ApplyOrientation(RgbImage source, int orientation, ArrayPool<byte>? pool = null)
    {
        if (orientation is < 2 or > 8) return source;
        int sw = source.Width, sh = source.Height;
        bool swap = orientation >= 5;
        int dw = swap ? sh : sw, dh = swap ? sw : sh;
        var dst = ImageCodec.NewImage(dw, dh, pool);
        for (int y = 0; y < dh; y++)
        {
            for (int x = 0; x < dw; x++)
            {
                // Where does displayed pixel (x, y) come from in the stored grid?
                (int sx, int sy) = orientation switch
                {
                    2 => (sw - 1 - x, y),
                    3 => (sw - 1 - x, sh - 1 - y),
                    4 => (x, sh - 1 - y),
                    5 => (y, x),
                    6 => (y, sh - 1 - x),
                    7 => (sw - 1 - y, sh - 1 - x),
                    _ => (sw - 1 - y, x), // 8
                };
                int s = (sy * sw + sx) * 3, d = (y * dw + x) * 3;
                dst.Pixels[d] = source.Pixels[s];
                dst.Pixels[d + 1] = source.Pixels[s + 1];
                dst.Pixels[d + 2] = source.Pixels[s + 2];
            }
        }
        pool?.Return(source.Pixels);
        return dst;
    }

    /// <summary>Decodes a whole file and turns it upright (EXIF orientation), as a viewer would show it.</summary>
    /// <param name="pool">Where the pixels come from (the caller returns <see cref="RgbImage.Pixels"/> when done); else a new array.</param>
    public static RgbImage DecodeUpright(ReadOnlySpan<byte> file, ArrayPool<byte>? pool = null)
    {
        var header = ImageHeaderReader.Read(file);
        return ApplyOrientation(ImageCodec.Decode(file, header.Format, pool: pool), header.Orientation, pool);
    }

    /// <summary>Thumbnail: decode (DCT-scaled for JPEG), shrink to the longest side, orient, JPEG-encode.</summary>
    public static byte[] MakeThumbnail(ReadOnlySpan<byte> file, ImageHeader header, int longestSide, int quality = 85)
    {
        var decoded = ImageCodec.Decode(file, header.Format, minLongestSide: longestSide);
        var small = ShrinkToFit(decoded, longestSide);
        return ImageCodec.EncodeJpeg(ApplyOrientation(small, header.Orientation), quality);
    }
}
