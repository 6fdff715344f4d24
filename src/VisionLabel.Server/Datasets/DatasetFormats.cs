using System.IO.Compression;
using System.Reflection;

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

/// <summary>
/// Every importer and exporter in this assembly, found by type: adding a format is adding one file with classes
/// that implement <see cref="IDatasetImporter"/> and/or <see cref="IDatasetExporter"/> (with a public
/// parameterless constructor).
/// </summary>
public static class DatasetFormats
{
    private static readonly Type[] Types = typeof(DatasetFormats).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.GetConstructor(Type.EmptyTypes) is not null).ToArray();

    public static IReadOnlyDictionary<string, IDatasetImporter> Importers { get; } = Find<IDatasetImporter>(i => i.Format);
    public static IReadOnlyDictionary<string, IDatasetExporter> Exporters { get; } = Find<IDatasetExporter>(e => e.Format);

    private static Dictionary<string, T> Find<T>(Func<T, string> name) =>
        Types.Where(t => typeof(T).IsAssignableFrom(t)).Select(t => (T)Activator.CreateInstance(t)!)
            .ToDictionary(name, StringComparer.OrdinalIgnoreCase);

    public static string ImportList => string.Join(", ", Importers.Keys.Order());
    public static string ExportList => string.Join(", ", Exporters.Keys.Order());
}
