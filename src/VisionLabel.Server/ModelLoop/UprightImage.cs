using VisionLabel.Imaging;
using VisionLabel.Server.Data;
using VisionLabel.Server.Storage;

namespace VisionLabel.Server.ModelLoop;

/// <summary>An image's file from the store, decoded the way it is shown (EXIF orientation applied), for the tools that
/// read pixels (segment, scissors). A missing or unreadable file is a 409: the image row is fine, its file is not.</summary>
public static class UprightImage
{
    public static async Task<(RgbImage? Image, SegmentRefusal? Refusal)> LoadAsync(IBlobStore blobs, Image image, CancellationToken ct)
    {
        byte[] file;
        await using (var stream = await blobs.OpenReadAsync(image.BlobKey, ct))
        {
            if (stream is null) return (null, new SegmentRefusal(409, "Image file missing", "The image's file is not in the store; upload it again."));
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct);
            file = buffer.ToArray();
        }
        try { return (ImageTransforms.DecodeUpright(file), null); }
        catch (InvalidImageException e)
        {
            return (null, new SegmentRefusal(409, "Image file unreadable", $"The image's file could not be decoded ({e.Message}); upload it again."));
        }
    }
}
