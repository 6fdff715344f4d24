using VisionLabel.Shapes;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Tests;

/// <summary>
/// Mask → polygon tracing with holes: each hole is joined into its region's ring by a zero-width keyhole bridge, so the
/// one ring rasterised the COCO way gives the mask back with the hole empty.
/// </summary>
[Trait("Tier", Tiers.Unit)]
public class MaskContoursTests
{
    private const int W = 160, H = 140;

    private static byte[] Mask(Func<int, int, bool> on)
    {
        var mask = new byte[W * H];
        for (int y = 0; y < H; y++) for (int x = 0; x < W; x++) if (on(x, y)) mask[y * W + x] = 1;
        return mask;
    }

    private static bool In(int x, int y, int x0, int y0, int x1, int y1) => x >= x0 && x < x1 && y >= y0 && y < y1;

    /// <summary>The rings rasterised as COCO does, its IoU with the mask, and whether a pixel ends up covered.</summary>
    private static (double Iou, Func<int, int, bool> Covered) RoundTrip(byte[] mask, List<float[]> rings)
    {
        var truth = CocoRle.FromWindow(mask, 0, 0, W, H, W, H);
        var traced = CocoRaster.Polygons(rings.Select(r => r.Select(v => (double)v).ToArray()).ToList(), H, W);
        long inter = Runs.IntersectionArea(truth, traced), union = Runs.Area(truth) + Runs.Area(traced) - inter;
        var pixels = CocoRle.ToMask(traced, H, W); // column-major
        return ((double)inter / union, (x, y) => pixels[x * H + y] != 0);
    }

    [Fact]
    public void A_donut_traces_to_one_ring_whose_hole_stays_empty()
    {
        var donut = Mask((x, y) => In(x, y, 20, 20, 120, 120) && !In(x, y, 50, 50, 90, 90));
        var rings = MaskContours.Trace(donut, W, H, 0, 0);
        Assert.Single(rings);
        var (iou, covered) = RoundTrip(donut, rings);
        Assert.True(iou >= 0.95, $"IoU {iou:F3}");
        Assert.False(covered(70, 70), "the hole's centre must stay empty");
        Assert.True(covered(35, 70), "the donut's body must be covered");
    }

    [Fact]
    public void Two_holes_are_both_kept()
    {
        var mask = Mask((x, y) => In(x, y, 10, 10, 150, 100) && !In(x, y, 30, 30, 60, 80) && !In(x, y, 90, 30, 130, 80));
        var rings = MaskContours.Trace(mask, W, H, 0, 0);
        Assert.Single(rings);
        var (iou, covered) = RoundTrip(mask, rings);
        Assert.True(iou >= 0.95, $"IoU {iou:F3}");
        Assert.False(covered(45, 55));
        Assert.False(covered(110, 55));
        Assert.True(covered(75, 55), "the wall between the holes must be covered");
    }

    [Fact]
    public void An_island_inside_a_hole_is_its_own_ring()
    {
        var mask = Mask((x, y) => (In(x, y, 10, 10, 130, 130) && !In(x, y, 40, 40, 100, 100)) || In(x, y, 60, 60, 80, 80));
        var rings = MaskContours.Trace(mask, W, H, 0, 0);
        Assert.Equal(2, rings.Count);
        var (iou, covered) = RoundTrip(mask, rings);
        Assert.True(iou >= 0.95, $"IoU {iou:F3}");
        Assert.True(covered(70, 70), "the island is covered");
        Assert.False(covered(50, 50), "the hole around the island is empty");
    }

    [Fact]
    public void Holes_under_the_minimum_are_left_out_and_the_origin_applies()
    {
        var mask = Mask((x, y) => In(x, y, 10, 10, 60, 60) && !(x == 30 && y == 30));
        var rings = MaskContours.Trace(mask, W, H, originX: 100, originY: 50);
        Assert.Single(rings);
        Assert.Equal(4, rings[0].Length / 2); // the square alone: the one-pixel hole is left out
        Assert.All(rings[0].Where((_, i) => i % 2 == 0), x => Assert.InRange(x, 110, 160));
    }
}
