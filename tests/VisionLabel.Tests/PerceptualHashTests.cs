using VisionLabel.Imaging;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>The perceptual hash on real photos: coco128, and copies of some made as people make them (resized,
/// re-encoded at a low quality, slightly cropped, brightened).</summary>
[Trait("Tier", Tiers.Unit)]
public class PerceptualHashTests(ITestOutputHelper output)
{
    public static RgbImage Resize(RgbImage s, int w, int h)
    {
        var d = new RgbImage(w, h);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int sx = (int)((x + 0.5) * s.Width / w), sy = (int)((y + 0.5) * s.Height / h);
                Array.Copy(s.Pixels, (sy * s.Width + sx) * 3, d.Pixels, (y * w + x) * 3, 3);
            }
        return d;
    }

    public static RgbImage Crop(RgbImage s, double share)
    {
        int dx = (int)(s.Width * share), dy = (int)(s.Height * share);
        var d = new RgbImage(s.Width - 2 * dx, s.Height - 2 * dy);
        for (int y = 0; y < d.Height; y++) Array.Copy(s.Pixels, ((y + dy) * s.Width + dx) * 3, d.Pixels, y * d.Width * 3, d.Width * 3);
        return d;
    }

    public static RgbImage Brighten(RgbImage s, int by) => new(s.Width, s.Height, s.Pixels.Select(v => (byte)Math.Min(255, v + by)).ToArray());

    /// <summary>The four copies of a photo the health tests plant: resized to 60%, JPEG quality 15, 4% cropped off each side, brightened by 40.</summary>
    public static IEnumerable<(string How, byte[] Jpeg)> Copies(byte[] jpeg)
    {
        var image = ImageCodec.Decode(jpeg, ImageFormat.Jpeg);
        yield return ("resized", ImageCodec.EncodeJpeg(Resize(image, image.Width * 3 / 5, image.Height * 3 / 5)));
        yield return ("low quality", ImageCodec.EncodeJpeg(image, 15));
        yield return ("cropped", ImageCodec.EncodeJpeg(Crop(image, 0.04)));
        yield return ("brightened", ImageCodec.EncodeJpeg(Brighten(image, 40)));
    }

    [Fact]
    public void Copies_stay_close_and_different_photos_stay_apart()
    {
        var files = Directory.GetFiles(SharedData.Require(SharedData.Coco128Images)).Order().ToList();
        var hashes = files.Select(f => PerceptualHash.Of(ImageCodec.Decode(File.ReadAllBytes(f), ImageFormat.Jpeg))).ToList();
        int closest = int.MaxValue;
        for (int i = 0; i < hashes.Count; i++)
            for (int j = i + 1; j < hashes.Count; j++) closest = Math.Min(closest, PerceptualHash.Distance(hashes[i], hashes[j]));
        int farthest = 0;
        foreach (int i in new[] { 0, 17, 42, 99 })
            foreach (var (how, copy) in Copies(File.ReadAllBytes(files[i])))
            {
                int d = PerceptualHash.Distance(hashes[i], PerceptualHash.Of(ImageCodec.Decode(copy, ImageFormat.Jpeg)));
                output.WriteLine($"{Path.GetFileName(files[i])} {how}: {d}");
                farthest = Math.Max(farthest, d);
            }
        output.WriteLine($"closest different photos: {closest}; farthest copy: {farthest}");
        Assert.True(farthest < closest, $"copies up to {farthest} bits apart, different photos as close as {closest}");
    }
}
