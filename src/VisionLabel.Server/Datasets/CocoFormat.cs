using VisionLabel.Inference;
using System.IO.Compression;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Shapes;

namespace VisionLabel.Server.Datasets;

/// <summary>
/// COCO instances JSON (https://cocodataset.org/#format-data). Import reads the one instances file in the dataset
/// (info and licenses are optional) and finds each image file by its file_name. Polygons (several rings per
/// object), compressed and uncompressed RLE, iscrowd and score are all read. Export writes
/// annotations/instances.json and images/, with the imported category and image ids kept.
/// </summary>
public sealed class CocoImporter : IDatasetImporter
{
    public string Format => "coco";

    public async Task<ImportPlan> ReadAsync(IDatasetSource source, CancellationToken ct)
    {
        var jsonFiles = source.Files.Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && !f.EndsWith("visionlabel-export.json")).ToList();
        if (jsonFiles.Count == 0) throw new DatasetException("no COCO JSON file in the dataset (expected e.g. annotations/instances_train2017.json)");
        var preferred = jsonFiles.Where(f => f.Contains("annotations/", StringComparison.OrdinalIgnoreCase)).ToList();
        var candidates = preferred.Count > 0 ? preferred : jsonFiles;
        if (candidates.Count > 1) throw new DatasetException($"found {candidates.Count} JSON files ({string.Join(", ", candidates.Take(5))}); import one COCO file at a time");
        string indexFile = candidates[0];

