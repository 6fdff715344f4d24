using NetVips;

namespace VisionLabel.Imaging;

/// <summary>
/// Images too large to decode whole (issue 26), and TIFF, through libvips (NetVips): it streams pixels in strips or
/// tiles, so checking a 20,000 × 20,000 JPEG or cutting it into a pyramid holds a few rows at a time, not 1.2 GB. Every
/// file is opened with the loader of the format its header was sniffed as (never libvips' own sniffing: a file cannot
/// smuggle in another loader), untrusted loaders are blocked, and decode errors fail the read instead of being patched.
/// </summary>
public static class LargeImages
{
    /// <summary>libvips work on large images (checking an upload, a thumbnail, a pyramid) two at a time per process: each
    /// holds strips as wide as its image and libvips threads of its own, and several at once would starve the server.</summary>
    public static readonly SemaphoreSlim Gate = new(2);

    /// <summary>A TIFF strip or tile decoding to more than this is refused: a strip-by-strip reader holds one whole.</summary>
    public const long MaxChunkBytes = 64L << 20;

    /// <summary>The longest side accepted: a level's strip is as wide as the image, whatever its height.</summary>
    public const int MaxSide = 65_535;

    /// <summary>Why a large file cannot be read in strips with bounded memory (null when it can): the header's word.</summary>
    public static string? StreamingProblem(ImageHeader header)
    {
        if (Math.Max(header.StoredWidth, header.StoredHeight) > MaxSide)
            return $"image is {header.StoredWidth}×{header.StoredHeight}: a side over {MaxSide:N0} px is not accepted";
        if (header.Layered)
            return $"a {(header.Format == ImageFormat.Png ? "interlaced PNG" : "progressive JPEG")} this large must be decoded whole; save it as a {(header.Format == ImageFormat.Png ? "non-interlaced PNG" : "baseline JPEG")} or a tiled TIFF";
        if (header.Format == ImageFormat.WebP)
            return "a WebP this large is decoded whole; save it as a JPEG or a tiled TIFF";
        if (header.LargestChunkBytes > MaxChunkBytes)
            return $"its strips or tiles decode to {header.LargestChunkBytes / 1e6:N0} MB each (at most {MaxChunkBytes >> 20} MB); save it tiled (e.g. 256 × 256 tiles) or with fewer rows per strip";
        return null;
    }

    /// <summary>Whole-image decodes into memory (RgbImage) are refused above this: 250 MP of RGB is 750 MB.</summary>
    public const long WholeDecodeMaxPixels = 250_000_000;

    static LargeImages()
    {
        // Only the loaders libvips marks as fuzzed and safe for untrusted input (ours are among them).
        NetVips.NetVips.BlockUntrusted = true;
        NetVips.NetVips.Concurrency = Math.Max(1, Environment.ProcessorCount / 2); // leave cores to the server
        Cache.Max = 0; // no operation cache: every image is read once, and cached operations hold their pixels
    }

    /// <summary>Opens a file with the loader of its sniffed format, for one pass top to bottom (sequential).</summary>
    public static Image Open(string path, ImageFormat format, bool sequential = true)
    {
        var access = sequential ? Enums.Access.Sequential : Enums.Access.Random;
        try
        {
            return format switch
            {
                ImageFormat.Jpeg => Image.Jpegload(path, access: access, failOn: Enums.FailOn.Error),
                ImageFormat.Png => Image.Pngload(path, access: access, failOn: Enums.FailOn.Error),
                ImageFormat.WebP => Image.Webpload(path, access: access, failOn: Enums.FailOn.Error),
                ImageFormat.Tiff => Image.Tiffload(path, access: access, failOn: Enums.FailOn.Error),
                _ => throw new InvalidImageException($"unsupported format {format}"),
            };
        }
        catch (VipsException e) { throw Invalid(format, e); }
    }

    /// <summary>Opens a file held in memory with the loader of its sniffed format.</summary>
    public static Image OpenBuffer(byte[] data, ImageFormat format)
    {
        try
        {
            return format switch
            {
                ImageFormat.Jpeg => Image.JpegloadBuffer(data, failOn: Enums.FailOn.Error),
                ImageFormat.Png => Image.PngloadBuffer(data, failOn: Enums.FailOn.Error),
                ImageFormat.WebP => Image.WebploadBuffer(data, failOn: Enums.FailOn.Error),
                ImageFormat.Tiff => Image.TiffloadBuffer(data, failOn: Enums.FailOn.Error),
                _ => throw new InvalidImageException($"unsupported format {format}"),
            };
        }
        catch (VipsException e) { throw Invalid(format, e); }
    }

