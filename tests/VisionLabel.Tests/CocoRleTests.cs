using VisionLabel.Server.Annotations;

namespace VisionLabel.Tests;

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
