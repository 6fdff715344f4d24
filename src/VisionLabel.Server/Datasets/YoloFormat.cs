using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using VisionLabel.Inference;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Shapes;

namespace VisionLabel.Server.Datasets;

/// <summary>
/// Ultralytics YOLO (https://docs.ultralytics.com/datasets/detect/): a data.yaml with the class names, images/
/// and labels/ trees, one label file per image with a line per object: "class cx cy w h" (detect) or
/// "class x1 y1 x2 y2 …" (segment), all fractions of the image size. Import reads both kinds of line; an image
/// without a label file is a background image; a label file without an image is reported and skipped.
/// </summary>
public sealed class YoloImporter : IDatasetImporter
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp"];

    /// <summary>A label file this size would hold ~100k objects; anything bigger is not a label file.</summary>
    private const long MaxLabelFileBytes = 16 << 20;

    public string Format => "yolo";

    public async Task<ImportPlan> ReadAsync(IDatasetSource source, CancellationToken ct)
    {
        var plan = new ImportPlan();
        var names = await ReadNamesAsync(source, ct);
        for (int i = 0; i < names.Count; i++) plan.Categories.Add(new PlannedCategory(i, names[i]));

        var files = source.Files.ToHashSet(StringComparer.Ordinal);
        var usedLabels = new HashSet<string>(StringComparer.Ordinal);
        int background = 0;
        foreach (var path in source.Files.Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant())))
        {
            var image = new PlannedImage(path, Path.GetFileName(path), null, null, null, []);
            plan.Images.Add(image);
            string? labelPath = LabelPathFor(path, files);
            if (labelPath is null) { background++; continue; }
            usedLabels.Add(labelPath);
            using var stream = source.Open(labelPath);
            if (stream.Length > MaxLabelFileBytes)
            {
                plan.Skipped.Add(new(labelPath, $"label file is {stream.Length:N0} bytes; over {MaxLabelFileBytes:N0} it is not read (the image is imported without annotations)"));
                continue;
            }
            using var reader = new StreamReader(stream, Encoding.UTF8);
            int lineNumber = 0;
            while (await reader.ReadLineAsync(ct) is { } line)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                string where = $"{labelPath} line {lineNumber}";
                var (annotation, problem) = ParseLine(line, where, names.Count);
                if (annotation is null) plan.Skipped.Add(new(where, problem!));
                else image.Annotations.Add(annotation);
            }
        }
        if (background > 0) plan.Notes.Add($"{background} background image(s) without a label file, imported without annotations");
        foreach (var orphan in source.Files.Where(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) && IsUnderLabels(f) && !usedLabels.Contains(f)))
            plan.Skipped.Add(new(orphan, "label file without a matching image (looked for images/…/same name .jpg/.jpeg/.png/.webp)"));
        if (plan.Images.Count == 0) throw new DatasetException("no images (.jpg, .jpeg, .png, .webp) in the dataset");
        return plan;
    }

    private static bool IsUnderLabels(string path) => path.Split('/').SkipLast(1).Contains("labels");

    /// <summary>Ultralytics' rule: the last "images" folder of the path becomes "labels", the extension ".txt";
    /// failing that, a .txt beside the image.</summary>
    private static string? LabelPathFor(string imagePath, HashSet<string> files)
    {
        var parts = imagePath.Split('/');
        int images = Array.LastIndexOf(parts, "images", parts.Length - 2);
        if (images >= 0)
        {
            parts[images] = "labels";
            string candidate = Path.ChangeExtension(string.Join('/', parts), ".txt");
            if (files.Contains(candidate)) return candidate;
        }
        string beside = Path.ChangeExtension(imagePath, ".txt");
        return files.Contains(beside) ? beside : null;
    }

    /// <summary>One label line (also a predictions import's, its score taken off first: ModelLoop/Predictions).</summary>
    internal static (PlannedAnnotation?, string?) ParseLine(string line, string where, int classCount)
    {
        var tokens = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (!int.TryParse(tokens[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int cls))
            return (null, $"class '{Short(tokens[0])}' is not an integer");
        if (cls < 0 || cls >= classCount) return (null, $"class index {cls} is out of range (data.yaml names {classCount} classes, 0..{classCount - 1})");
        var values = new double[tokens.Length - 1];
        for (int i = 1; i < tokens.Length; i++)
            if (!double.TryParse(tokens[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i - 1]) || !double.IsFinite(values[i - 1]))
                return (null, $"'{Short(tokens[i])}' is not a finite number");
        if (values.Length == 4)
        {
            double cx = values[0], cy = values[1], w = values[2], h = values[3];
            if (w <= 0 || h <= 0) return (null, $"box width and height must be positive (got {w} x {h})");
            return (new PlannedAnnotation(where, cls, PlannedGeometry.FromBox(cx - w / 2, cy - h / 2, w, h, normalized: true)), null);
        }
        if (values.Length % 2 != 0) return (null, $"{values.Length} coordinates after the class: a box has 4, a polygon an even count of at least 6");
        if (values.Length < 6) return (null, $"a polygon needs at least 3 points (got {values.Length / 2})");
        return (new PlannedAnnotation(where, cls, PlannedGeometry.FromRings([values], normalized: true)), null);
    }

    /// <summary>Bad input quoted in a reason, cut short: a reason must never carry a megabyte of garbage back.</summary>
    private static string Short(string token) => token.Length > 40 ? token[..40] + "…" : token;

    private static async Task<List<string>> ReadNamesAsync(IDatasetSource source, CancellationToken ct)
    {
        var yamls = source.Files.Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f.Count(c => c == '/')).ThenBy(f => Path.GetFileName(f) == "data.yaml" ? 0 : 1).ToList();
        foreach (var yaml in yamls)
        {
            using var reader = new StreamReader(source.Open(yaml), Encoding.UTF8);
            var names = DataYaml.Names(await reader.ReadToEndAsync(ct), yaml);
            if (names is not null) return names;
        }
        throw new DatasetException("no data.yaml with 'names' in the dataset; add one (Ultralytics format) so class indices can be named");
    }
}

