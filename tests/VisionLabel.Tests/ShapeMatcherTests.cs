using VisionLabel.Shapes;
using VisionLabel.Shapes.Matching;

namespace VisionLabel.Tests;

/// <summary>The matching engine on hand-worked cases: exact box IoU, COCO rasterisation, maximum-total-IoU matching (not
/// greedy), ties, one shape over two, crowd regions, empty sides, confusions, and the figures' definitions.</summary>
[Trait("Tier", Tiers.Unit)]
public class ShapeMatcherTests
{
    private static readonly Guid Car = Guid.Parse("00000000-0000-0000-0000-0000000000ca"), Truck = Guid.Parse("00000000-0000-0000-0000-0000000000cb");
    private static MatchItem Box(double x, double y, double w, double h, Guid? label = null, bool crowd = false) =>
        new(Guid.NewGuid(), label ?? Car, new BoxShape(x, y, w, h), crowd);

    [Fact]
    public void Box_iou_is_the_area_iou_of_the_rectangles_as_stored()
    {
        Assert.Equal(50.0 / 150, ShapeMatcher.Iou(new BoxShape(0, 0, 10, 10), new BoxShape(5, 0, 10, 10), 100, 100), 12);
        Assert.Equal(0.25 / 1.75, ShapeMatcher.Iou(new BoxShape(0, 0, 1, 1), new BoxShape(0.5, 0.5, 1, 1), 100, 100), 12); // no pixel rounding
        Assert.Equal(0, ShapeMatcher.Iou(new BoxShape(0, 0, 10, 10), new BoxShape(10, 0, 10, 10), 100, 100));
    }

    [Fact]
    public void Rasterisation_follows_coco()
    {
        // An integer box covers exactly its pixels; as a polygon it is the same raster.
        var box = CocoRaster.Box(10, 10, 20, 20, 64, 64);
        Assert.Equal(400, Runs.Area(box));
        Assert.Equal(box, CocoRaster.Polygon([10, 10, 30, 10, 30, 30, 10, 30], 64, 64));
        // Column-major runs: the first set pixel is (x 10, y 10) = index 10·64 + 10.
        Assert.Equal(10 * 64 + 10, box[0]);
        Assert.Equal(20, box[1]);
        // A half-pixel box covers the pixels whose centres it contains (COCO's rule): x 0.5..2.5 holds the centres of columns 1 and 2… after its 5× walk.
        Assert.Equal(4, Runs.Area(CocoRaster.Box(0.6, 0.6, 2, 2, 8, 8)));
        // Two rings: their union.
        var two = CocoRaster.Polygons([[0, 0, 4, 0, 4, 4, 0, 4], [2, 2, 6, 2, 6, 6, 2, 6]], 8, 8);
        Assert.Equal(16 + 16 - 4, Runs.Area(two));
        // The sum of runs is the image.
        Assert.Equal(64 * 64, box.Sum());
        // A mask (COCO RLE at image size) equal to a box's raster matches it exactly.
        Assert.Equal(1.0, ShapeMatcher.Iou(new MaskShape(box), new BoxShape(10, 10, 20, 20), 64, 64), 12);
        Assert.Equal(box, CocoRle.Decode(CocoRle.Encode(box))!.ToArray());
    }

    [Fact]
    public void Matching_maximises_the_total_iou_not_greedily()
    {
        // Greedy would take the 0.9 pair and leave both others unmatched (total 0.9); the best total is 0.6 + 0.6.
        var assignment = Hungarian.MaxWeight(new[,] { { 0.9, 0.6 }, { 0.6, 0.0 } });
        Assert.Equal([1, 0], assignment);
        Assert.Equal([-1, 0], Hungarian.MaxWeight(new[,] { { 0.0 }, { 0.7 } }).Select((c, r) => r == 0 ? -1 : c)); // more rows than columns
        Assert.Equal([1, 0, -1], Hungarian.MaxWeight(new[,] { { 0.1, 0.8 }, { 0.9, 0.2 }, { 0.3, 0.3 } }));
    }

