using System.Text.Json;
using System.Text.Json.Nodes;
using VisionLabel.Inference;
using VisionLabel.Server.Data;
using VisionLabel.Shapes;

namespace VisionLabel.Server.Annotations;

/// <summary>
/// An annotation's shape, typed: box, polygon (one or more rings) or mask (COCO RLE, with an optional outline for
/// editing). One module parses, validates, measures and serialises every geometry, for REST, the hubs, the dataset
/// formats and pre-labeling alike. Stored and sent in one normal form: box {x,y,width,height} (top-left origin, image
/// pixels); polygon {rings:[[x0,y0,x1,y1,…],…]}; mask {size:[height,width], counts:"…" (compressed text), polygons?}.
/// </summary>
public abstract record Geometry
{
    /// <summary>Geometry may touch the image border and sit a hair outside it (sub-pixel editing); no further.</summary>
    public const double Tolerance = 0.5;

    public abstract AnnotationKind Kind { get; }

    /// <summary>[x, y, width, height] as COCO's bbox: the box itself, the points' extent, the set pixels' extent.</summary>
    public abstract double[] Bounds { get; }

    /// <summary>As COCO measures it: w*h, the rings' shoelace areas summed, the pixels set.</summary>
    public abstract double Area { get; }

    /// <summary>The normal form as JSON (what is stored, broadcast and returned).</summary>
    public abstract JsonObject ToJson();

    public string ToJsonString() => ToJson().ToJsonString();

    /// <summary>Why this geometry cannot be drawn on a <paramref name="width"/>x<paramref name="height"/> image, or null.</summary>
    public abstract string? Problem(int width, int height);

    /// <summary>Parses client or dataset JSON for <paramref name="kind"/> and checks it against the image.</summary>
    public static GeometryResult Parse(AnnotationKind kind, JsonElement json, int imageWidth, int imageHeight)
    {
        if (json.ValueKind != JsonValueKind.Object) return GeometryResult.Fail($"geometry must be a JSON object for a {Name(kind)}");
        try
        {
            var parsed = kind switch
            {
                AnnotationKind.Box => BoxGeometry.FromJson(json),
                AnnotationKind.Polygon => PolygonGeometry.FromJson(json),
                AnnotationKind.Mask => MaskGeometry.FromJson(json),
                _ => GeometryResult.Fail("unknown kind"),
            };
            return parsed.Value?.Problem(imageWidth, imageHeight) is { } problem ? GeometryResult.Fail(problem) : parsed;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            return GeometryResult.Fail($"geometry for a {Name(kind)} has a value of the wrong type ({e.Message})");
        }
    }

    /// <summary>Reads a stored geometry (already in normal form and checked when it was written).</summary>
    public static Geometry Read(AnnotationKind kind, string storedJson)
    {
        using var doc = JsonDocument.Parse(storedJson);
        var result = kind switch
        {
            AnnotationKind.Box => BoxGeometry.FromJson(doc.RootElement),
            AnnotationKind.Polygon => PolygonGeometry.FromJson(doc.RootElement),
            _ => MaskGeometry.FromJson(doc.RootElement),
        };
        return result.Value ?? throw new InvalidOperationException($"stored {Name(kind)} geometry is not valid: {result.Error}");
    }

    protected static string Name(AnnotationKind kind) => kind.ToString().ToLowerInvariant();

    protected static bool TryNumber(JsonElement g, string name, out double value)
    {
        value = 0;
        return g.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && double.IsFinite(value = v.GetDouble());
    }
}

public readonly record struct GeometryResult(Geometry? Value, string? Error)
{
    public static GeometryResult Fail(string error) => new(null, error);
    public static implicit operator GeometryResult(Geometry value) => new(value, null);
}

public sealed record BoxGeometry(double X, double Y, double Width, double Height) : Geometry
{
    public override AnnotationKind Kind => AnnotationKind.Box;
    public override double[] Bounds => [X, Y, Width, Height];
    public override double Area => Width * Height;
    public override JsonObject ToJson() => new() { ["x"] = X, ["y"] = Y, ["width"] = Width, ["height"] = Height };

