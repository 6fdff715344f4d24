using VisionLabel.Imaging;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.ModelLoop;

/// <summary>
/// An image's pixels the way it is shown (EXIF orientation applied), for the tools that read a region of it (segment,
/// scissors): a small image decoded whole, a large one read from its pyramid's full-resolution tiles (only the tiles the
/// region covers: a 20,000 × 20,000 image is never decoded whole on the request path). A missing or unreadable file is a
/// 409: the image row is fine, its file is not.
/// </summary>
public sealed class UprightImage
{
    private readonly RgbImage? _whole;
    private readonly (IBlobStore Blobs, string Hash, DeepZoom Dz)? _tiles;

    public int Width { get; }
    public int Height { get; }

    private UprightImage(RgbImage whole) => (_whole, Width, Height) = (whole, whole.Width, whole.Height);

    private UprightImage(IBlobStore blobs, string hash, DeepZoom dz) => (_tiles, Width, Height) = ((blobs, hash, dz), dz.Width, dz.Height);

    public static async Task<(UprightImage? Image, SegmentRefusal? Refusal)> LoadAsync(IBlobStore blobs, Image image, ImageIntakeOptions options, CancellationToken ct)
    {
        if (Pyramids.Needed(ImageFormats.Parse(image.Format), (long)image.Width * image.Height, options))
        {
            var dz = image.Pyramid ? await Pyramids.ReadAsync(blobs, image.ContentHash, ct) : null;
            return dz is null
                ? (null, new SegmentRefusal(409, "Tiles not ready", "This large image is still being cut into tiles (its pyramid job); try again when the job is done."))
                : (new UprightImage(blobs, image.ContentHash, dz), null);
        }
        if (await blobs.ReadAllBytesAsync(image.BlobKey, ct) is not { } file)
            return (null, new SegmentRefusal(409, "Image file missing", "The image's file is not in the store; upload it again."));
        try { return (new UprightImage(ImageTransforms.DecodeUpright(file)), null); }
        catch (InvalidImageException e)
        {
            return (null, new SegmentRefusal(409, "Image file unreadable", $"The image's file could not be decoded ({e.Message}); upload it again."));
        }
    }

    /// <summary>The pixels of a region inside the image. Throws <see cref="InvalidImageException"/> when a tile cannot be read.</summary>
    public async Task<RgbImage> RegionAsync(int x, int y, int w, int h, CancellationToken ct)
    {
        var region = new RgbImage(w, h);
        if (_whole is { } whole)
        {
            for (int row = 0; row < h; row++)
                whole.Pixels.AsSpan(((y + row) * whole.Width + x) * 3, w * 3).CopyTo(region.Pixels.AsSpan(row * w * 3, w * 3));
            return region;
        }
        var (blobs, hash, dz) = _tiles!.Value;
        int t = dz.TileSize, o = dz.Overlap, level = dz.MaxLevel;
        for (int row = y / t; row <= (y + h - 1) / t; row++)
            for (int col = x / t; col <= (x + w - 1) / t; col++)
            {
                byte[] jpeg = await blobs.ReadAllBytesAsync(BlobKeys.PyramidTile(hash, level, col, row), ct)
                              ?? throw new InvalidImageException($"tile {level}/{col}_{row} is missing from the store");
                var tile = ImageCodec.Decode(jpeg, ImageFormat.Jpeg);
                // The tile's first pixel in the image: its column's start less the overlap (none at the left and top edges).
                int tx = col * t - (col > 0 ? o : 0), ty = row * t - (row > 0 ? o : 0);
                int x0 = Math.Max(x, tx), x1 = Math.Min(x + w, tx + tile.Width), y0 = Math.Max(y, ty), y1 = Math.Min(y + h, ty + tile.Height);
                for (int iy = y0; iy < y1; iy++)
                    tile.Pixels.AsSpan(((iy - ty) * tile.Width + (x0 - tx)) * 3, (x1 - x0) * 3).CopyTo(region.Pixels.AsSpan(((iy - y) * w + (x0 - x)) * 3));
            }
        return region;
    }
}
