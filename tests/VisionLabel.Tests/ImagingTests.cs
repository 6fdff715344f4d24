using VisionLabel.Imaging;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Unit)]
public class ImagingTests
{
    [Fact]
    public void Header_of_every_coco128_jpeg_matches_a_full_libjpeg_turbo_decode()
    {
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg");
        Assert.NotEmpty(files);
        foreach (var path in files)
        {
            byte[] bytes = File.ReadAllBytes(path);
            var header = ImageHeaderReader.Read(bytes);
            var decoded = ImageCodec.Decode(bytes, ImageFormat.Jpeg);
            Assert.Equal(ImageFormat.Jpeg, header.Format);
            Assert.True((decoded.Width, decoded.Height) == (header.StoredWidth, header.StoredHeight),
                $"{Path.GetFileName(path)}: header {header.StoredWidth}x{header.StoredHeight}, decoded {decoded.Width}x{decoded.Height}");
        }
    }

    [Fact]
    public void Truncated_jpeg_is_refused_by_the_header_check_and_by_the_decoder()
    {
        byte[] whole = ImageCodec.EncodeJpeg(TestImages.Quadrants(320, 200));
        byte[] half = whole[..(whole.Length / 2)];
        var e = Assert.Throws<InvalidImageException>(() => ImageHeaderReader.Read(half));
        Assert.Contains("truncated JPEG", e.Message);
        Assert.Throws<InvalidImageException>(() => ImageCodec.Decode(half, ImageFormat.Jpeg));
    }

    [Theory]
    [InlineData(new byte[0], "empty")]
    [InlineData(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, "not a JPEG, PNG, WebP or TIFF")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF }, "truncated JPEG")]
    [InlineData(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 }, "truncated PNG")]
    public void Junk_is_refused_with_a_reason(byte[] bytes, string reason)
    {
        var e = Assert.Throws<InvalidImageException>(() => ImageHeaderReader.Read(bytes));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void Png_header_and_decode_agree_and_pixels_survive()
    {
        var image = TestImages.Quadrants(90, 60);
        byte[] png = TestImages.Png(image);
        var header = ImageHeaderReader.Read(png);
        Assert.Equal((ImageFormat.Png, 90, 60, 1), (header.Format, header.Width, header.Height, header.Orientation));
        var decoded = ImageCodec.Decode(png, ImageFormat.Png);
        Assert.Equal(image.Pixels, decoded.Pixels);
    }

    [Fact]
    public void Png_bomb_header_is_read_without_decoding()
    {
        var header = ImageHeaderReader.Read(TestImages.PngHeaderOnly(30000, 30000));
        Assert.Equal(900_000_000, header.PixelCount);
    }

    [Theory]
    [InlineData(1, 400, 300)]
    [InlineData(3, 400, 300)]
    [InlineData(6, 300, 400)]
    [InlineData(8, 300, 400)]
    public void Exif_orientation_is_read_and_the_thumbnail_is_turned_upright(int orientation, int shownWidth, int shownHeight)
    {
        byte[] jpeg = TestImages.WithExifOrientation(ImageCodec.EncodeJpeg(TestImages.Quadrants(400, 300), quality: 95), orientation);
        var header = ImageHeaderReader.Read(jpeg);
        Assert.Equal(orientation, header.Orientation);
        Assert.Equal((shownWidth, shownHeight), (header.Width, header.Height));

        var thumb = ImageCodec.Decode(ImageTransforms.MakeThumbnail(jpeg, header, 100), ImageFormat.Jpeg);
        Assert.Equal(100, Math.Max(thumb.Width, thumb.Height));
        Assert.Equal(shownWidth > shownHeight, thumb.Width > thumb.Height);

        // Orientation 6 means "rotate 90° clockwise to view": the stored top-left (red) ends up top-right.
        var expectedTopLeft = orientation switch { 1 => "red", 3 => "yellow", 6 => "blue", _ => "green" };
        Assert.Equal(expectedTopLeft, Colour(TestImages.PixelAt(thumb, 0.2, 0.2)));
    }

    [Fact]
    public void Shrinking_averages_instead_of_sampling()
    {
        // 1-pixel black/white stripes average to mid-grey; nearest-neighbour sampling would give pure black or white.
        var stripes = new RgbImage(200, 100);
        for (int y = 0; y < 100; y++) for (int x = 0; x < 200; x += 2) stripes.Pixels.AsSpan((y * 200 + x) * 3, 3).Fill(255);
        var small = ImageTransforms.ShrinkToFit(stripes, 50);
        Assert.Equal((50, 25), (small.Width, small.Height));
        Assert.All(small.Pixels, p => Assert.InRange(p, 120, 135));
    }

    private static string Colour((byte R, byte G, byte B) p) => p switch
    {
        { R: > 150, G: < 100, B: < 100 } => "red",
        { R: < 100, G: > 150, B: < 100 } => "green",
        { R: < 100, G: < 100, B: > 150 } => "blue",
        { R: > 150, G: > 150, B: < 100 } => "yellow",
        _ => $"({p.R},{p.G},{p.B})",
    };
}
