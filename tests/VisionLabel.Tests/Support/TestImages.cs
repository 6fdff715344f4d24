using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using VisionLabel.Imaging;

namespace VisionLabel.Tests.Support;

/// <summary>Builds image files for tests from first principles (chunks, markers), so no fixture binaries are needed.</summary>
public static class TestImages
{
    /// <summary>A real PNG (zlib-compressed scanlines, CRCs) of an RGB image.</summary>
    public static byte[] Png(RgbImage image)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < image.Height; y++)
        {
            raw.WriteByte(0); // filter: none
            raw.Write(image.Pixels, y * image.Width * 3, image.Width * 3);
        }
        var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true)) raw.WriteTo(z);
        return PngFile(image.Width, image.Height, idat.ToArray());
    }

    /// <summary>
    /// A PNG whose header claims a huge size (a decompression bomb shape). The IDAT is a stub: intake must
    /// refuse it from the header alone, before anything would try to decode it.
    /// </summary>
    public static byte[] PngHeaderOnly(int width, int height) => PngFile(width, height, [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);

    private static byte[] PngFile(int width, int height, byte[] idat)
    {
        var file = new MemoryStream();
        file.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // colour type RGB
        Chunk(file, "IHDR", ihdr);
        Chunk(file, "IDAT", idat);
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> b4 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b4, data.Length);
        s.Write(b4);
        byte[] typeAndData = [.. Encoding.ASCII.GetBytes(type), .. data];
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(b4, Crc32(typeAndData));
        s.Write(b4);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>Inserts an EXIF APP1 segment carrying an orientation tag right after the JPEG's SOI marker.</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        // "Exif\0\0" + TIFF header (big-endian) + IFD0 with one entry: 0x0112 SHORT 1 = orientation.
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8,
            0, 1,
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0,
            0, 0, 0, 0,
        ];
        byte[] payload = [.. "Exif\0\0"u8.ToArray(), .. tiff];
        int length = payload.Length + 2;
        byte[] app1 = [0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload];
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    /// <summary>An image with a distinct colour in each quadrant, so orientation and scaling errors show.</summary>
    public static RgbImage Quadrants(int width, int height)
    {
        var image = new RgbImage(width, height);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            (byte r, byte g, byte b) = (x < width / 2, y < height / 2) switch
            {
                (true, true) => ((byte)230, (byte)20, (byte)20),     // top-left red
                (false, true) => ((byte)20, (byte)230, (byte)20),    // top-right green
                (true, false) => ((byte)20, (byte)20, (byte)230),    // bottom-left blue
                _ => ((byte)230, (byte)230, (byte)20),               // bottom-right yellow
            };
            int i = (y * width + x) * 3;
            image.Pixels[i] = r; image.Pixels[i + 1] = g; image.Pixels[i + 2] = b;
        }
        return image;
    }

    public static (byte R, byte G, byte B) PixelAt(RgbImage image, double fx, double fy)
    {
        int x = Math.Clamp((int)(fx * image.Width), 0, image.Width - 1), y = Math.Clamp((int)(fy * image.Height), 0, image.Height - 1);
        int i = (y * image.Width + x) * 3;
        return (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]);
    }
}
