using System.Text.Json;
using System.Text.Json.Nodes;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// Validates a geometry against its kind and the image it is drawn on, and returns it in normal form:
/// box {x,y,width,height} (top-left origin, image pixels); polygon {rings:[[x0,y0,x1,y1,…],…]};
/// mask {size:[height,width], counts:"…"} (COCO RLE, counts always compressed text).
/// </summary>
public static class AnnotationGeometry
{
    /// <summary>Geometry may touch the image border and sit a hair outside it (sub-pixel editing); no further.</summary>
    private const double Tolerance = 0.5;

    public readonly record struct Result(string? Json, string? Error)
    {
        public static Result Fail(string error) => new(null, error);
    }

    public static Result Normalize(AnnotationKind kind, JsonElement geometry, int imageWidth, int imageHeight)
    {
        if (geometry.ValueKind != JsonValueKind.Object) return Result.Fail($"geometry must be a JSON object for a {Name(kind)}");
        try
        {
            return kind switch
            {
                AnnotationKind.Box => Box(geometry, imageWidth, imageHeight),
                AnnotationKind.Polygon => Polygon(geometry, imageWidth, imageHeight),
                AnnotationKind.Mask => Mask(geometry, imageWidth, imageHeight),
                _ => Result.Fail("unknown kind"),
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            return Result.Fail($"geometry for a {Name(kind)} has a value of the wrong type ({e.Message})");
        }
    }

    private static string Name(AnnotationKind kind) => kind.ToString().ToLowerInvariant();

    private static Result Box(JsonElement g, int w, int h)
    {
        if (!TryNumber(g, "x", out double x) || !TryNumber(g, "y", out double y) ||
            !TryNumber(g, "width", out double bw) || !TryNumber(g, "height", out double bh))
            return Result.Fail("a box needs finite numbers x, y, width and height");
        if (bw <= 0 || bh <= 0) return Result.Fail($"box width and height must be positive (got {bw} x {bh})");
        if (x < -Tolerance || y < -Tolerance || x + bw > w + Tolerance || y + bh > h + Tolerance)
            return Result.Fail($"box [{x}, {y}, {bw}, {bh}] lies outside the {w}x{h} image");
        return new(new JsonObject { ["x"] = x, ["y"] = y, ["width"] = bw, ["height"] = bh }.ToJsonString(), null);
    }

    private static Result Polygon(JsonElement g, int w, int h)
    {
        if (!g.TryGetProperty("rings", out var rings) || rings.ValueKind != JsonValueKind.Array || rings.GetArrayLength() == 0)
            return Result.Fail("a polygon needs 'rings': a non-empty array of [x0,y0,x1,y1,…] point lists");
        var normalized = new JsonArray();
        int r = 0;
        foreach (var ring in rings.EnumerateArray())
        {
            if (ring.ValueKind != JsonValueKind.Array) return Result.Fail($"ring {r} is not an array of numbers");
            int n = ring.GetArrayLength();
            if (n % 2 != 0) return Result.Fail($"ring {r} has an odd count of coordinates ({n}); give x,y pairs");
            if (n < 6) return Result.Fail($"ring {r} has {n / 2} point(s); a polygon ring needs at least 3");
            var points = new JsonArray();
            int i = 0;
            foreach (var v in ring.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble())) return Result.Fail($"ring {r} has a non-numeric coordinate");
                double c = v.GetDouble();
                double limit = i % 2 == 0 ? w : h;
                if (c < -Tolerance || c > limit + Tolerance)
                    return Result.Fail($"ring {r} point {i / 2} ({(i % 2 == 0 ? "x" : "y")}={c}) lies outside the {w}x{h} image");
                points.Add(c);
                i++;
            }
            normalized.Add(points);
            r++;
        }
        return new(new JsonObject { ["rings"] = normalized }.ToJsonString(), null);
    }

    private static Result Mask(JsonElement g, int w, int h)
    {
        if (!g.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Array || size.GetArrayLength() != 2)
            return Result.Fail("a mask needs 'size': [height, width] and 'counts' (COCO RLE)");
        int mh = size[0].GetInt32(), mw = size[1].GetInt32();
        if (mh != h || mw != w) return Result.Fail($"mask size [{mh}, {mw}] does not match the image ([{h}, {w}] as [height, width])");
        if (!g.TryGetProperty("counts", out var countsElement)) return Result.Fail("a mask needs 'counts' (COCO RLE string or array of run lengths)");

        List<long>? counts;
        if (countsElement.ValueKind == JsonValueKind.String)
        {
            counts = CocoRle.Decode(countsElement.GetString()!);
            if (counts is null) return Result.Fail("mask counts is not a valid COCO RLE string");
        }
        else if (countsElement.ValueKind == JsonValueKind.Array)
        {
            counts = countsElement.EnumerateArray().Select(v => v.GetInt64()).ToList();
        }
        else return Result.Fail("mask counts must be a COCO RLE string or an array of run lengths");

        if (counts.Any(c => c < 0)) return Result.Fail("mask counts has a negative run");
        long total = counts.Sum();
        if (total != (long)w * h) return Result.Fail($"mask runs cover {total} pixels; a {w}x{h} image has {(long)w * h}");
        var normalized = new JsonObject { ["size"] = new JsonArray(h, w), ["counts"] = CocoRle.Encode(counts) };
        // Optional outline for editing (what model proposals carry): the same rules as a polygon's rings.
        if (g.TryGetProperty("polygons", out var polygons) && polygons.ValueKind == JsonValueKind.Array && polygons.GetArrayLength() > 0)
        {
            var outline = Polygon(JsonDocument.Parse($"{{\"rings\":{polygons.GetRawText()}}}").RootElement, w, h);
            if (outline.Error is not null) return Result.Fail("mask polygons: " + outline.Error);
            normalized["polygons"] = JsonNode.Parse(outline.Json!)!["rings"]!.DeepClone();
        }
        return new(normalized.ToJsonString(), null);
    }

    private static bool TryNumber(JsonElement g, string name, out double value)
    {
        value = 0;
        return g.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && double.IsFinite(value = v.GetDouble());
    }
}
