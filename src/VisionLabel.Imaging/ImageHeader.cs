namespace VisionLabel.Imaging;

/// <summary>What an image file says about itself, read without decoding pixels.</summary>
/// <param name="StoredWidth">Width of the pixel grid as encoded in the file.</param>
/// <param name="StoredHeight">Height of the pixel grid as encoded in the file.</param>
/// <param name="Orientation">EXIF orientation 1..8 (1 when absent). 5..8 swap width and height on display.</param>
public sealed record ImageHeader(ImageFormat Format, int StoredWidth, int StoredHeight, int Orientation)
{
    /// <summary>Width as a viewer shows it (EXIF orientation applied). Annotations use this pixel space.</summary>
    public int Width => Orientation >= 5 ? StoredHeight : StoredWidth;

    /// <summary>Height as a viewer shows it (EXIF orientation applied).</summary>
    public int Height => Orientation >= 5 ? StoredWidth : StoredHeight;

    public long PixelCount => (long)StoredWidth * StoredHeight;

    /// <summary>Progressive JPEG or interlaced PNG: decoders hold the whole image (every coefficient, every pass) before
    /// the first row comes out, so such a file cannot be read in strips.</summary>
    public bool Layered { get; init; }

    /// <summary>TIFF: the bytes one strip or tile decodes to, the most a strip-by-strip reader must hold (0 for other formats).</summary>
    public long LargestChunkBytes { get; init; }
}

/// <summary>The file is not an image we accept, or it is damaged. The message says which, for the user.</summary>
public sealed class InvalidImageException(string message) : Exception(message);
