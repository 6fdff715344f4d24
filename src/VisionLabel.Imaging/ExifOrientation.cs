using System.Buffers.Binary;

namespace VisionLabel.Imaging;

/// <summary>Finds tag 0x0112 (Orientation) in IFD0 of a TIFF-structured EXIF block. Anything odd yields 1.</summary>
public static class ExifOrientation
{
    public static int Parse(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8) return 1;
        bool little = tiff[0] == (byte)'I' && tiff[1] == (byte)'I';
        bool big = tiff[0] == (byte)'M' && tiff[1] == (byte)'M';
        if (!little && !big) return 1;

        static ushort U16(ReadOnlySpan<byte> b, bool le) => le ? BinaryPrimitives.ReadUInt16LittleEndian(b) : BinaryPrimitives.ReadUInt16BigEndian(b);
        static uint U32(ReadOnlySpan<byte> b, bool le) => le ? BinaryPrimitives.ReadUInt32LittleEndian(b) : BinaryPrimitives.ReadUInt32BigEndian(b);

        if (U16(tiff[2..], little) != 42) return 1;
        uint ifd = U32(tiff[4..], little);
        if (ifd > tiff.Length - 2) return 1;
        int count = U16(tiff[(int)ifd..], little);
        for (int i = 0; i < count; i++)
        {
            int entry = (int)ifd + 2 + i * 12;
            if (entry + 12 > tiff.Length) return 1;
            if (U16(tiff[entry..], little) != 0x0112) continue;
            int value = U16(tiff[(entry + 8)..], little);
            return value is >= 1 and <= 8 ? value : 1;
        }
        return 1;
    }
}