    /// <summary>The box as a closed ring, clockwise from the top-left corner.</summary>
    public double[] Corners() => [X, Y, X + Width, Y, X + Width, Y + Height, X, Y + Height];

    public override string? Problem(int w, int h)
    {
        if (Width <= 0 || Height <= 0) return $"box width and height must be positive (got {Width} x {Height})";
        if (X < -Tolerance || Y < -Tolerance || X + Width > w + Tolerance || Y + Height > h + Tolerance)
            return $"box [{X}, {Y}, {Width}, {Height}] lies outside the {w}x{h} image";
        return null;
    }

    public static GeometryResult FromJson(JsonElement g) =>
        TryNumber(g, "x", out double x) && TryNumber(g, "y", out double y) && TryNumber(g, "width", out double bw) && TryNumber(g, "height", out double bh)
            ? new BoxGeometry(x, y, bw, bh)
            : GeometryResult.Fail("a box needs finite numbers x, y, width and height");
}

public sealed record PolygonGeometry(IReadOnlyList<double[]> Rings) : Geometry
{
    public override AnnotationKind Kind => AnnotationKind.Polygon;
    public override double[] Bounds => PointBounds(Rings);

    /// <summary>COCO's polygon area: the rings' shoelace areas summed (matches coco_tiny_train to 1e-12).</summary>
    public override double Area => Rings.Sum(ShoelaceArea);

    public override JsonObject ToJson() => new() { ["rings"] = RingsJson(Rings) };

    public override string? Problem(int w, int h) => RingsProblem(Rings, w, h);

    public static GeometryResult FromJson(JsonElement g)
    {
        if (!g.TryGetProperty("rings", out var rings) || rings.ValueKind != JsonValueKind.Array || rings.GetArrayLength() == 0)
            return GeometryResult.Fail("a polygon needs 'rings': a non-empty array of [x0,y0,x1,y1,…] point lists");
        return ReadRings(rings, out var parsed) is { } error ? GeometryResult.Fail(error) : new PolygonGeometry(parsed);
    }

    internal static string? ReadRings(JsonElement rings, out List<double[]> parsed)
    {
        parsed = [];
        int r = 0;
        foreach (var ring in rings.EnumerateArray())
        {
            if (ring.ValueKind != JsonValueKind.Array) return $"ring {r} is not an array of numbers";
            int n = ring.GetArrayLength();
            if (n % 2 != 0) return $"ring {r} has an odd count of coordinates ({n}); give x,y pairs";
            if (n < 6) return $"ring {r} has {n / 2} point(s); a polygon ring needs at least 3";
            var points = new double[n];
            int i = 0;
            foreach (var v in ring.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble())) return $"ring {r} has a non-numeric coordinate";
                points[i++] = v.GetDouble();
            }
            parsed.Add(points);
            r++;
        }
        return null;
    }

    internal static string? RingsProblem(IReadOnlyList<double[]> rings, int w, int h)
    {
        for (int r = 0; r < rings.Count; r++)
            for (int i = 0; i < rings[r].Length; i++)
            {
                double c = rings[r][i], limit = i % 2 == 0 ? w : h;
                if (c < -Tolerance || c > limit + Tolerance)
                    return $"ring {r} point {i / 2} ({(i % 2 == 0 ? "x" : "y")}={c}) lies outside the {w}x{h} image";
            }
        return null;
    }

    internal static JsonArray RingsJson(IReadOnlyList<double[]> rings) =>
        new(rings.Select(r => (JsonNode)new JsonArray(r.Select(v => (JsonNode)JsonValue.Create(v)).ToArray())).ToArray());

    public static double ShoelaceArea(double[] ring)
    {
        int n = ring.Length / 2;
        double twice = 0;
        for (int i = 0; i < n; i++)
        {
            int j = (i + 1) % n;
            twice += ring[2 * i] * ring[2 * j + 1] - ring[2 * j] * ring[2 * i + 1];
        }
        return Math.Abs(twice) / 2;
    }

    /// <summary>[x, y, w, h] spanned by the rings' points.</summary>
    public static double[] PointBounds(IReadOnlyList<double[]> rings)
    {
        double x0 = double.MaxValue, y0 = double.MaxValue, x1 = double.MinValue, y1 = double.MinValue;
        foreach (var ring in rings)
            for (int i = 0; i + 1 < ring.Length; i += 2)
            {
                x0 = Math.Min(x0, ring[i]); x1 = Math.Max(x1, ring[i]);
                y0 = Math.Min(y0, ring[i + 1]); y1 = Math.Max(y1, ring[i + 1]);
            }
        return [x0, y0, x1 - x0, y1 - y0];
    }
}

