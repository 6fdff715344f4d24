using VisionLabel.Inference;
using VisionLabel.Server.Annotations;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Unit)]
public class CocoRleTests
{
    [Fact]
    public void Random_masks_round_trip_through_counts_and_text()
    {
        var random = new Random(1234);
        for (int trial = 0; trial < 200; trial++)
        {
            int h = random.Next(1, 40), w = random.Next(1, 40);
            var mask = new byte[h * w];
            // Blobs of varied run lengths, including long runs whose deltas go negative.
            for (int i = 0; i < mask.Length; i++) mask[i] = (byte)(random.NextDouble() < (i % 97 < 50 ? 0.9 : 0.05) ? 1 : 0);
            var counts = CocoRle.FromMask(mask);
            Assert.Equal(h * w, counts.Sum());
            string text = CocoRle.Encode(counts);
            Assert.Equal(counts, CocoRle.Decode(text));
            Assert.Equal(mask, CocoRle.ToMask(CocoRle.Decode(text)!, h, w));
        }
    }

    [Fact]
    public void Known_pycocotools_encoding()
    {
        // Counts below 16 need one character each (48 + value); delta coding starts at the fourth count.
        Assert.Equal("565", CocoRle.Encode([5, 6, 5]));
        // Fourth count is delta-coded against the second: [2, 3, 4, 1] -> '2','3','4', (1-3=-2) -> 5-bit two's complement 30 -> 48+30 = 'N'.
        Assert.Equal("234N", CocoRle.Encode([2, 3, 4, 1]));
        Assert.Equal([2L, 3, 4, 1], CocoRle.Decode("234N"));
    }

    [Fact]
    public void Garbage_text_is_not_rle()
    {
        Assert.Null(CocoRle.Decode("\u0001\u0002"));
        Assert.Null(CocoRle.Decode("o")); // continuation bit set with nothing after it
    }
}

[Trait("Tier", Tiers.Unit)]
public class WindowRleTests
{
    [Fact]
    public void Window_rle_equals_the_rle_of_the_whole_image()
    {
        var random = new Random(99);
        for (int trial = 0; trial < 300; trial++)
        {
            int W = random.Next(1, 30), H = random.Next(1, 30);
            int x0 = random.Next(0, W), y0 = random.Next(0, H);
            int w = random.Next(0, W - x0 + 1), h = random.Next(0, H - y0 + 1);
            var window = new byte[w * h];
            double density = random.NextDouble();
            for (int i = 0; i < window.Length; i++) window[i] = (byte)(random.NextDouble() < density ? 1 : 0);

            var full = new byte[W * H]; // column-major, as COCO
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) full[(x0 + x) * H + y0 + y] = window[y * w + x];

            var rle = VisionLabel.Inference.MaskRenderer.ToRle(window, x0, y0, w, h, W, H);
            Assert.Equal(CocoRle.FromMask(full), rle.Counts);
        }
    }
}
