using System.Xml.Linq;
using VisionLabel.Imaging;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Images;

/// <summary>What a Deep Zoom descriptor says: the full size, the tile size and overlap.</summary>
public sealed record DeepZoom(int Width, int Height, int TileSize, int Overlap)
{
    /// <summary>The top level: the full resolution (level 0 is 1×1, each level half the next).</summary>
    public int MaxLevel => (int)Math.Ceiling(Math.Log2(Math.Max(Width, Height)));

    /// <summary>A level's size in pixels.</summary>
    public (int Width, int Height) LevelSize(int level)
    {
        double scale = Math.Pow(2, MaxLevel - level);
        return ((int)Math.Ceiling(Width / scale), (int)Math.Ceiling(Height / scale));
    }

    public static DeepZoom Parse(Stream xml)
    {
        var root = XDocument.Load(xml).Root ?? throw new InvalidDataException("empty DZI");
        XNamespace ns = root.Name.Namespace;
        var size = root.Element(ns + "Size") ?? throw new InvalidDataException("DZI without Size");
        return new DeepZoom((int)size.Attribute("Width")!, (int)size.Attribute("Height")!, (int)root.Attribute("TileSize")!, (int)root.Attribute("Overlap")!);
    }
}

/// <summary>
/// Tile pyramids (issue 26, docs/large-images.md): which images get one, and building one into the blob store. The
/// pyramid is keyed by the content hash, so images of the same bytes (in any project) share it; the descriptor is
/// stored after every tile, so its presence means the pyramid is whole.
/// </summary>
public static class Pyramids
{
    public static bool Needed(ImageFormat format, long pixels, ImageIntakeOptions options) => format == ImageFormat.Tiff || pixels > options.PyramidAbovePixels;

    /// <summary>Builds the pyramid of <paramref name="image"/> unless the store has it; reports tiles stored of tiles made.</summary>
    public static async Task BuildAsync(IBlobStore blobs, Image image, string tempRoot, IProgress<(int Done, int Total)>? progress, CancellationToken ct)
    {
        if (await blobs.ExistsAsync(BlobKeys.PyramidDzi(image.ContentHash), ct)) return;
        string work = Path.Combine(tempRoot, "pyramid-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            string original = Path.Combine(work, "original");
            await blobs.CopyToFileAsync(image.BlobKey, original, ct);
            string folder = Path.Combine(work, "dz");
            var format = ImageFormats.Parse(image.Format);
            await LargeImages.Gate.WaitAsync(ct); // libvips work, one at a time (memory and cores)
            try { await Task.Run(() => LargeImages.BuildPyramid(original, format, folder), ct); }
            finally { LargeImages.Gate.Release(); }
            File.Delete(original);
            // The tiles must cover the image as its row says (shapes are drawn in those coordinates): an orientation read
            // one way by our header reader and another by libvips would misplace every shape.
            await using (var dzi = File.OpenRead(Path.Combine(folder, "tiles.dzi")))
                if (DeepZoom.Parse(dzi) is var dz && (dz.Width, dz.Height) != (image.Width, image.Height))
                    throw new InvalidImageException($"the pyramid came out {dz.Width}×{dz.Height}, the image is {image.Width}×{image.Height} (its orientation was read differently)");

            string tiles = Path.Combine(folder, "tiles_files");
            var files = Directory.EnumerateFiles(tiles, "*.jpg", SearchOption.AllDirectories).ToList();
            string prefix = BlobKeys.PyramidFolder(image.ContentHash);
            int done = 0;
            // Several at once: to S3 each tile is a request, and a 20k² image has about 8,000 of them.
            await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (path, token) =>
            {
                string relative = Path.GetRelativePath(folder, path).Replace('\\', '/');
                await blobs.PutFileAsync(prefix + relative, path, token);
                int n = Interlocked.Increment(ref done);
                if (n % 500 == 0) progress?.Report((n, files.Count));
            });
            await blobs.PutFileAsync(BlobKeys.PyramidDzi(image.ContentHash), Path.Combine(folder, "tiles.dzi"), ct); // last: the pyramid is whole
            progress?.Report((files.Count, files.Count));
        }
        finally
        {
            try { Directory.Delete(work, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // the maintenance sweep clears temp leftovers
        }
    }

    /// <summary>The pyramid's descriptor, or null when it has none.</summary>
    public static async Task<DeepZoom?> ReadAsync(IBlobStore blobs, string contentHash, CancellationToken ct)
    {
        await using var stream = await blobs.OpenReadAsync(BlobKeys.PyramidDzi(contentHash), ct);
        return stream is null ? null : DeepZoom.Parse(stream);
    }

    /// <summary>The pyramid's one-tile level that is largest (its longer side between half a tile and a tile): a
    /// thumbnail already encoded.</summary>
    public static async Task<Stream?> ThumbnailTileAsync(IBlobStore blobs, string contentHash, CancellationToken ct)
    {
        if (await ReadAsync(blobs, contentHash, ct) is not { } dz) return null;
        int level = dz.MaxLevel;
        while (level > 0 && Math.Max(dz.LevelSize(level).Width, dz.LevelSize(level).Height) > dz.TileSize) level--;
        return await blobs.OpenReadAsync(BlobKeys.PyramidTile(contentHash, level, 0, 0), ct);
    }
}
