using VisionLabel.Server.Datasets;

namespace VisionLabel.Server.ModelLoop.Predictions;

/// <summary>
/// Which image a row names: a COCO image id (the image's imported <c>ExternalId</c>), the image's own id, its file name,
/// or (YOLO) its file name without the extension. <see cref="Field"/> is the name a refusal of it gives.
/// </summary>
public readonly record struct ImageKey(long? ExternalId = null, Guid? Id = null, string? FileName = null, string? Stem = null)
{
    public string Field => Stem is not null ? "file" : FileName is not null ? "file_name" : "image_id";
    public override string ToString() => Stem ?? FileName ?? ExternalId?.ToString() ?? Id.ToString()!;
}

/// <summary>A row the format reader could read: the image and category it names, its geometry as given, and its score.</summary>
/// <param name="Row">Its position in the file (COCO: the array index; YOLO: the count of non-empty lines before it, over the files in name order).</param>
/// <param name="Where">Where a person finds it (YOLO: "a.txt line 3"); null when the row index says it.</param>
/// <param name="Category">COCO category_id, or YOLO class index.</param>
/// <param name="GeometryField">The field a geometry refusal names (bbox, segmentation, coordinates).</param>
public sealed record PredictionRow(int Row, string? Where, ImageKey Image, int Category, PlannedGeometry Geometry, string GeometryField, double? Score);

/// <summary>A row that was not written: which, the field at fault and why.</summary>
public sealed record PredictionRefusal(int Row, string Field, string Problem, string? Where = null);

/// <summary>How a file's category numbers name labels (docs/models-in-the-loop.md, "Predictions import").</summary>
public enum CategoryScheme
{
    /// <summary>COCO category_id: the label's COCO id as a COCO export numbers it (its imported id, else the next free one).</summary>
    CocoId,
    /// <summary>YOLO class index: the label's class index as a YOLO export numbers it.</summary>
    ClassIndex,
}

/// <summary>What a format reader made of a file: the rows it read, the rows it refused, and how categories map.</summary>
public sealed class PredictionFile(string format, CategoryScheme scheme, string categoryField)
{
    public string Format { get; } = format;
    public CategoryScheme Scheme { get; } = scheme;
    /// <summary>The field a category refusal names (category_id, class).</summary>
    public string CategoryField { get; } = categoryField;
    /// <summary>Category number → name, when the file names its categories (COCO categories, YOLO data.yaml): labels are then matched by name.</summary>
    public Dictionary<int, string>? Names { get; set; }
    public List<PredictionRow> Rows { get; } = [];
    public List<PredictionRefusal> Refused { get; } = [];
    public int TotalRows => Rows.Count + Refused.Count;
}

/// <summary>
/// The answer of an import: rows read, proposals created, images they landed on, and the refused rows (the first
/// <see cref="PredictionsImport.ListedRefusals"/> listed, in row order; <c>refusedCount</c> counts them all).
/// </summary>
public sealed record PredictionsReport(string Model, string Format, int Rows, int Created, int Images, int Replaced, int RefusedCount,
    IReadOnlyList<PredictionRefusal> Refused);

/// <summary>A body that cannot be read at all (not JSON, not a zip, an unsafe archive, too many rows): a 400 naming <see cref="Field"/>; nothing is written.</summary>
public sealed class PredictionsException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
