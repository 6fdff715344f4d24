namespace VisionLabel.Imaging;

/// <summary>Interleaved 8-bit RGB pixels, rows packed (stride = Width * 3).</summary>
public sealed class RgbImage(int width, int height, byte[] pixels)
{
    public int Width { get; } = width;
    public int Height { get; } = height;
    public byte[] Pixels { get; } = pixels;

    public RgbImage(int width, int height) : this(width, height, new byte[checked(width * height * 3)]) { }
}
