namespace VisionLabel.Imaging;

public enum ImageFormat
{
    Jpeg,
    Png,
    WebP,
    /// <summary>Including tiled and pyramidal TIFF (and BigTIFF), read through libvips (<see cref="LargeImages"/>).</summary>
    Tiff,
}

public static class ImageFormatExtensions
{
    public static string ContentType(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "image/jpeg",
        ImageFormat.Png => "image/png",
        ImageFormat.WebP => "image/webp",
        ImageFormat.Tiff => "image/tiff",
        _ => "application/octet-stream",
    };

    public static string Name(this ImageFormat format) => format switch
    {
        ImageFormat.Jpeg => "jpeg",
        ImageFormat.Png => "png",
        ImageFormat.WebP => "webp",
        ImageFormat.Tiff => "tiff",
        _ => "unknown",
    };
}

public static class ImageFormats
{
    /// <summary>The format a stored name ("jpeg", "png", "webp", "tiff") stands for.</summary>
    public static ImageFormat Parse(string name) => name switch
    {
        "jpeg" => ImageFormat.Jpeg,
        "png" => ImageFormat.Png,
        "webp" => ImageFormat.WebP,
        "tiff" => ImageFormat.Tiff,
        _ => throw new InvalidImageException($"unknown stored format '{name}'"),
    };

    /// <summary>Whether a browser shows it (TIFF is shown from its pyramid's tiles).</summary>
    public static bool BrowserShows(this ImageFormat format) => format is ImageFormat.Jpeg or ImageFormat.Png or ImageFormat.WebP;
}
