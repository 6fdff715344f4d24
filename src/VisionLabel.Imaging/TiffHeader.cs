using System.Buffers.Binary;

namespace VisionLabel.Imaging;

/// <summary>
/// Width, height and orientation from a TIFF's first image file directory (classic TIFF and BigTIFF, either byte order),
/// reading only the directory: a pyramidal TIFF's first directory is its full-resolution image. Offsets and counts are
/// checked against the file, so a crafted directory cannot send the reader outside it or into a long loop; whether the
/// pixel data is intact is for <see cref="LargeImages.Verify"/>.
/// </summary>
internal static class TiffHeader
{
    private const int MaxEntries = 4096;
    private const ushort TagWidth = 256, TagHeight = 257, TagBitsPerSample = 258, TagOrientation = 274, TagSamplesPerPixel = 277, TagRowsPerStrip = 278,
        TagTileWidth = 322, TagTileLength = 323;

    public static ImageHeader Read(Stream s)
    {
        Span<byte> head = stackalloc byte[16];
        s.Position = 0;
        if (s.ReadAtLeast(head, 8, throwOnEndOfStream: false) < 8) throw Truncated("in the header");
        bool little = head[0] == (byte)'I';
        bool big = U16(head[2..], little) == 43;
        long ifd;
        if (big)
        {
            s.Position = 0;
            if (s.ReadAtLeast(head, 16, throwOnEndOfStream: false) < 16) throw Truncated("in the header");
            if (U16(head[4..], little) != 8) throw new InvalidImageException("corrupt TIFF: BigTIFF with an offset size other than 8");
            ulong offset = U64(head[8..], little);
            if (offset >= (ulong)s.Length) throw new InvalidImageException("corrupt TIFF: the first directory lies outside the file");
            ifd = (long)offset;
        }
        else ifd = U32(head[4..], little);
        if (ifd < 8 || ifd >= s.Length) throw new InvalidImageException("corrupt TIFF: the first directory lies outside the file");

        s.Position = ifd;
        Span<byte> countBytes = stackalloc byte[8];
        int countSize = big ? 8 : 2, entrySize = big ? 20 : 12;
        if (s.ReadAtLeast(countBytes[..countSize], countSize, throwOnEndOfStream: false) < countSize) throw Truncated("in the first directory");
        ulong count = big ? U64(countBytes, little) : U16(countBytes, little);
        if (count == 0 || count > MaxEntries) throw new InvalidImageException($"corrupt TIFF: the first directory has {count} entries");
        if (ifd + countSize + (long)count * entrySize > s.Length) throw Truncated("in the first directory");

        long width = 0, height = 0, rowsPerStrip = long.MaxValue, tileWidth = 0, tileLength = 0, samples = 1, bits = 16; // bits: the most a sample takes, unless said
        int orientation = 1;
        Span<byte> entry = stackalloc byte[20];
        for (ulong i = 0; i < count; i++)
        {
            s.ReadExactly(entry[..entrySize]);
            ushort tag = U16(entry, little), type = U16(entry[2..], little);
            if (tag is not (TagWidth or TagHeight or TagOrientation or TagBitsPerSample or TagSamplesPerPixel or TagRowsPerStrip or TagTileWidth or TagTileLength)) continue;
            ulong valueCount = big ? U64(entry[4..], little) : U32(entry[4..], little);
            if (tag == TagBitsPerSample && valueCount != 1) continue; // one per sample, stored elsewhere: the 16-bit bound stands
            var value = entry[(big ? 12 : 8)..];
            // SHORT (3) or LONG (4) (LONG8 (16) in BigTIFF), stored in the entry itself for a single value.
            long v = type switch
            {
                3 => U16(value, little),
                4 => U32(value, little),
                16 when big => U64(value, little) is var big64 && big64 <= int.MaxValue ? (long)big64 : long.MaxValue,
                _ => throw new InvalidImageException($"corrupt TIFF: tag {tag} has type {type}, not a whole number"),
            };
            switch (tag)
            {
                case TagWidth: width = v; break;
                case TagHeight: height = v; break;
                case TagOrientation: orientation = v is >= 1 and <= 8 ? (int)v : 1; break;
                case TagBitsPerSample: bits = Math.Clamp(v, 1, 64); break;
                case TagSamplesPerPixel: samples = Math.Clamp(v, 1, 16); break;
                case TagRowsPerStrip: rowsPerStrip = Math.Max(1, v); break;
                case TagTileWidth: tileWidth = v; break;
                case TagTileLength: tileLength = v; break;
            }
        }
        if (width <= 0 || height <= 0) throw new InvalidImageException("corrupt TIFF: no image width and height in the first directory");
        if (width > int.MaxValue || height > int.MaxValue) throw new InvalidImageException($"TIFF is {width}×{height}: too large to accept");
        // What one strip or tile decodes to (a strip-by-strip reader holds one): tiles, else rows per strip (all rows when unsaid).
        double bytesPerPixel = samples * bits / 8.0;
        double chunk = tileWidth > 0 && tileLength > 0 ? (double)tileWidth * tileLength * bytesPerPixel : width * (double)Math.Min(rowsPerStrip, height) * bytesPerPixel;
        return new ImageHeader(ImageFormat.Tiff, (int)width, (int)height, orientation) { LargestChunkBytes = chunk > long.MaxValue ? long.MaxValue : (long)chunk };
    }

    private static ushort U16(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
    private static uint U32(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);
    private static ulong U64(ReadOnlySpan<byte> b, bool little) => little ? BinaryPrimitives.ReadUInt64LittleEndian(b) : BinaryPrimitives.ReadUInt64BigEndian(b);

    private static InvalidImageException Truncated(string where) => new($"truncated TIFF: the file ends {where}");
}
