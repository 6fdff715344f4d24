using System.Buffers;
using VisionLabel.Imaging;
using VisionLabel.Inference.Tiling;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Inference;

/// <summary>
/// A large image's pixels for pre-labeling (issue 26), read from its original file a slice at a time through libvips
/// (<see cref="RegionReader"/>): the image is never decoded into memory, whatever its size, and the model sees the
/// original's pixels (not the pyramid's re-encoded tiles). The file is copied from the blob store into the data
/// folder's tmp on first use and deleted on dispose (the maintenance sweep clears one left by a crash).
/// </summary>
public sealed class OriginalRegions(IBlobStore blobs, Image image, string tempRoot) : IRegionSource
{
    private string? _path;
    private RegionReader? _reader;

    public int Width => image.Width;
    public int Height => image.Height;

    public async ValueTask<RgbImage> ReadAsync(SliceRect region, ArrayPool<byte> pool, CancellationToken ct)
    {
        var reader = await ReaderAsync(ct);
        var pixels = pool.Rent(region.Width * region.Height * 3);
        reader.Read(region.X, region.Y, region.Width, region.Height, pixels);
        return new RgbImage(region.Width, region.Height, pixels);
    }

    public async ValueTask<RgbImage> OverviewAsync(int minSide, ArrayPool<byte> pool, CancellationToken ct) =>
        (await ReaderAsync(ct)).Overview(minSide, pool.Rent);

    private async Task<RegionReader> ReaderAsync(CancellationToken ct)
    {
        if (_reader is not null) return _reader;
        Directory.CreateDirectory(tempRoot);
        _path = Path.Combine(tempRoot, "prelabel-" + Guid.NewGuid().ToString("N"));
        await blobs.CopyToFileAsync(image.BlobKey, _path, ct);
        _reader = new RegionReader(_path, ImageFormats.Parse(image.Format));
        // The reader's size is the file's upright size; the row's is what every shape is drawn in.
        if ((_reader.Width, _reader.Height) != (image.Width, image.Height))
            throw new InvalidImageException($"the file reads as {_reader.Width}×{_reader.Height}, the image is {image.Width}×{image.Height}");
        return _reader;
    }

    public void Dispose()
    {
        _reader?.Dispose();
        if (_path is not null) try { File.Delete(_path); } catch (IOException) { } // swept later
    }
}
