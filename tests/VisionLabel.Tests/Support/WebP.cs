using System.Runtime.InteropServices;
using VisionLabel.Imaging;

namespace VisionLabel.Tests.Support;

/// <summary>Encodes real WebP files for tests with the system libwebp (the server only decodes).</summary>
public static unsafe partial class WebP
{
    [LibraryImport("libwebp.so.7")] private static partial nuint WebPEncodeRGB(byte* rgb, int width, int height, int stride, float quality, byte** output);
    [LibraryImport("libwebp.so.7")] private static partial void WebPFree(void* pointer);

    public static byte[] Encode(RgbImage image, float quality = 90)
    {
        byte* output = null;
        fixed (byte* rgb = image.Pixels)
        {
            nuint size = WebPEncodeRGB(rgb, image.Width, image.Height, image.Width * 3, quality, &output);
            try { return size == 0 ? throw new InvalidOperationException("WebPEncodeRGB failed") : new ReadOnlySpan<byte>(output, (int)size).ToArray(); }
            finally { if (output != null) WebPFree(output); }
        }
    }
}