/// <summary>The parts of an Ultralytics data.yaml this server reads and writes: names (a mapping or a list).</summary>
public static class DataYaml
{
    private const int MaxBytes = 4 << 20; // names for thousands of classes fit many times over

    /// <summary>The class names, or null when the file has no 'names'. Parsed by YamlDotNet, so any YAML form works
    /// (block or flow, quoted or not, comments, anchors); a file that is not YAML is an error naming the line.</summary>
    public static List<string>? Names(string text, string file)
    {
        if (text.Length > MaxBytes) throw new DatasetException($"{file} is over {MaxBytes >> 20} MiB; a data.yaml names classes and paths only");
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        try { yaml.Load(new StringReader(text)); }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new DatasetException($"{file} is not valid YAML (line {e.Start.Line}, column {e.Start.Column}: {e.Message}); fix it or remove it");
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlDotNet.RepresentationModel.YamlMappingNode root) return null;
        var names = root.Children.FirstOrDefault(c => c.Key is YamlDotNet.RepresentationModel.YamlScalarNode { Value: "names" }).Value;
        return names switch
        {
            null => null,
            YamlDotNet.RepresentationModel.YamlSequenceNode list => list.Children.Select(n => Scalar(n, file)).ToList(),
            YamlDotNet.RepresentationModel.YamlMappingNode map => Indexed(map.Children.Select(c => (Scalar(c.Key, file), Scalar(c.Value, file))), file),
            _ => throw new DatasetException($"{file}: names must be a list of class names or a mapping of class indices to names"),
        };
    }

    private static string Scalar(YamlDotNet.RepresentationModel.YamlNode node, string file) =>
        node is YamlDotNet.RepresentationModel.YamlScalarNode { Value: { } value } ? value
        : throw new DatasetException($"{file} line {node.Start.Line}: a class name must be plain text, not a list or mapping");

    private static List<string> Indexed(IEnumerable<(string Key, string Value)> pairs, string file)
    {
        var map = new SortedDictionary<int, string>();
        foreach (var (key, value) in pairs)
            if (!int.TryParse(key.Trim(), out int index) || index < 0 || !map.TryAdd(index, value))
                throw new DatasetException($"{file}: names must map class indices 0, 1, 2… to names (bad key '{key.Trim()}')");
        if (map.Count > 0 && map.Keys.Last() != map.Count - 1) throw new DatasetException($"{file}: class indices in names must run 0..{map.Count - 1} without gaps");
        return map.Values.ToList();
    }

    public static string Write(IReadOnlyList<string> names, bool hasVal)
    {
        var b = new StringBuilder();
        b.Append("# Exported by VisionLabel\npath: .\ntrain: images/train\n");
        // Without a split, say so where a trainer reads it: validating on the training images measures nothing.
        b.Append(hasVal ? "val: images/val\n" : "# No val split was asked for (export with val=0.2 for one): val is the training images.\nval: images/train\n");
        b.Append($"nc: {names.Count}\nnames:\n");
        for (int i = 0; i < names.Count; i++) b.Append($"  {i}: '{names[i].Replace("'", "''")}'\n");
        return b.ToString();
    }
}

/// <summary>Shared by the two YOLO exports: data.yaml, labels/{split}/name.txt per annotated image, images/{split}/.</summary>
public abstract class YoloExporter : IDatasetExporter
{
    public abstract string Format { get; }

    /// <summary>The numbers after the class index, as fractions of the image size; null to leave the object out.</summary>
    protected abstract double[]? Values(Annotation a, Geometry geometry, int width, int height);