    [Fact]
    public void Ties_one_shape_over_two_and_thresholds()
    {
        // Two identical truths, one submission on them: one match, one miss.
        var m = ShapeMatcher.Match([Box(0, 0, 10, 10), Box(0, 0, 10, 10)], [Box(0, 0, 10, 10)], 100, 100);
        Assert.Equal((1L, 0L, 1L), (m.Counts.Tp, m.Counts.Fp, m.Counts.Fn));
        // One submission over two truths: IoU 90/110 with the first, 30/170 with the second (below τ).
        var a = Box(0, 0, 10, 10);
        var b = Box(8, 0, 10, 10);
        var s = Box(1, 0, 10, 10);
        m = ShapeMatcher.Match([a, b], [s], 100, 100);
        Assert.Equal((a.Id, s.Id), (m.Pairs.Single().Truth, m.Pairs.Single().Submitted));
        Assert.Equal(90.0 / 110, m.Pairs.Single().Iou, 12);
        Assert.Equal(b.Id, m.FalseNegatives.Single().Id);
        // τ is inclusive: IoU exactly 0.5 matches at 0.5, not at 0.51.
        var half = Box(0, 0, 10, 10);
        var other = Box(0, 0, 10, 5);
        Assert.Single(ShapeMatcher.Match([half], [other], 100, 100, 0.5).Pairs);
        Assert.Empty(ShapeMatcher.Match([half], [other], 100, 100, 0.51).Pairs);
    }

    [Fact]
    public void Crowd_truth_is_left_out_and_labels_are_matched_apart_with_confusions()
    {
        var m = ShapeMatcher.Match([Box(0, 0, 50, 50, crowd: true)], [Box(0, 0, 50, 50)], 100, 100);
        Assert.Equal((0L, 1L, 0L), (m.Counts.Tp, m.Counts.Fp, m.Counts.Fn));

        var car = Box(0, 0, 20, 20, Car);
        var truck = Box(1, 1, 20, 20, Truck);
        m = ShapeMatcher.Match([car], [truck], 100, 100);
        Assert.Equal((0L, 1L, 1L), (m.Counts.Tp, m.Counts.Fp, m.Counts.Fn));
        Assert.Equal(new Confusion(Car, Truck, car.Id, truck.Id), m.Confusions.Single());
    }

    [Fact]
    public void Empty_sides_and_the_figures_definitions()
    {
        var none = ShapeMatcher.Match([], [], 10, 10).Counts;
        Assert.Equal((0.0, 0.0, 0.0, 0.0, 0.0), (none.Precision, none.Recall, none.F1, none.Accuracy, none.MeanIou));
        var onlySubmitted = ShapeMatcher.Match([], [Box(0, 0, 5, 5), Box(1, 1, 5, 5)], 10, 10).Counts;
        Assert.Equal((0L, 2L, 0L, 0.0), (onlySubmitted.Tp, onlySubmitted.Fp, onlySubmitted.Fn, onlySubmitted.Recall));
        var onlyTruth = ShapeMatcher.Match([Box(0, 0, 5, 5)], [], 10, 10).Counts;
        Assert.Equal((0L, 0L, 1L, 0.0), (onlyTruth.Tp, onlyTruth.Fp, onlyTruth.Fn, onlyTruth.Precision));

        var c = new QualityCounts(3, 1, 2, 2.25);
        Assert.Equal((0.75, 0.6, 0.5, 0.75), (c.Precision, c.Recall, c.Accuracy, c.MeanIou));
        Assert.Equal(2 * 0.75 * 0.6 / 1.35, c.F1, 12);
    }

    [Fact]
    public void Polygons_and_masks_are_compared_on_their_rasters()
    {
        // A triangle over half of a box: the IoU of their COCO rasters.
        var square = new PolygonShape([[0, 0, 20, 0, 20, 20, 0, 20]]);
        var triangle = new PolygonShape([[0, 0, 20, 0, 20, 20]]);
        double iou = ShapeMatcher.Iou(square, triangle, 32, 32);
        long sq = Runs.Area(square.Raster(32, 32)), tri = Runs.Area(triangle.Raster(32, 32));
        Assert.Equal(400, sq);
        Assert.Equal((double)tri / sq, iou, 12); // the triangle lies inside the square
        Assert.InRange(tri, 190, 230);           // about half, by COCO's pixel-centre rule
        Assert.Equal(ShapeMatcher.Iou(new BoxShape(0, 0, 20, 20), triangle, 32, 32), iou, 12); // a box against a polygon: rasterised
    }
}
