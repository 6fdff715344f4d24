using System.Buffers;
using System.Runtime.InteropServices;
using VisionLabel.Imaging.Native;

namespace VisionLabel.Imaging;

/// <summary>Decodes and encodes pixels through the system's libjpeg-turbo, libpng and libwebp.</summary>
public static unsafe class ImageCodec
{
    /// <summary>
    /// Decodes a whole file to RGB in its stored orientation. For JPEG, <paramref name="minLongestSide"/> lets
    /// libjpeg-turbo scale in the DCT domain to the smallest size whose longest side is still at least that,
    /// which is far cheaper than decoding full size and shrinking (thumbnails of 100-megapixel scans).
    /// </summary>
    /// <param name="pool">Where the pixels come from when given (the array may be longer than the image); else a new array.</param>
    public static RgbImage Decode(ReadOnlySpan<byte> file, ImageFormat format, int minLongestSide = 0, ArrayPool<byte>? pool = null) => format switch
    {
        ImageFormat.Jpeg => DecodeJpeg(file, minLongestSide, pool),
        ImageFormat.Png => DecodePng(file, LibPng.FormatRgb, pool),
        ImageFormat.WebP => DecodeWebP(file, pool),
        ImageFormat.Tiff => LargeImages.DecodeBuffer(file.ToArray(), format, pool),
        _ => throw new InvalidImageException($"unsupported format {format}"),
    };

    /// <summary>
    /// Decodes every byte of the image data once, to prove the file is intact, as cheaply as that can be done:
    /// a JPEG at 1/8 scale (every scan is still entropy-decoded, so garbled data is found, but the output is 1/64 of
    /// the pixels), a PNG as grey (every IDAT chunk inflated and CRC-checked), a WebP in full. Throws
    /// <see cref="InvalidImageException"/> naming what is wrong.
    /// </summary>
    public static void Verify(ReadOnlySpan<byte> file, ImageFormat format)
    {
        switch (format)
        {
            case ImageFormat.Jpeg: DecodeJpeg(file, minLongestSide: 1, pool: null); break;
            case ImageFormat.Png: DecodePng(file, LibPng.FormatGray, pool: null); break;
            case ImageFormat.WebP: DecodeWebP(file, pool: null); break;
            case ImageFormat.Tiff:
                using (var tiff = LargeImages.OpenBuffer(file.ToArray(), format))
                    try { _ = tiff.Avg(); } catch (NetVips.VipsException e) { throw new InvalidImageException($"corrupt TIFF: {e.Message.Split('\n')[0]}"); }
                break;
            default: throw new InvalidImageException($"unsupported format {format}");
        }
    }

    /// <summary>An image of the given size whose pixels come from <paramref name="pool"/> when there is one.</summary>
    internal static RgbImage NewImage(int width, int height, ArrayPool<byte>? pool)
    {
        // A whole decode of a very large image would take gigabytes: those are read in tiles (LargeImages), never whole.
        if ((long)width * height > LargeImages.WholeDecodeMaxPixels)
            throw new InvalidImageException($"image is {width}×{height}, too large to decode whole; it is read in tiles");
        return pool is null ? new RgbImage(width, height) : new RgbImage(width, height, pool.Rent(checked(width * height * 3)));
    }

    private static RgbImage DecodeJpeg(ReadOnlySpan<byte> file, int minLongestSide, ArrayPool<byte>? pool)
    {
        nint handle = TurboJpeg.tjInitDecompress();
        if (handle == 0) throw new InvalidOperationException("libjpeg-turbo: tjInitDecompress failed");
        try
        {
            fixed (byte* src = file)
            {
                if (TurboJpeg.tjDecompressHeader3(handle, src, new CULong((nuint)file.Length), out int w, out int h, out _, out _) != 0)
                    throw new InvalidImageException("corrupt JPEG: " + TurboJpeg.Error(handle));
                (int sw, int sh) = ChooseJpegScale(w, h, minLongestSide);
                var image = NewImage(sw, sh, pool);
                fixed (byte* dst = image.Pixels)
                {
                    // Stop on warnings: libjpeg treats "premature end of data" as a warning and pads with grey.
                    int rc = TurboJpeg.tjDecompress2(handle, src, new CULong((nuint)file.Length), dst, sw, sw * 3, sh,
                        TurboJpeg.PixelFormatRgb, TurboJpeg.FlagStopOnWarning);
                    if (rc != 0) throw new InvalidImageException("corrupt JPEG: " + TurboJpeg.Error(handle));
                }
                return image;
            }
        }
        finally { TurboJpeg.tjDestroy(handle); }
    }

