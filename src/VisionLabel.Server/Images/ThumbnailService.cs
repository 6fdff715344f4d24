using Microsoft.Extensions.Options;
using VisionLabel.Imaging;
using VisionLabel.Server.Common;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.Images;

/// <summary>
/// Thumbnails are made on first request and kept in the blob store under a key derived from the content hash,
/// so they are shared across projects and never go stale. Generation is bounded to one per core: a burst of
/// requests for a fresh project must not decode hundreds of images at once.
/// </summary>
public sealed class ThumbnailService(IBlobStore blobs, IOptions<ImageIntakeOptions> options, IOptions<VisionLabelOptions> app)
{
    private readonly SemaphoreSlim _decodeSlots = new(Environment.ProcessorCount);

    public int Size => options.Value.ThumbnailSize;

    /// <summary>The thumbnail stream, or throws <see cref="InvalidImageException"/> if the original cannot be decoded.</summary>
    public async Task<Stream> OpenAsync(Image image, CancellationToken ct)
    {
        string key = BlobKeys.Thumbnail(image.ContentHash, Size);
        if (await blobs.OpenReadAsync(key, ct) is { } cached) return cached;
        // A large image's thumbnail is its pyramid's one-tile level (already a JPEG); until the pyramid is built, or for a
        // TIFF, libvips shrinks it while loading. Neither decodes it whole.
        var format = ImageFormats.Parse(image.Format);
        if (image.Pyramid && await Pyramids.ThumbnailTileAsync(blobs, image.ContentHash, ct) is { } tile) return tile;
        if (Pyramids.Needed(format, (long)image.Width * image.Height, options.Value)) return new MemoryStream(await LargeThumbnailAsync(image, ct));

        byte[] original = await blobs.ReadAllBytesAsync(image.BlobKey, ct)
                          ?? throw new FileNotFoundException($"blob {image.BlobKey} of image {image.Id} is missing");

        byte[] thumbnail;
        await _decodeSlots.WaitAsync(ct);
        try
        {
            var header = ImageHeaderReader.Read(original);
            thumbnail = await Task.Run(() => ImageTransforms.MakeThumbnail(original, header, Size), ct);
        }
        finally { _decodeSlots.Release(); }

        await blobs.PutAsync(key, new MemoryStream(thumbnail), ct);
        return new MemoryStream(thumbnail);
    }

    /// <summary>Shrink-on-load through libvips from a temp copy of the original, stored like any thumbnail.</summary>
    private async Task<byte[]> LargeThumbnailAsync(Image image, CancellationToken ct)
    {
        Directory.CreateDirectory(app.Value.TempDirectory);
        string temp = Path.Combine(app.Value.TempDirectory, Guid.NewGuid().ToString("N") + ".thumb");
        // The slot first: a page of such images must not copy them all at once.
        await LargeImages.Gate.WaitAsync(ct);
        try
        {
            await blobs.CopyToFileAsync(image.BlobKey, temp, ct);
            byte[] thumbnail = await Task.Run(() => LargeImages.Thumbnail(temp, Size), ct);
            await blobs.PutAsync(BlobKeys.Thumbnail(image.ContentHash, Size), new MemoryStream(thumbnail), ct); // made once
            return thumbnail;
        }
        finally
        {
            LargeImages.Gate.Release();
            File.Delete(temp);
        }
    }
}
