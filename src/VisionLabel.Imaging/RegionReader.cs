using NetVips;

namespace VisionLabel.Imaging;

/// <summary>
/// Windows of a large image file, upright and as 8-bit RGB, without decoding it into memory: libvips opens the file for
/// random access, which for a compressed file larger than its threshold (100 MB of pixels) decompresses it once into a
/// temporary file beside the system's temp folder and reads each window from there. Memory stays a window's worth; the
/// disk holds the pixels while the reader is open. Not thread-safe: one reader per image, on one thread at a time.
/// </summary>
public sealed class RegionReader : IDisposable
{
    private readonly Image _opened;
    private readonly Image _rgb;

    public int Width => _rgb.Width;
    public int Height => _rgb.Height;

    public RegionReader(string path, ImageFormat format)
    {
        _opened = LargeImages.Open(path, format, sequential: false);
        _rgb = LargeImages.ToRgb(_opened);
    }

    /// <summary>The window's pixels into <paramref name="target"/> (row by row, 3 bytes a pixel).</summary>
    public void Read(int x, int y, int width, int height, Span<byte> target)
    {
        try
        {
            using var crop = _rgb.Crop(x, y, width, height);
            crop.WriteToMemory<byte>().AsSpan(0, width * height * 3).CopyTo(target);
        }
        catch (VipsException e) { throw new InvalidImageException($"the image file could not be read at {x},{y} ({e.Message.Split('\n')[0]})"); }
    }

    /// <summary>The whole image reduced to fit a <paramref name="side"/> × <paramref name="side"/> square, into pixels from <paramref name="rent"/>.</summary>
    public RgbImage Overview(int side, Func<int, byte[]> rent)
    {
        try
        {
            using var small = _rgb.ThumbnailImage(side, height: side, size: Enums.Size.Down);
            var pixels = rent(small.Width * small.Height * 3);
            small.WriteToMemory<byte>().AsSpan(0, small.Width * small.Height * 3).CopyTo(pixels);
            return new RgbImage(small.Width, small.Height, pixels);
        }
        catch (VipsException e) { throw new InvalidImageException($"the image file could not be reduced ({e.Message.Split('\n')[0]})"); }
    }

    public void Dispose()
    {
        if (!ReferenceEquals(_rgb, _opened)) _rgb.Dispose();
        _opened.Dispose();
    }
}