    /// <summary>A file held in memory as 8-bit RGB in its stored orientation (as <see cref="ImageCodec.Decode"/> gives
    /// every format): TIFF's way into the code that decodes whole images.</summary>
    public static RgbImage DecodeBuffer(byte[] data, ImageFormat format, System.Buffers.ArrayPool<byte>? pool = null)
    {
        using var opened = OpenBuffer(data, format);
        if ((long)opened.Width * opened.Height > WholeDecodeMaxPixels)
            throw new InvalidImageException($"image is {opened.Width}×{opened.Height}, too large to decode whole; it is read in tiles");
        try
        {
            using var rgb = ToRgb(opened, upright: false);
            var image = ImageCodec.NewImage(rgb.Width, rgb.Height, pool); // the caller's pool, when it has one: it gives the array back there
            byte[] pixels = rgb.WriteToMemory();
            pixels.AsSpan(0, rgb.Width * rgb.Height * 3).CopyTo(image.Pixels);
            return image;
        }
        catch (VipsException e) { throw Invalid(format, e); }
    }

    /// <summary>Decodes every pixel once, in strips, to prove the file is intact (memory stays a few rows). Throws
    /// <see cref="InvalidImageException"/> naming what is wrong.</summary>
    public static void Verify(string path, ImageFormat format, int expectedWidth, int expectedHeight)
    {
        using var image = Open(path, format);
        if (image.Width != expectedWidth || image.Height != expectedHeight)
            throw new InvalidImageException($"corrupt {format.Name().ToUpperInvariant()}: the header says {expectedWidth}×{expectedHeight}, the image data {image.Width}×{image.Height}");
        try { _ = image.Avg(); }
        catch (VipsException e) { throw Invalid(format, e); }
    }

    /// <summary>8-bit sRGB, three bands (upright unless asked not to): alpha flattened onto white, 16-bit and grey converted.</summary>
    public static Image ToRgb(Image image, bool upright = true)
    {
        var turned = upright ? image.Autorot() : image;
        var flat = turned.HasAlpha() ? turned.Flatten([255, 255, 255]) : turned;
        var srgb = flat.Interpretation == Enums.Interpretation.Srgb && flat.Format == Enums.BandFormat.Uchar ? flat : flat.Colourspace(Enums.Interpretation.Srgb);
        var uchar = srgb.Format == Enums.BandFormat.Uchar ? srgb : srgb.Cast(Enums.BandFormat.Uchar);
        return uchar.Bands == 3 ? uchar : uchar.ExtractBand(0, 3);
    }

    /// <summary>
    /// Cuts the image into a Deep Zoom pyramid in <paramref name="folder"/> (<c>tiles.dzi</c> and
    /// <c>tiles_files/{level}/{col}_{row}.jpg</c>), upright, tiles of <paramref name="tileSize"/> with one pixel of
    /// overlap (OpenSeadragon's default), JPEG at quality 85. libvips reads the source once, top to bottom, and keeps
    /// only the strips each level needs: memory does not grow with the image.
    /// </summary>
    public static void BuildPyramid(string path, ImageFormat format, string folder, int tileSize = 254)
    {
        Directory.CreateDirectory(folder);
        using var opened = Open(path, format);
        try
        {
            using var rgb = ToRgb(opened);
            rgb.Dzsave(Path.Combine(folder, "tiles"), layout: Enums.ForeignDzLayout.Dz, suffix: ".jpg[Q=85]", overlap: 1, tileSize: tileSize,
                depth: Enums.ForeignDzDepth.Onepixel, keep: Enums.ForeignKeep.None);
        }
        catch (VipsException e) { throw Invalid(format, e); }
    }

    /// <summary>A JPEG thumbnail whose longer side is <paramref name="longestSide"/>, shrunk while loading (a JPEG is
    /// decoded at 1/8 scale first), upright.</summary>
    public static byte[] Thumbnail(string path, int longestSide, int quality = 85)
    {
        try
        {
            using var thumb = Image.Thumbnail(path, longestSide, height: longestSide, failOn: Enums.FailOn.Error);
            using var rgb = ToRgb(thumb);
            return rgb.JpegsaveBuffer(q: quality, keep: Enums.ForeignKeep.None);
        }
        catch (VipsException e) { throw new InvalidImageException($"thumbnail failed: {FirstLine(e.Message)}"); }
    }

    private static InvalidImageException Invalid(ImageFormat format, VipsException e) =>
        new($"corrupt {format.Name().ToUpperInvariant()}: {FirstLine(e.Message)}");

    private static string FirstLine(string message) =>
        message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(l => !l.StartsWith("unable to call", StringComparison.Ordinal)) ?? message;
}