    public async Task WriteAsync(ExportContext export, ZipArchive zip, CancellationToken ct)
    {
        var names = export.Labels.OrderBy(l => l.ClassIndex).Select(l => l.Name).ToList();
        bool hasVal = false;
        long crowd = 0;
        if (export.Slicing is { } slicing)
        {
            await WriteDataYamlAsync(zip, names, await YoloSlices.WriteAsync(export, zip, slicing, Line, ct), ct);
            return;
        }
        await foreach (var image in export.ImagesAsync(withAnnotations: true, ct))
        {
            hasVal |= image.Split == "val";
            var text = new StringBuilder();
            foreach (var a in image.Annotations)
            {
                if (!export.LabelsById.TryGetValue(a.LabelId, out var label)) continue;
                // Ultralytics' own COCO converter leaves crowd regions out: they are not single objects.
                if (ExportGeometry.IsCrowd(a)) { crowd++; export.Summary.SkippedAnnotations++; continue; }
                if (Line(label, a, Geometry.Read(a.Kind, a.Geometry), image.Image.Width, image.Image.Height) is not { } line) { export.Summary.SkippedAnnotations++; continue; }
                text.Append(line);
                export.Summary.Exported(a);
            }
            if (text.Length == 0) continue; // a background image: no label file, as Ultralytics expects
            var entry = zip.CreateEntry($"labels/{image.Split}/{Path.GetFileNameWithoutExtension(image.FileName)}.txt", CompressionLevel.Fastest);
            await using var stream = await entry.OpenAsync(ct);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct);
        }
        if (crowd > 0) export.Summary.Notes.Add($"{crowd} crowd (iscrowd) annotation(s) left out, as Ultralytics does");
        await WriteDataYamlAsync(zip, names, hasVal, ct);
        await export.WriteImagesAsync(zip, image => $"images/{image.Split}", ct);
    }

    private static async Task WriteDataYamlAsync(ZipArchive zip, List<string> names, bool hasVal, CancellationToken ct)
    {
        var yaml = zip.CreateEntry("data.yaml", CompressionLevel.Fastest);
        await using var stream = await yaml.OpenAsync(ct);
        await stream.WriteAsync(Encoding.UTF8.GetBytes(DataYaml.Write(names, hasVal)), ct);
    }

    /// <summary>One label line: the class index and the values as fractions of a <paramref name="width"/> × <paramref name="height"/> frame.</summary>
    private string? Line(ExportLabel label, Annotation a, Geometry geometry, int width, int height)
    {
        var values = Values(a, geometry, width, height);
        if (values is null) return null;
        var text = new StringBuilder(label.ClassIndex.ToString(CultureInfo.InvariantCulture));
        // Six significant digits, as Ultralytics writes them (Python's %g).
        foreach (double v in values) text.Append(' ').Append(Math.Clamp(v, 0, 1).ToString("G6", CultureInfo.InvariantCulture).Replace('E', 'e'));
        return text.Append('\n').ToString();
    }
}

public sealed class YoloDetectExporter : YoloExporter
{
    public override string Format => "yolo-detect";

    protected override double[]? Values(Annotation a, Geometry g, int width, int height)
    {
        var b = g.Bounds;
        if (b[2] <= 0 || b[3] <= 0) return null;
        return [(b[0] + b[2] / 2) / width, (b[1] + b[3] / 2) / height, b[2] / width, b[3] / height];
    }
}

/// <summary>
/// One polygon per object. An object of several rings is written as one polygon that visits each ring in turn
/// (YOLO segment lines cannot hold more); a box becomes its four corners; a mask its traced outline.
/// </summary>
public sealed class YoloSegmentExporter : YoloExporter
{
    public override string Format => "yolo-segment";

    protected override double[]? Values(Annotation a, Geometry g, int width, int height)
    {
        var rings = Rings(g);
        if (rings.Count == 0) return null;
        var values = new List<double>();
        foreach (var ring in rings)
            for (int i = 0; i + 1 < ring.Length; i += 2) { values.Add(ring[i] / width); values.Add(ring[i + 1] / height); }
        return values.Count >= 6 ? values.ToArray() : null;
    }

    /// <summary>The rings an object covers: a box's corners, a polygon's rings, a mask's outline (traced when it has none).
    /// The segment lines and the slices' clipping both start from these.</summary>
    internal static List<double[]> Rings(Geometry g) => g switch
    {
        PolygonGeometry polygon => [.. polygon.Rings],
        BoxGeometry box => [box.Corners()],
        MaskGeometry { Outline.Count: > 0 } mask => [.. mask.Outline],
        MaskGeometry mask => TraceMask(mask),
        _ => [],
    };

    private static List<double[]> TraceMask(MaskGeometry mask)
    {
        var columnMajor = mask.ColumnMajorPixels();
        int width = mask.Width, height = mask.Height;
        var rowMajor = new byte[columnMajor.Length];
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
                rowMajor[y * width + x] = columnMajor[x * height + y];
        return MaskContours.Trace(rowMajor, width, height, 0, 0).Select(r => r.Select(v => (double)v).ToArray()).ToList();
    }
}
