using System.Buffers.Binary;

namespace VisionLabel.Imaging;

/// <summary>
/// Reads format, dimensions and EXIF orientation from the first bytes of a JPEG, PNG, WebP or TIFF file,
/// and checks that the file is complete (end marker present), without decoding any pixels.
/// This is what intake runs on every upload, so a 30000x30000 bomb is refused after reading a few bytes.
/// </summary>
public static class ImageHeaderReader
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Reads the header of a seekable stream. Throws <see cref="InvalidImageException"/> naming the problem.</summary>
    public static ImageHeader Read(Stream stream)
    {
        if (!stream.CanSeek) throw new ArgumentException("stream must be seekable", nameof(stream));
        if (stream.Length == 0) throw new InvalidImageException("the file is empty");

        Span<byte> head = stackalloc byte[12];
        stream.Position = 0;
        int n = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        head = head[..n];

        if (n >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF) return ReadJpeg(stream);
        if (n >= 8 && head[..8].SequenceEqual(PngSignature)) return ReadPng(stream);
        if (n >= 12 && head[..4].SequenceEqual("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8)) return ReadWebP(stream);
        if (n >= 4 && (head[..4].SequenceEqual("II*\0"u8) || head[..4].SequenceEqual("MM\0*"u8) || head[..4].SequenceEqual("II+\0"u8) || head[..4].SequenceEqual("MM\0+"u8)))
            return TiffHeader.Read(stream);
        throw new InvalidImageException("not a JPEG, PNG, WebP or TIFF image (unrecognised file signature)");
    }

    public static unsafe ImageHeader Read(ReadOnlySpan<byte> file)
    {
        if (file.IsEmpty) throw new InvalidImageException("the file is empty");
        fixed (byte* p = file)
        {
            using var ms = new UnmanagedMemoryStream(p, file.Length);
            return Read(ms);
        }
    }

    // ---------------------------------------------------------------- JPEG

    private static ImageHeader ReadJpeg(Stream s)
    {
        s.Position = 2;
        int width = 0, height = 0, orientation = 1;
        bool progressive = false;
        Span<byte> marker = stackalloc byte[4];
        Span<byte> sof = stackalloc byte[5];
        while (true)
        {
            // Markers may be preceded by fill bytes 0xFF.
            int b = s.ReadByte();
            if (b < 0) throw Truncated("JPEG", "before the image data");
            if (b != 0xFF) throw new InvalidImageException($"corrupt JPEG: expected a marker at byte {s.Position - 1}");
            int code;
            do { code = s.ReadByte(); } while (code == 0xFF);
            if (code < 0) throw Truncated("JPEG", "before the image data");
            if (code == 0xD9) throw new InvalidImageException("corrupt JPEG: end of image before any image data");
            if (code is >= 0xD0 and <= 0xD7 or 0x01) continue; // stand-alone markers

            if (s.ReadAtLeast(marker[..2], 2, false) < 2) throw Truncated("JPEG", "in a header segment");
            int length = BinaryPrimitives.ReadUInt16BigEndian(marker);
            if (length < 2) throw new InvalidImageException($"corrupt JPEG: segment 0x{code:X2} has length {length}");
            long segmentStart = s.Position;
            long segmentEnd = segmentStart + length - 2;
            if (segmentEnd > s.Length) throw Truncated("JPEG", "in a header segment");

            bool isStartOfFrame = code is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            if (isStartOfFrame)
            {
                if (length < 7 || s.ReadAtLeast(sof, 5, false) < 5) throw new InvalidImageException("corrupt JPEG: short frame header");
                height = BinaryPrimitives.ReadUInt16BigEndian(sof[1..]);
                width = BinaryPrimitives.ReadUInt16BigEndian(sof[3..]);
                progressive = code is 0xC2 or 0xC6 or 0xCA or 0xCE;
            }
            else if (code == 0xE1 && orientation == 1 && length > 8)
            {
                byte[] app1 = new byte[Math.Min(length - 2, 65533)];
                s.ReadExactly(app1);
                if (app1.AsSpan().StartsWith("Exif\0\0"u8)) orientation = ExifOrientation.Parse(app1.AsSpan(6));
            }
            else if (code == 0xDA) // start of scan: the compressed data follows
            {
                if (width == 0 || height == 0) throw new InvalidImageException("corrupt JPEG: image data without a frame header giving its size");
                RequireJpegEnd(s, segmentEnd);
                return new ImageHeader(ImageFormat.Jpeg, width, height, orientation) { Layered = progressive };
            }
            s.Position = segmentEnd;
        }
    }

    /// <summary>
    /// A truncated JPEG has no End-Of-Image marker. 0xFFD9 cannot occur inside entropy-coded data
    /// (0xFF is byte-stuffed there), so finding it after the scan start proves the file is whole;
    /// we look only in the tail, allowing for trailing bytes some cameras append.
    /// </summary>
    private static void RequireJpegEnd(Stream s, long scanStart)
    {
        const int window = 64 * 1024;
        long from = Math.Max(scanStart, s.Length - window);
        byte[] tail = new byte[s.Length - from];
        s.Position = from;
        s.ReadExactly(tail);
        for (int i = tail.Length - 2; i >= 0; i--)
            if (tail[i] == 0xFF && tail[i + 1] == 0xD9) return;
        throw Truncated("JPEG", "(no end-of-image marker)");
    }

    // ---------------------------------------------------------------- PNG

    private static ImageHeader ReadPng(Stream s)
    {
        Span<byte> chunk = stackalloc byte[8];
        s.Position = 8;
        if (s.ReadAtLeast(chunk, 8, false) < 8) throw Truncated("PNG", "in the header");
        if (!chunk[4..8].SequenceEqual("IHDR"u8)) throw new InvalidImageException("corrupt PNG: first chunk is not IHDR");
        Span<byte> ihdr = stackalloc byte[13];
        if (s.ReadAtLeast(ihdr, 13, false) < 13) throw Truncated("PNG", "in the header");
        uint width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
            throw new InvalidImageException($"corrupt PNG: invalid size {width}x{height}");

        int orientation = FindPngOrientation(s);
        RequirePngEnd(s);
        return new ImageHeader(ImageFormat.Png, (int)width, (int)height, orientation) { Layered = ihdr[12] == 1 }; // Adam7
    }

    /// <summary>eXIf must come before IDAT, so we walk chunk headers (not data) up to the first IDAT.</summary>
    private static int FindPngOrientation(Stream s)
    {
        Span<byte> chunk = stackalloc byte[8];
        long position = 8 + 8 + 13 + 4;
        for (int guard = 0; guard < 64 && position + 8 <= s.Length; guard++)
        {
            s.Position = position;
            if (s.ReadAtLeast(chunk, 8, false) < 8) break;
            uint length = BinaryPrimitives.ReadUInt32BigEndian(chunk);
            var type = chunk[4..8];
            if (type.SequenceEqual("IDAT"u8)) break;
            if (type.SequenceEqual("eXIf"u8) && length is > 0 and < 1 << 20 && position + 8 + length <= s.Length)
            {
                byte[] exif = new byte[length];
                s.ReadExactly(exif);
                return ExifOrientation.Parse(exif);
            }
            position += 12L + length;
        }
        return 1;
    }

    private static void RequirePngEnd(Stream s)
    {
        const int window = 1024;
        long from = Math.Max(8, s.Length - window);
        byte[] tail = new byte[s.Length - from];
        s.Position = from;
        s.ReadExactly(tail);
        if (tail.AsSpan().LastIndexOf("IEND"u8) < 0) throw Truncated("PNG", "(no IEND chunk)");
    }

    // ---------------------------------------------------------------- WebP

    private static ImageHeader ReadWebP(Stream s)
    {
        Span<byte> header = stackalloc byte[30];
        s.Position = 0;
        int n = s.ReadAtLeast(header, header.Length, false);
        if (n < 30) throw Truncated("WebP", "in the header");
        uint riffSize = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (riffSize + 8L > s.Length) throw Truncated("WebP", $"(RIFF says {riffSize + 8L} bytes, file has {s.Length})");

        var fourcc = header[12..16];
        int width, height, orientation = 1;
        if (fourcc.SequenceEqual("VP8X"u8))
        {
            width = 1 + (header[24] | header[25] << 8 | header[26] << 16);
            height = 1 + (header[27] | header[28] << 8 | header[29] << 16);
            bool hasExif = (header[20] & 0x08) != 0;
            if (hasExif) orientation = FindWebPOrientation(s, riffSize);
        }
        else if (fourcc.SequenceEqual("VP8 "u8))
        {
            // frame tag (3 bytes) then start code 9D 01 2A, then 14-bit width and height.
            if (header[23] != 0x9D || header[24] != 0x01 || header[25] != 0x2A)
                throw new InvalidImageException("corrupt WebP: bad VP8 start code");
            width = BinaryPrimitives.ReadUInt16LittleEndian(header[26..]) & 0x3FFF;
            height = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]) & 0x3FFF;
        }
        else if (fourcc.SequenceEqual("VP8L"u8))
        {
            if (header[20] != 0x2F) throw new InvalidImageException("corrupt WebP: bad VP8L signature");
            uint bits = BinaryPrimitives.ReadUInt32LittleEndian(header[21..]);
            width = (int)(bits & 0x3FFF) + 1;
            height = (int)((bits >> 14) & 0x3FFF) + 1;
        }
        else throw new InvalidImageException("corrupt WebP: unknown first chunk");

        if (width <= 0 || height <= 0) throw new InvalidImageException($"corrupt WebP: invalid size {width}x{height}");
        return new ImageHeader(ImageFormat.WebP, width, height, orientation);
    }

    private static int FindWebPOrientation(Stream s, uint riffSize)
    {
        Span<byte> chunk = stackalloc byte[8];
        long position = 12;
        long end = Math.Min(s.Length, riffSize + 8L);
        for (int guard = 0; guard < 64 && position + 8 <= end; guard++)
        {
            s.Position = position;
            s.ReadExactly(chunk);
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            if (chunk[..4].SequenceEqual("EXIF"u8) && length < 1 << 20 && position + 8 + length <= end)
            {
                byte[] exif = new byte[length];
                s.ReadExactly(exif);
                var span = exif.AsSpan();
                if (span.StartsWith("Exif\0\0"u8)) span = span[6..];
                return ExifOrientation.Parse(span);
            }
            position += 8L + length + (length & 1);
        }
        return 1;
    }

    private static InvalidImageException Truncated(string format, string where) =>
        new($"truncated {format}: the file ends early {where}; re-export or re-download it");
}