        JsonDocument doc;
        await using (var stream = source.Open(indexFile))
        {
            try { doc = await JsonDocument.ParseAsync(stream, new JsonDocumentOptions { MaxDepth = 256 }, ct); }
            catch (JsonException e) { throw new DatasetException($"{indexFile} is not valid JSON: {e.Message}"); }
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new DatasetException($"{indexFile}: the top level must be a JSON object with images, annotations and categories");
            var plan = new ImportPlan();
            var (imageArray, annotationArray, categoryArray) = (Array(root, "images", indexFile), Array(root, "annotations", indexFile), Array(root, "categories", indexFile));
            var categoryIndex = ReadCategories(indexFile, categoryArray, plan);
            var images = ReadImages(source, imageArray, plan);
            ReadAnnotations(annotationArray, images, categoryIndex, plan);
            plan.Images.AddRange(images.Values.Where(i => i is not null)!);
            return plan;
        }
    }

    private static JsonElement Array(JsonElement root, string name, string file) =>
        root.TryGetProperty(name, out var a) && a.ValueKind == JsonValueKind.Array ? a : throw new DatasetException($"{file}: '{name}' must be an array");

    private static Dictionary<long, int> ReadCategories(string file, JsonElement categories, ImportPlan plan)
    {
        var index = new Dictionary<long, int>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in categories.EnumerateArray())
        {
            if (!TryLong(c, "id", out long id) || id is < int.MinValue or > int.MaxValue || !c.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(n.GetString()))
                throw new DatasetException($"{file}: every category needs an integer id and a name (got {Short(c)})");
            string name = n.GetString()!.Trim();
            if (!index.TryAdd(id, plan.Categories.Count)) throw new DatasetException($"{file}: category id {id} appears twice");
            if (!names.Add(name)) throw new DatasetException($"{file}: category name '{name}' appears twice; labels are matched by name");
            string? super = c.TryGetProperty("supercategory", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            plan.Categories.Add(new PlannedCategory((int)id, name, super));
        }
        return index;
    }

    private static Dictionary<long, PlannedImage?> ReadImages(IDatasetSource source, JsonElement images, ImportPlan plan)
    {
        // file_name may carry a folder; datasets are often re-rooted, so fall back to the bare file name.
        var byPath = source.Files.ToHashSet(StringComparer.Ordinal);
        var byName = source.Files.GroupBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var result = new Dictionary<long, PlannedImage?>();
        foreach (var i in images.EnumerateArray())
        {
            if (!TryLong(i, "id", out long id) || !i.TryGetProperty("file_name", out var f) || f.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(f.GetString()))
            {
                plan.Skipped.Add(new("image " + Short(i), "an image needs an integer id and a file_name"));
                continue;
            }
            string fileName = f.GetString()!.Replace('\\', '/');
            if (result.ContainsKey(id)) { plan.Skipped.Add(new($"image {id} ({fileName})", "its id appears twice; the first one was kept")); continue; }
            int? width = TryLong(i, "width", out long w) ? (int)w : null, height = TryLong(i, "height", out long h) ? (int)h : null;
            string? path = byPath.Contains(fileName) ? fileName
                : byName.TryGetValue(Path.GetFileName(fileName), out var matches) ? (matches.Count == 1 ? matches[0] : matches.FirstOrDefault(m => m.EndsWith("/" + fileName)))
                : null;
            if (path is null)
            {
                plan.Skipped.Add(new($"image {id} ({fileName})", "no file with this name in the dataset; its annotations are skipped too"));
                result[id] = null;
                continue;
            }
            result[id] = new PlannedImage(path, Path.GetFileName(fileName), id, width, height, []);
        }
        return result;
    }

    private static void ReadAnnotations(JsonElement annotations, Dictionary<long, PlannedImage?> images, Dictionary<long, int> categories, ImportPlan plan)
    {
        int position = 0;
        foreach (var a in annotations.EnumerateArray())
        {
            string where = TryLong(a, "id", out long annId) ? $"annotation {annId}" : $"annotation #{position}";
            position++;
            if (!TryLong(a, "image_id", out long imageId) || !images.TryGetValue(imageId, out var image))
            { plan.Skipped.Add(new(where, $"image_id {(a.TryGetProperty("image_id", out var x) ? x.GetRawText() : "(missing)")} is not an image of this dataset")); continue; }
            if (image is null) { plan.Skipped.Add(new(where, $"its image {imageId} was skipped")); continue; }
            if (!TryLong(a, "category_id", out long categoryId) || !categories.TryGetValue(categoryId, out int category))
            { plan.Skipped.Add(new(where, $"category_id {(a.TryGetProperty("category_id", out var c) ? c.GetRawText() : "(missing)")} is not a category of this dataset")); continue; }
            bool crowd = TryLong(a, "iscrowd", out long isCrowd) && isCrowd == 1;
            double? score = a.TryGetProperty("score", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetDouble() : null;

            var (geometry, problem) = Geometry(a);
            if (geometry is null) { plan.Skipped.Add(new(where, problem!)); continue; }
            double[]? declaredBox = a.TryGetProperty("bbox", out var bb) && bb.ValueKind == JsonValueKind.Array && bb.GetArrayLength() == 4 &&
                                    bb.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number) ? bb.EnumerateArray().Select(v => v.GetDouble()).ToArray() : null;
            double? declaredArea = a.TryGetProperty("area", out var ar) && ar.ValueKind == JsonValueKind.Number ? ar.GetDouble() : null;
            // CVAT's and our own exports' attribute values come back as they were (keys COCO uses itself left out).
            // A name repeated in the file: the last one wins, as JSON readers take it.
            Dictionary<string, JsonElement>? values = null;
            if (a.TryGetProperty("attributes", out var at) && at.ValueKind == JsonValueKind.Object)
                foreach (var p in at.EnumerateObject().Where(p => !Annotations.AttributeValues.Reserved.Contains(p.Name)).Take(100))
                    (values ??= [])[p.Name] = p.Value.Clone();
            image.Annotations.Add(new PlannedAnnotation(where, category, geometry, crowd, score, declaredBox, declaredArea, values is { Count: > 0 } ? values : null));
        }
    }

    /// <summary>Polygons or RLE when the annotation has a segmentation, otherwise its bbox. Also reads predictions imports' COCO results (ModelLoop/Predictions).</summary>
    internal static (PlannedGeometry?, string?) Geometry(JsonElement a)
    {
        if (a.TryGetProperty("segmentation", out var seg))
        {
            if (seg.ValueKind == JsonValueKind.Array && seg.GetArrayLength() > 0)
            {
                var rings = new List<double[]>();
                foreach (var ring in seg.EnumerateArray())
                {
                    if (ring.ValueKind != JsonValueKind.Array || ring.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
                        return (null, "segmentation polygons must be arrays of numbers");
                    var xy = ring.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                    if (xy.Length % 2 != 0) return (null, $"a segmentation polygon has an odd count of coordinates ({xy.Length})");
                    if (xy.Length < 6) return (null, $"a segmentation polygon has {xy.Length / 2} point(s); at least 3 are needed");
                    if (xy.Any(v => !double.IsFinite(v))) return (null, "a segmentation polygon has a non-finite coordinate");
                    rings.Add(xy);
                }
                return (PlannedGeometry.FromRings(rings), null);
            }
            if (seg.ValueKind == JsonValueKind.Object)
            {
                if (!seg.TryGetProperty("size", out var size) || size.ValueKind != JsonValueKind.Array || size.GetArrayLength() != 2 ||
                    !size[0].TryGetInt32(out int h) || !size[1].TryGetInt32(out int w) || h <= 0 || w <= 0)
                    return (null, "an RLE segmentation needs size [height, width]");
                if (!seg.TryGetProperty("counts", out var counts)) return (null, "an RLE segmentation needs counts");
                List<long>? runs = counts.ValueKind switch
                {
                    JsonValueKind.String => CocoRle.Decode(counts.GetString()!),
                    JsonValueKind.Array when counts.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long n) && n >= 0) =>
                        counts.EnumerateArray().Select(v => v.GetInt64()).ToList(),
                    _ => null,
                };
                if (runs is null) return (null, "RLE counts must be a COCO RLE string or an array of non-negative run lengths");
                long covered = CocoRle.Covered(runs, (long)h * w);
                if (covered != (long)h * w) return (null, covered < 0 ? $"RLE runs cover more than the {(long)h * w} pixels of size {h}x{w}" : $"RLE runs cover {covered} pixels, but size {h}x{w} has {(long)h * w}");
                return (PlannedGeometry.FromMask(runs, h, w), null);
            }
        }
        if (!a.TryGetProperty("bbox", out var bbox) || bbox.ValueKind != JsonValueKind.Array || bbox.GetArrayLength() != 4 ||
            bbox.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
            return (null, "no segmentation and no bbox of 4 numbers");
        var b = bbox.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        if (b.Any(v => !double.IsFinite(v)) || b[2] <= 0 || b[3] <= 0 || b[0] < 0 || b[1] < 0)
            return (null, $"bbox [{string.Join(", ", b)}] is not a box: width and height must be positive, x and y not negative");
        return (PlannedGeometry.FromBox(b[0], b[1], b[2], b[3]), null);
    }

    private static bool TryLong(JsonElement e, string name, out long value)
    {
        value = 0;
        return e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out value);
    }

    private static string Short(JsonElement e)
    {
        string raw = e.GetRawText();
        return raw.Length > 80 ? raw[..80] + "…" : raw;
    }
}

