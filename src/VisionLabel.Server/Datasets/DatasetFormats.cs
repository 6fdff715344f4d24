using System.IO.Compression;

namespace VisionLabel.Server.Datasets;

/// <summary>Reads one dataset format into an <see cref="ImportPlan"/>. Never stores anything itself.</summary>
public interface IDatasetImporter
{
    /// <summary>The --format name, e.g. "coco".</summary>
    string Format { get; }
    Task<ImportPlan> ReadAsync(IDatasetSource source, CancellationToken ct);
}

/// <summary>Writes a project in one dataset format into a zip that is being streamed out.</summary>
public interface IDatasetExporter
{
    /// <summary>The --format name, e.g. "yolo-detect".</summary>
    string Format { get; }
    Task WriteAsync(ExportContext export, ZipArchive zip, CancellationToken ct);
}

/// <summary>One dataset format as the API, the CLI help and the web app list it.</summary>
public sealed record DatasetFormatInfo(string Id, string Title, string Description, bool CanImport, bool CanExport);

/// <summary>
/// Every dataset format, listed here by hand (CVAT/Datumaro style): adding a format is one file with its importer
/// and/or exporter, plus its line below. What reads the list — GET /api/dataset-formats, the CLI's --format help and
/// errors, the import/export endpoints' OpenAPI text, the web app's project page — is generated from it.
/// </summary>
public static class DatasetFormats
{
    private sealed record Entry(string Id, string Title, string Description, IDatasetImporter? Importer, IDatasetExporter? Exporter);

    private static readonly Entry[] Registry =
    [
        new("coco", "COCO", "COCO instances JSON (boxes, polygons, RLE masks) with the images; a zip or a folder", new CocoImporter(), new CocoExporter()),
        new("yolo", "YOLO", "Ultralytics YOLO: data.yaml, images/ and labels/ (boxes or segments); import only, export picks detect or segment", new YoloImporter(), null),
        new("yolo-detect", "YOLO detect", "Ultralytics YOLO with a box per object (a polygon or mask as its bounding box); export only", null, new YoloDetectExporter()),
        new("yolo-segment", "YOLO segment", "Ultralytics YOLO with a polygon per object (a box as its four corners, a mask traced); export only", null, new YoloSegmentExporter()),
    ];

    public static IReadOnlyList<DatasetFormatInfo> All { get; } =
        Registry.Select(e => new DatasetFormatInfo(e.Id, e.Title, e.Description, e.Importer is not null, e.Exporter is not null)).ToList();

    public static IReadOnlyDictionary<string, IDatasetImporter> Importers { get; } =
        Registry.Where(e => e.Importer is not null).ToDictionary(e => e.Id, e => e.Importer!, StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyDictionary<string, IDatasetExporter> Exporters { get; } =
        Registry.Where(e => e.Exporter is not null).ToDictionary(e => e.Id, e => e.Exporter!, StringComparer.OrdinalIgnoreCase);

    /// <summary>"coco, yolo" — for help texts and error messages.</summary>
    public static string ImportList => string.Join(", ", Importers.Keys);
    public static string ExportList => string.Join(", ", Exporters.Keys);
}
