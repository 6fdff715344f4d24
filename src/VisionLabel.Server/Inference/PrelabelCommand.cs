using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using VisionLabel.Inference;
using VisionLabel.Server.Annotations;
using VisionLabel.Shapes;

namespace VisionLabel.Server.Inference;

/// <summary>
/// `visionlabel prelabel --model FILE --images DIR --out results.json`: runs a model over a folder offline and
/// writes a COCO dataset (images, categories from the model's class names, annotations with bbox, score and,
/// for segmentation models, RLE masks). Images that cannot be read are listed under "errors"; the rest go on.
/// </summary>
public static class PrelabelCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".webp"];

    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "ONNX model file", Required = true };
        var images = new Option<DirectoryInfo>("--images") { Description = "Folder of JPEG/PNG/WebP images (not recursive)", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "COCO JSON file to write", Required = true };
        var conf = new Option<float>("--conf") { Description = "Confidence threshold", DefaultValueFactory = _ => 0.25f };
        var iou = new Option<float?>("--iou") { Description = "NMS IoU threshold (default: 0.7 for Ultralytics models, 0.45 for YOLOX)" };
        var device = new Option<DeviceChoice>("--device") { Description = "auto | cpu | cuda", DefaultValueFactory = _ => DeviceChoice.Auto };
        var names = new Option<FileInfo?>("--names") { Description = "Class names file, one per line (for models without names metadata)" };
        var batch = new Option<int>("--batch") { Description = "Images per run for dynamic-batch models", DefaultValueFactory = _ => 8 };

        var command = new Command("prelabel", "Run a detection/segmentation model over a folder and write COCO JSON")
        {
            model, images, output, conf, iou, device, names, batch,
        };
        command.SetAction(async (parse, ct) => await RunAsync(parse.GetValue(model)!, parse.GetValue(images)!, parse.GetValue(output)!,
            new DetectionOptions { Confidence = parse.GetValue(conf), Iou = parse.GetValue(iou), Polygons = false },
            parse.GetValue(device), parse.GetValue(names), parse.GetValue(batch), ct));
        return command;
    }

    private static async Task<int> RunAsync(FileInfo modelFile, DirectoryInfo folder, FileInfo outFile, DetectionOptions detection,
        DeviceChoice device, FileInfo? namesFile, int batch, CancellationToken ct)
    {
        if (!modelFile.Exists) return Fail($"model file not found: {modelFile.FullName}");
        if (!folder.Exists) return Fail($"image folder not found: {folder.FullName}");
        var files = folder.EnumerateFiles().Where(f => ImageExtensions.Contains(f.Extension.ToLowerInvariant())).OrderBy(f => f.Name, StringComparer.Ordinal).ToList();
        if (files.Count == 0) return Fail($"no .jpg/.jpeg/.png/.webp files in {folder.FullName}");

        Detector detector;
        try
        {
            var classNames = namesFile is null ? null : PythonDictNames.FromLines(await File.ReadAllTextAsync(namesFile.FullName, ct));
            detector = Detector.Load(await File.ReadAllBytesAsync(modelFile.FullName, ct), new InferenceDevice(new InferenceOptions { Device = device }), classNames);
        }
        catch (Exception e) when (e is UnsupportedModelException or InvalidOperationException) { return Fail($"{modelFile.Name}: {e.Message}"); }

        using (detector)
        {
            var spec = detector.Spec;
            Console.Error.WriteLine($"{modelFile.Name}: {spec.Family} {spec.Task}, input {spec.InputWidth}x{spec.InputHeight}, " +
                                    $"{spec.ClassCount} classes ({spec.ClassNamesSource}), batch {(spec.FixedBatch?.ToString() ?? "dynamic")}, " +
                                    $"{(detector.OnCuda ? "CUDA" : $"CPU x{detector.ConcurrentRuns}")}; {files.Count} images");
            var results = new List<PipelineResult>(files.Count);
            var stats = new PipelineStats();
            var clock = Stopwatch.StartNew();
            var items = files.Select(f => new PipelineItem(f.Name, async token => await File.ReadAllBytesAsync(f.FullName, token)));
            await BatchPipeline.RunAsync(detector, items, detection, r =>
            {
                results.Add(r);
                if (results.Count % 100 == 0) Console.Error.WriteLine($"  {results.Count}/{files.Count} images");
                return ValueTask.CompletedTask;
            }, new PipelineOptions { MaxBatch = batch }, stats, ct);
            clock.Stop();

            await WriteCocoAsync(outFile, spec, results.OrderBy(r => r.Item.Name, StringComparer.Ordinal).ToList(), ct);
            int failed = results.Count(r => r.Error is not null);
            Console.Error.WriteLine($"{results.Count - failed} images labeled, {failed} failed, {results.Sum(r => r.Detections?.Count ?? 0)} detections " +
                                    $"in {clock.Elapsed.TotalSeconds:0.00} s ({results.Count / clock.Elapsed.TotalSeconds:0.0} img/s) -> {outFile.FullName}");
            foreach (var r in results.Where(r => r.Error is not null)) Console.Error.WriteLine($"  failed: {r.Item.Name}: {r.Error}");
            return 0;
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine("error: " + message);
        return 2;
    }

    /// <summary>Streams the COCO document; category ids are class index + 1 (COCO reserves 0).</summary>
    private static async Task WriteCocoAsync(FileInfo file, ModelSpec spec, List<PipelineResult> results, CancellationToken ct)
    {
        file.Directory?.Create();
        await using var stream = file.Create();
        await using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteStartArray("images");
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i].Error is not null) continue;
            json.WriteStartObject();
            json.WriteNumber("id", i + 1);
            json.WriteString("file_name", results[i].Item.Name);
            json.WriteNumber("width", results[i].Width);
            json.WriteNumber("height", results[i].Height);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("categories");
        for (int c = 0; c < spec.ClassCount; c++)
        {
            json.WriteStartObject();
            json.WriteNumber("id", c + 1);
            json.WriteString("name", spec.ClassNames[c]);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteStartArray("annotations");
        int annotationId = 0;
        for (int i = 0; i < results.Count; i++)
        {
            foreach (var d in results[i].Detections ?? [])
            {
                json.WriteStartObject();
                json.WriteNumber("id", ++annotationId);
                json.WriteNumber("image_id", i + 1);
                json.WriteNumber("category_id", d.ClassId + 1);
                json.WriteStartArray("bbox");
                json.WriteNumberValue(Math.Round(d.Box.X, 3));
                json.WriteNumberValue(Math.Round(d.Box.Y, 3));
                json.WriteNumberValue(Math.Round(d.Box.Width, 3));
                json.WriteNumberValue(Math.Round(d.Box.Height, 3));
                json.WriteEndArray();
                json.WriteNumber("area", d.Mask is { } m ? m.Area : Math.Round(d.Box.Area, 3));
                json.WriteNumber("iscrowd", 0);
                json.WriteNumber("score", Math.Round(d.Score, 5));
                if (d.Mask is { } mask)
                {
                    json.WriteStartObject("segmentation");
                    json.WriteStartArray("size");
                    json.WriteNumberValue(mask.Height);
                    json.WriteNumberValue(mask.Width);
                    json.WriteEndArray();
                    json.WriteString("counts", CocoRle.Encode(mask.Counts));
                    json.WriteEndObject();
                }
                json.WriteEndObject();
            }
            if (i % 256 == 0) await json.FlushAsync(ct);
        }
        json.WriteEndArray();
        json.WriteStartArray("errors");
        foreach (var r in results.Where(r => r.Error is not null))
        {
            json.WriteStartObject();
            json.WriteString("file_name", r.Item.Name);
            json.WriteString("error", r.Error);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
