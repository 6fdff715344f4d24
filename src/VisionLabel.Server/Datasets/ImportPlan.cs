using System.Text.Json;
using System.Text.Json.Nodes;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;

namespace VisionLabel.Server.Datasets;

/// <summary>What a format reader found in a dataset, before anything is stored: categories, images with their
/// annotations, and every item it had to skip, each with the reason.</summary>
public sealed class ImportPlan
{
    public List<PlannedCategory> Categories { get; } = [];
    public List<PlannedImage> Images { get; } = [];
    public List<SkippedItem> Skipped { get; } = [];
    /// <summary>Things worth telling the user that are not errors (e.g. background images without labels).</summary>
    public List<string> Notes { get; } = [];
}

/// <param name="ExternalId">The dataset's own id for it (COCO category id, YOLO class index).</param>
public sealed record PlannedCategory(int ExternalId, string Name, string? Supercategory = null);

/// <param name="SourcePath">Where the image file is inside the dataset (a path relative to its root).</param>
/// <param name="DeclaredWidth">The size the dataset says the image has (COCO); checked against the file.</param>
public sealed record PlannedImage(string SourcePath, string FileName, long? ExternalId, int? DeclaredWidth, int? DeclaredHeight, List<PlannedAnnotation> Annotations);

/// <param name="Category">Index into <see cref="ImportPlan.Categories"/>.</param>
/// <param name="Where">Names the annotation in the source, for skip reasons ("annotation 42", "x.txt line 3").</param>
/// <param name="DeclaredBox">COCO's bbox, kept when it is not what the geometry gives (see <see cref="CocoMeasure.Declared"/>).</param>
/// <param name="Values">Attribute values the file gave the object (COCO's "attributes"); null: none.</param>
public sealed record PlannedAnnotation(string Where, int Category, PlannedGeometry Geometry, bool IsCrowd = false, double? Score = null,
    double[]? DeclaredBox = null, double? DeclaredArea = null, IReadOnlyDictionary<string, JsonElement>? Values = null);

/// <summary>
/// A geometry as the dataset gave it. YOLO coordinates are fractions of the image size, which is only known once
/// the image file has been read, so they are scaled to pixels then (<see cref="ToJson"/>).
/// </summary>
public sealed record PlannedGeometry(AnnotationKind Kind, double[]? Box = null, List<double[]>? Rings = null, List<long>? MaskRuns = null,
    int MaskHeight = 0, int MaskWidth = 0, bool Normalized = false)
{
    public static PlannedGeometry FromBox(double x, double y, double w, double h, bool normalized = false) => new(AnnotationKind.Box, Box: [x, y, w, h], Normalized: normalized);
    public static PlannedGeometry FromRings(List<double[]> rings, bool normalized = false) => new(AnnotationKind.Polygon, Rings: rings, Normalized: normalized);
    public static PlannedGeometry FromMask(List<long> runs, int height, int width) => new(AnnotationKind.Mask, MaskRuns: runs, MaskHeight: height, MaskWidth: width);

    /// <summary>The geometry in pixels of an image of the given size (not yet checked against it: see Geometry.Problem).</summary>
    public Geometry ToGeometry(int width, int height)
    {
        double sx = Normalized ? width : 1, sy = Normalized ? height : 1;
        return Kind switch
        {
            AnnotationKind.Box => new BoxGeometry(Box![0] * sx, Box[1] * sy, Box[2] * sx, Box[3] * sy),
            AnnotationKind.Polygon => new PolygonGeometry(Rings!.Select(r => r.Select((v, i) => v * (i % 2 == 0 ? sx : sy)).ToArray()).ToList()),
            _ => new MaskGeometry(MaskHeight, MaskWidth, MaskRuns!),
        };
    }
}

public sealed record SkippedItem(string Item, string Reason);

/// <summary>A dataset that cannot be imported at all (unreadable index file, unsafe archive): nothing is stored.</summary>
public sealed class DatasetException(string message) : Exception(message);