    private static (int Width, int Height) ChooseJpegScale(int w, int h, int minLongestSide)
    {
        if (minLongestSide <= 0) return (w, h);
        var factors = TurboJpeg.tjGetScalingFactors(out int count);
        (int bw, int bh) = (w, h);
        for (int i = 0; i < count; i++)
        {
            var f = factors[i];
            if (f.Num > f.Denom) continue; // never upscale
            int sw = (w * f.Num + f.Denom - 1) / f.Denom, sh = (h * f.Num + f.Denom - 1) / f.Denom;
            if (Math.Max(sw, sh) >= minLongestSide && (long)sw * sh < (long)bw * bh) (bw, bh) = (sw, sh);
        }
        return (bw, bh);
    }

    /// <param name="pngFormat">FormatRgb for pixels; FormatGray to check the data with a third of the memory (the result is then not RGB).</param>
    private static RgbImage DecodePng(ReadOnlySpan<byte> file, uint pngFormat, ArrayPool<byte>? pool)
    {
        LibPng.PngImage png = default;
        png.Version = LibPng.ImageVersion;
        fixed (byte* src = file)
        {
            if (LibPng.png_image_begin_read_from_memory(&png, src, (nuint)file.Length) == 0)
                throw new InvalidImageException("corrupt PNG: " + LibPng.Message(&png));
            try
            {
                png.Format = pngFormat; // RGB: alpha is composited onto black
                int channels = pngFormat == LibPng.FormatGray ? 1 : 3;
                // Grey is only for checking: its one byte per pixel is held in an RgbImage that is thrown away.
                var image = channels == 3 ? NewImage((int)png.Width, (int)png.Height, pool)
                    : new RgbImage((int)png.Width, (int)png.Height, new byte[checked((int)png.Width * (int)png.Height)]);
                fixed (byte* dst = image.Pixels)
                {
                    if (LibPng.png_image_finish_read(&png, null, dst, (int)png.Width * channels, null) == 0)
                        throw new InvalidImageException("corrupt PNG: " + LibPng.Message(&png));
                }
                return image;
            }
            finally { LibPng.png_image_free(&png); }
        }
    }

    private static RgbImage DecodeWebP(ReadOnlySpan<byte> file, ArrayPool<byte>? pool)
    {
        fixed (byte* src = file)
        {
            if (LibWebP.WebPGetInfo(src, (nuint)file.Length, out int w, out int h) == 0)
                throw new InvalidImageException("corrupt WebP: header not understood by libwebp");
            var image = NewImage(w, h, pool);
            fixed (byte* dst = image.Pixels)
            {
                if (LibWebP.WebPDecodeRGBInto(src, (nuint)file.Length, dst, (nuint)image.Pixels.Length, w * 3) == null)
                    throw new InvalidImageException("corrupt WebP: libwebp could not decode the image data");
            }
            return image;
        }
    }

    public static byte[] EncodeJpeg(RgbImage image, int quality = 85)
    {
        nint handle = TurboJpeg.tjInitCompress();
        if (handle == 0) throw new InvalidOperationException("libjpeg-turbo: tjInitCompress failed");
        byte* jpeg = null;
        try
        {
            CULong size = default;
            fixed (byte* src = image.Pixels)
            {
                if (TurboJpeg.tjCompress2(handle, src, image.Width, image.Width * 3, image.Height, TurboJpeg.PixelFormatRgb,
                        &jpeg, &size, TurboJpeg.Subsampling420, quality, TurboJpeg.FlagFastDct) != 0)
                    throw new InvalidOperationException("libjpeg-turbo: " + TurboJpeg.Error(handle));
            }
            return new ReadOnlySpan<byte>(jpeg, checked((int)size.Value)).ToArray();
        }
        finally
        {
            if (jpeg != null) TurboJpeg.tjFree(jpeg);
            TurboJpeg.tjDestroy(handle);
        }
    }
}