public sealed class CocoExporter : IDatasetExporter
{
    public string Format => "coco";

    public async Task WriteAsync(ExportContext export, ZipArchive zip, CancellationToken ct)
    {
        var entry = zip.CreateEntry("annotations/instances.json", CompressionLevel.Fastest);
        await using (var stream = await entry.OpenAsync(ct))
        await using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteStartObject("info");
            json.WriteString("description", export.Project.Name);
            json.WriteString("date_created", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ"));
            json.WriteString("exported_by", "VisionLabel");
            json.WriteEndObject();
            json.WriteStartArray("licenses");
            json.WriteEndArray();

            json.WriteStartArray("categories");
            foreach (var l in export.Labels)
            {
                json.WriteStartObject();
                json.WriteNumber("id", l.CocoId);
                json.WriteString("name", l.Name);
                json.WriteString("supercategory", l.Supercategory ?? "");
                json.WriteEndObject();
            }
            json.WriteEndArray();

            json.WriteStartArray("images");
            await foreach (var image in export.ImagesAsync(withAnnotations: false, ct))
            {
                json.WriteStartObject();
                json.WriteNumber("id", image.CocoId);
                json.WriteString("file_name", image.FileName);
                json.WriteNumber("width", image.Image.Width);
                json.WriteNumber("height", image.Image.Height);
                json.WriteEndObject();
                if (json.BytesPending > 1 << 16) await json.FlushAsync(ct);
            }
            json.WriteEndArray();

            json.WriteStartArray("annotations");
            long nextId = 1;
            await foreach (var image in export.ImagesAsync(withAnnotations: true, ct))
            {
                foreach (var a in image.Annotations)
                {
                    if (!export.LabelsById.TryGetValue(a.LabelId, out var label)) continue;
                    WriteAnnotation(json, nextId++, image, a, label, export.IncludeScores);
                    export.Summary.Exported(a);
                }
                if (json.BytesPending > 1 << 16) await json.FlushAsync(ct);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        await export.WriteImagesAsync(zip, _ => "images", ct);
    }

    private static void WriteAnnotation(Utf8JsonWriter json, long id, ExportImage image, Annotation a, ExportLabel label, bool scores)
    {
        var g = Geometry.Read(a.Kind, a.Geometry);
        json.WriteStartObject();
        json.WriteNumber("id", id);
        json.WriteNumber("image_id", image.CocoId);
        json.WriteNumber("category_id", label.CocoId);
        int h = image.Image.Height, w = image.Image.Width;
        json.WritePropertyName("segmentation");
        switch (g)
        {
            case PolygonGeometry polygon:
                json.WriteStartArray();
                foreach (var ring in polygon.Rings)
                {
                    json.WriteStartArray();
                    foreach (double v in ring) json.WriteNumberValue(v);
                    json.WriteEndArray();
                }
                json.WriteEndArray();
                break;
            case MaskGeometry mask:
                json.WriteStartObject();
                json.WriteStartArray("size");
                json.WriteNumberValue(h);
                json.WriteNumberValue(w);
                json.WriteEndArray();
                json.WriteString("counts", mask.Counts);
                json.WriteEndObject();
                break;
            default:
                json.WriteStartArray();
                json.WriteEndArray();
                break;
        }
        var (box, area) = (g.Bounds, g.Area);
        var (declaredBox, declaredArea) = CocoMeasure.StillDeclared(a);
        box = declaredBox ?? box;
        area = declaredArea ?? area;
        json.WriteNumber("area", area);
        json.WriteStartArray("bbox");
        foreach (double v in box) json.WriteNumberValue(v);
        json.WriteEndArray();
        json.WriteNumber("iscrowd", ExportGeometry.IsCrowd(a) ? 1 : 0);
        if (scores && a.Score is { } score) json.WriteNumber("score", score);
        // Label attributes as CVAT writes them: an object of name → value (defaults where the object has none).
        var attributes = Annotations.AttributeValues.ForExport(a.Attributes, label.Attributes);
        if (attributes.Count > 0)
        {
            json.WriteStartObject("attributes");
            foreach (var (name, value) in attributes) { json.WritePropertyName(name); value.WriteTo(json); }
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
