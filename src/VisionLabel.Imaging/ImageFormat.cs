namespace VisionLabel.Imaging;

public enum ImageFormat
{
    Jpeg,
    Png,
    WebP,
}

public static class ImageFormatExtensions
{
    public static string ContentType(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Png => "image/png",
        ImageFormat.WebP => "image/webp",
        _ => "application/octet-stream",
    };

    public static string Name(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "jpeg",
        ImageFormat.Png => "png",
        ImageFormat.WebP => "webp",
        _ => "unknown",
    };
}
