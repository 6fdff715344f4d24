using System.Diagnostics;
using VisionLabel.Imaging;

namespace VisionLabel.Bench;

/// <summary>
/// What intake's full check costs: header only (what intake did before), ImageCodec.Verify (what it does now) and a
/// full RGB decode (the baseline), in ms per megapixel, on coco128 photos and on made-up 12 MP photo-like images.
/// </summary>
public static class IntakeBench
{
    public static Task<int> RunAsync(BenchArgs options)
    {
        var cases = new List<(string Name, ImageFormat Format, byte[][] Files)>();
        string coco = Path.Combine(options.Shared, "datasets", "coco128", "images", "train2017");
        if (Directory.Exists(coco))
            cases.Add(("coco128 jpeg (~0.3 MP)", ImageFormat.Jpeg, Directory.GetFiles(coco, "*.jpg").Order().Take(options.Images).Select(File.ReadAllBytes).ToArray()));
        else Console.Error.WriteLine($"no {coco}: the coco128 case is skipped");
        var photo = PhotoLike(4000, 3000);
        cases.Add(("12 MP jpeg q85", ImageFormat.Jpeg, [ImageCodec.EncodeJpeg(photo)]));
        cases.Add(("12 MP png", ImageFormat.Png, [PngWriter.Encode(photo)]));

        Console.WriteLine("| image | header ms/MP | verify ms/MP | full decode ms/MP | verify / full decode |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (var (name, format, files) in cases)
        {
            double mp = files.Sum(f => { var h = ImageHeaderReader.Read(new MemoryStream(f)); return h.PixelCount / 1e6; });
            double header = Time(files, f => ImageHeaderReader.Read(new MemoryStream(f)), options.Seconds) / mp;
            double verify = Time(files, f => ImageCodec.Verify(f, format), options.Seconds) / mp;
            double full = Time(files, f => ImageCodec.Decode(f, format), options.Seconds) / mp;
            Console.WriteLine($"| {name} | {header:0.000} | {verify:0.00} | {full:0.00} | {verify / full:0.00} |");
        }
        return Task.FromResult(0);
    }

    /// <summary>Median ms for one pass over all files, repeated for about <paramref name="seconds"/>/3.</summary>
    private static double Time(byte[][] files, Action<byte[]> work, double seconds)
    {
        foreach (var f in files) work(f); // warm-up
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        do
        {
            var sw = Stopwatch.StartNew();
            foreach (var f in files) work(f);
            samples.Add(sw.Elapsed.TotalMilliseconds);
        } while (total.Elapsed.TotalSeconds < seconds / 3 || samples.Count < 3);
        samples.Sort();
        return samples[samples.Count / 2];
    }

    /// <summary>Smooth gradients with fine noise: compresses like a photo, unlike flat test patterns.</summary>
    private static RgbImage PhotoLike(int width, int height)
    {
        var image = new RgbImage(width, height);
        var random = new Random(1);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                double v = 128 + 60 * Math.Sin(x / 97.0) * Math.Cos(y / 71.0);
                image.Pixels[i] = (byte)Math.Clamp(v + random.Next(-12, 12), 0, 255);
                image.Pixels[i + 1] = (byte)Math.Clamp(255 - v + random.Next(-12, 12), 0, 255);
                image.Pixels[i + 2] = (byte)Math.Clamp(v / 2 + x % 64 + random.Next(-12, 12), 0, 255);
            }
        return image;
    }
}

/// <summary>A plain PNG writer (zlib scanlines, CRCs) for bench inputs.</summary>
internal static class PngWriter
{
    public static byte[] Encode(RgbImage image)
    {
        var raw = new MemoryStream();
        for (int y = 0; y < image.Height; y++)
        {
            raw.WriteByte(0);
            raw.Write(image.Pixels, y * image.Width * 3, image.Width * 3);
        }
        var idat = new MemoryStream();
        using (var z = new System.IO.Compression.ZLibStream(idat, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true)) raw.WriteTo(z);
        var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr, image.Width);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), image.Height);
        ihdr[8] = 8; ihdr[9] = 2;
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        s.Write(length);
        var typed = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typed);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(length, Crc32(typed));
        s.Write(length);
    }
}