/// <summary>A whole-image mask as COCO RLE runs (column-major, starting with zeros), with an optional outline for editing.</summary>
public sealed record MaskGeometry(int Height, int Width, IReadOnlyList<long> Runs, IReadOnlyList<double[]>? Outline = null) : Geometry
{
    public override AnnotationKind Kind => AnnotationKind.Mask;
    public override double[] Bounds => CocoRle.Box(Runs, Height);
    public override double Area => CocoRle.Area(Runs);

    /// <summary>The RLE as COCO's compressed counts text.</summary>
    public string Counts => CocoRle.Encode(Runs);

    public override JsonObject ToJson()
    {
        var json = new JsonObject { ["size"] = new JsonArray(Height, Width), ["counts"] = Counts };
        if (Outline is { Count: > 0 } outline) json["polygons"] = PolygonGeometry.RingsJson(outline);
        return json;
    }

    /// <summary>Column-major 0/1 pixels (for tracing an outline).</summary>
    public byte[] ColumnMajorPixels() => CocoRle.ToMask(Runs, Height, Width);

    public override string? Problem(int w, int h)
    {
        if (Height != h || Width != w) return $"mask size [{Height}, {Width}] does not match the image ([{h}, {w}] as [height, width])";
        if (Runs.Any(c => c < 0)) return "mask counts has a negative run";
        long total = CocoRle.Covered(Runs, (long)w * h);
        if (total < 0) return $"mask runs cover more than the {(long)w * h} pixels of a {w}x{h} image";
        if (total != (long)w * h) return $"mask runs cover {total} pixels; a {w}x{h} image has {(long)w * h}";
        return Outline is null ? null : PolygonGeometry.RingsProblem(Outline, w, h) is { } p ? "mask polygons: " + p : null;
    }

    public static GeometryResult FromJson(JsonElement g)
    {
        if (!g.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Array || size.GetArrayLength() != 2)
            return GeometryResult.Fail("a mask needs 'size': [height, width] and 'counts' (COCO RLE)");
        int mh = size[0].GetInt32(), mw = size[1].GetInt32();
        if (!g.TryGetProperty("counts", out var countsElement)) return GeometryResult.Fail("a mask needs 'counts' (COCO RLE string or array of run lengths)");
        IReadOnlyList<long>? runs = countsElement.ValueKind switch
        {
            JsonValueKind.String => CocoRle.Decode(countsElement.GetString()!),
            JsonValueKind.Array => countsElement.EnumerateArray().Select(v => v.GetInt64()).ToList(),
            _ => null,
        };
        if (runs is null)
            return GeometryResult.Fail(countsElement.ValueKind == JsonValueKind.String ? "mask counts is not a valid COCO RLE string" : "mask counts must be a COCO RLE string or an array of run lengths");
        List<double[]>? outline = null;
        if (g.TryGetProperty("polygons", out var polygons) && polygons.ValueKind == JsonValueKind.Array && polygons.GetArrayLength() > 0)
        {
            if (PolygonGeometry.ReadRings(polygons, out var rings) is { } error) return GeometryResult.Fail("mask polygons: " + error);
            outline = rings;
        }
        return new MaskGeometry(mh, mw, runs, outline);
    }
}
