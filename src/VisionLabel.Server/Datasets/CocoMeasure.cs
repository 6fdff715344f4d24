using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Datasets;

/// <summary>
/// The bbox and area a COCO file declared for an annotation, kept when they differ from what its geometry measures
/// (<see cref="Geometry.Bounds"/>, <see cref="Geometry.Area"/>), so an export writes the dataset's own values back.
/// </summary>
public static class CocoMeasure
{
    /// <summary>
    /// The bbox and area a dataset declared, when they are not what the geometry measures (COCO's crowd
    /// regions: their area and box come from the polygons they were drawn as, not from the mask). Kept in the
    /// annotation's attributes with a fingerprint of the geometry, and exported only while the geometry is unchanged.
    /// </summary>
    public static System.Text.Json.Nodes.JsonObject? Declared(double[]? box, double? area, Geometry geometry)
    {
        if (box is null && area is null) return null;
        var (measuredBox, measuredArea) = (geometry.Bounds, geometry.Area);
        string geometryJson = geometry.ToJsonString();
        bool boxDiffers = box is not null && box.Zip(measuredBox).Any(p => Math.Abs(p.First - p.Second) > 0.005);
        bool areaDiffers = area is { } a && Math.Abs(a - measuredArea) > 1e-6 * Math.Max(1, a);
        if (!boxDiffers && !areaDiffers) return null;
        var declared = new System.Text.Json.Nodes.JsonObject { ["geometry"] = Fingerprint(geometryJson) };
        if (box is not null) declared["bbox"] = new System.Text.Json.Nodes.JsonArray(box.Select(v => (System.Text.Json.Nodes.JsonNode)v).ToArray());
        if (area is not null) declared["area"] = area;
        return declared;
    }

    /// <summary>The declared bbox/area from <see cref="Declared"/>, if the annotation still has the geometry they were declared for.</summary>
    public static (double[]? Box, double? Area) StillDeclared(Annotation a)
    {
        if (!a.Attributes.Contains("\"coco\"")) return (null, null);
        using var attributes = JsonDocument.Parse(a.Attributes);
        if (!attributes.RootElement.TryGetProperty("coco", out var coco) || coco.ValueKind != JsonValueKind.Object ||
            !coco.TryGetProperty("geometry", out var print) || print.GetString() != Fingerprint(a.Geometry))
            return (null, null);
        double[]? box = coco.TryGetProperty("bbox", out var b) && b.ValueKind == JsonValueKind.Array ? b.EnumerateArray().Select(v => v.GetDouble()).ToArray() : null;
        double? area = coco.TryGetProperty("area", out var ar) && ar.ValueKind == JsonValueKind.Number ? ar.GetDouble() : null;
        return (box, area);
    }

    private static string Fingerprint(string geometryJson) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(geometryJson)))[..16];
}
