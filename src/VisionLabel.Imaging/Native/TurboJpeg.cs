using System.Runtime.InteropServices;

namespace VisionLabel.Imaging.Native;

/// <summary>TurboJPEG 2.1 API (Debian package libturbojpeg0). JPEG sizes are C unsigned long, hence CULong.</summary>
internal static unsafe partial class TurboJpeg
{
    private const string Lib = "libturbojpeg.so.0";

    public const int PixelFormatRgb = 0;
    public const int Subsampling420 = 2;
    public const int FlagFastDct = 2048;
    public const int FlagStopOnWarning = 8192;
    public const int ErrorWarning = 0;

    [StructLayout(LayoutKind.Sequential)]
    public struct ScalingFactor { public int Num; public int Denom; }

    [LibraryImport(Lib)] public static partial nint tjInitDecompress();
    [LibraryImport(Lib)] public static partial nint tjInitCompress();
    [LibraryImport(Lib)] public static partial int tjDestroy(nint handle);
    [LibraryImport(Lib)] public static partial nint tjGetErrorStr2(nint handle);
    [LibraryImport(Lib)] public static partial int tjGetErrorCode(nint handle);
    [LibraryImport(Lib)] public static partial ScalingFactor* tjGetScalingFactors(out int count);
    [LibraryImport(Lib)] public static partial void tjFree(byte* buffer);

    [LibraryImport(Lib)]
    public static partial int tjDecompressHeader3(nint handle, byte* jpeg, CULong size, out int width, out int height, out int subsampling, out int colorspace);

    [LibraryImport(Lib)]
    public static partial int tjDecompress2(nint handle, byte* jpeg, CULong size, byte* dst, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Lib)]
    public static partial int tjCompress2(nint handle, byte* src, int width, int pitch, int height, int pixelFormat, byte** jpeg, CULong* size, int subsampling, int quality, int flags);

    public static string Error(nint handle) => Marshal.PtrToStringUTF8(tjGetErrorStr2(handle)) ?? "unknown libjpeg-turbo error";
}

/// <summary>libpng 1.6 "simplified" API (png_image).</summary>
internal static unsafe partial class LibPng
{
    private const string Lib = "libpng16.so.16";
    public const uint ImageVersion = 1;
    public const uint FormatRgb = 0x02;
    public const uint FormatGray = 0x00;

    [StructLayout(LayoutKind.Sequential)]
    public struct PngImage
    {
        public nint Opaque;
        public uint Version;
        public uint Width;
        public uint Height;
        public uint Format;
        public uint Flags;
        public uint ColormapEntries;
        public uint WarningOrError;
        public fixed byte Message[64];
    }

    [LibraryImport(Lib)] public static partial int png_image_begin_read_from_memory(PngImage* image, byte* memory, nuint size);
    [LibraryImport(Lib)] public static partial int png_image_finish_read(PngImage* image, void* background, byte* buffer, int rowStride, void* colormap);
    [LibraryImport(Lib)] public static partial void png_image_free(PngImage* image);

    public static string Message(PngImage* image) => Marshal.PtrToStringUTF8((nint)image->Message) ?? "unknown libpng error";
}

/// <summary>libwebp simple decoding API (Debian package libwebp7).</summary>
internal static unsafe partial class LibWebP
{
    private const string Lib = "libwebp.so.7";
    [LibraryImport(Lib)] public static partial int WebPGetInfo(byte* data, nuint size, out int width, out int height);
    [LibraryImport(Lib)] public static partial byte* WebPDecodeRGBInto(byte* data, nuint size, byte* output, nuint outputSize, int stride);
}
