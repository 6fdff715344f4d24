using System.Text.Json;
using VisionLabel.Inference;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Tests;

/// <summary>The one geometry module: parse, check against the image, measure, and serialise back to the same normal form.</summary>
[Trait("Tier", Tiers.Unit)]
public class GeometryTests
{
    private static Geometry Parse(AnnotationKind kind, string json, int w = 100, int h = 50)
    {
        var result = Geometry.Parse(kind, JsonDocument.Parse(json).RootElement, w, h);
        Assert.True(result.Error is null, result.Error);
        return result.Value!;
    }

    private static string Problem(AnnotationKind kind, string json, int w = 100, int h = 50) =>
        Geometry.Parse(kind, JsonDocument.Parse(json).RootElement, w, h).Error ?? "(accepted)";

    private static string Measures(Geometry g) => $"{JsonSerializer.Serialize(g.Bounds)} {g.Area}";

    [Fact]
    public void Each_kind_measures_as_COCO_does_and_round_trips_through_its_normal_form()
    {
        var box = Parse(AnnotationKind.Box, """{"x":10,"y":5,"width":20,"height":4.5}""");
        Assert.Equal("[10,5,20,4.5] 90", Measures(box));

        // Two rings: a 10x10 square and a right triangle with legs 4; areas add as COCO's polygon area does.
        var polygon = Parse(AnnotationKind.Polygon, """{"rings":[[0,0,10,0,10,10,0,10],[20,20,24,20,20,24]]}""");
        Assert.Equal("[0,0,24,24] 108", Measures(polygon));

        // A 4x3 image (column-major): column 1 rows 1-2 and column 2 row 1 are set.
        var runs = new long[] { 4, 2, 2, 1, 3 };
        var mask = Parse(AnnotationKind.Mask, $$"""{"size":[3,4],"counts":"{{CocoRle.Encode(runs)}}","polygons":[[1,1,3,1,2,3]]}""", 4, 3);
        Assert.Equal("[1,1,2,2] 3", Measures(mask));
        Assert.Equal(runs, ((MaskGeometry)mask).Runs);

        foreach (var g in new[] { box, polygon, mask })
        {
            var again = Geometry.Read(g.Kind, g.ToJsonString());
            Assert.Equal(g.ToJsonString(), again.ToJsonString());
            Assert.Equal(Measures(g), Measures(again));
        }
        // Runs given as an array are stored as COCO's compressed text.
        Assert.Equal(mask.ToJson()["counts"]!.GetValue<string>(), Parse(AnnotationKind.Mask, """{"size":[3,4],"counts":[4,2,2,1,3]}""", 4, 3).ToJson()["counts"]!.GetValue<string>());
    }

    [Fact]
    public void Problems_name_what_is_wrong()
    {
        Assert.Contains("finite numbers x, y, width and height", Problem(AnnotationKind.Box, """{"x":1,"y":1,"width":"wide","height":2}"""));
        Assert.Contains("must be positive", Problem(AnnotationKind.Box, """{"x":1,"y":1,"width":0,"height":2}"""));
        Assert.Contains("outside the 100x50 image", Problem(AnnotationKind.Box, """{"x":90,"y":1,"width":20,"height":2}"""));
        Assert.Equal("(accepted)", Problem(AnnotationKind.Box, """{"x":-0.4,"y":0,"width":100.8,"height":50}""")); // sub-pixel tolerance
        Assert.Contains("odd count", Problem(AnnotationKind.Polygon, """{"rings":[[1,1,2,2,3]]}"""));
        Assert.Contains("at least 3", Problem(AnnotationKind.Polygon, """{"rings":[[1,1,2,2]]}"""));
        Assert.Contains("ring 1 point 2 (y=60)", Problem(AnnotationKind.Polygon, """{"rings":[[1,1,2,2,3,1],[1,1,2,2,3,60]]}"""));
        Assert.Contains("does not match the image", Problem(AnnotationKind.Mask, """{"size":[3,4],"counts":[12]}"""));
        Assert.Contains("cover 11 pixels", Problem(AnnotationKind.Mask, """{"size":[3,4],"counts":[11]}""", 4, 3));
        // Runs whose sum would overflow a long: refused by name, not an exception.
        Assert.Contains("cover more than the 12 pixels", Problem(AnnotationKind.Mask, """{"size":[3,4],"counts":[9223372036854775807,1]}""", 4, 3));
        Assert.Contains("not a valid COCO RLE string", Problem(AnnotationKind.Mask, """{"size":[3,4],"counts":"\u0001"}""", 4, 3));
        Assert.Contains("mask polygons: ring 0", Problem(AnnotationKind.Mask, """{"size":[3,4],"counts":[12],"polygons":[[1,1]]}""", 4, 3));
        Assert.Contains("must be a JSON object", Problem(AnnotationKind.Polygon, "[1,2,3]"));
    }
}
