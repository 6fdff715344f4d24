using System.Diagnostics;
using VisionLabel.Imaging;
using VisionLabel.Inference;

namespace VisionLabel.Bench;

/// <summary>
/// Per model: the raw session.Run throughput (preprocessed tensors, the same concurrent runs as the pipeline:
/// the baseline) and the end-to-end pipeline (read, decode, letterbox, run, decode outputs, masks) over N
/// images, interleaved over rounds so both see the same machine state. Reports per-stage time per image.
/// </summary>
public static class InferenceBench
{
    private static readonly (string File, string? Names)[] DefaultModels =
    [
        ("models/yolov8n-det-int8-640.onnx", null),
        ("models/yolo11n-seg-int8-640.onnx", null),
        ("models/yolox_nano-416.onnx", "models/yolox_nano-416.coco_classes.txt"),
        ("models/derived/yolov8n-det-fp32dq-640.onnx", null),
        ("models/derived/yolov8n-det-fp32dq-dynbatch-640.onnx", null),
    ];

    public static async Task<int> RunAsync(BenchArgs args)
    {
        string imageDir = Path.Combine(args.Shared, "datasets", "coco128", "images", "train2017");
        if (!Directory.Exists(imageDir)) { Console.Error.WriteLine($"missing {imageDir}"); return 2; }
        var files = Directory.GetFiles(imageDir, "*.jpg").Order().ToArray();
        // N images: coco128 repeated; bytes stay on disk (page cache), read by the pipeline like real input.
        var items = Enumerable.Range(0, args.Images).Select(i => files[i % files.Length])
            .Select((f, i) => new PipelineItem($"{i}:{Path.GetFileName(f)}", ct => new ValueTask<byte[]>(File.ReadAllBytesAsync(f, ct)))).ToList();
        var device = Enum.Parse<DeviceChoice>(args.Device, ignoreCase: true);
        var models = args.Models?.Select(m => (m, (string?)null)).ToArray() ?? DefaultModels;

        Console.WriteLine($"# Inference benchmark: {args.Images} images (coco128), {Environment.ProcessorCount} cores, device {device}, polygons {args.Polygons}, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| model | runs x threads, batch | raw session.Run img/s | end-to-end img/s | e2e / raw | decode | preprocess | inference | postprocess (ms/img, summed over workers) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var (file, namesFile) in models)
        {
            string path = Path.IsPathRooted(file) ? file : Path.Combine(args.Shared, file);
            if (!File.Exists(path)) { Console.WriteLine($"| {file} | missing | | | | | | | |"); continue; }
            var names = namesFile is null ? null : PythonDictNames.FromLines(File.ReadAllText(Path.Combine(args.Shared, namesFile)));
            using var detector = Detector.Load(File.ReadAllBytes(path), new InferenceDevice(new InferenceOptions { Device = device, CpuConcurrentRuns = args.Runs, CpuThreadsPerRun = args.Threads }), names);
            int batch = detector.BatchSize(8);

            // Warm up both paths once.
            await RawRate.MeasureAsync(detector, files[0], batch, TimeSpan.FromSeconds(1));
            await EndToEnd(detector, items.Take(Math.Min(16, items.Count)).ToList(), batch, args.Polygons);

            var raws = new List<double>();
            var e2es = new List<(double Rate, PipelineStats Stats)>();
            for (int round = 0; round < args.Rounds; round++)
            {
                raws.Add(await RawRate.MeasureAsync(detector, files[0], batch, TimeSpan.FromSeconds(args.Seconds)));
                e2es.Add(await EndToEnd(detector, items, batch, args.Polygons));
            }
            double raw = raws.Average(), e2e = e2es.Average(e => e.Rate);
            var s = e2es[^1].Stats;
            double per(TimeSpan t) => t.TotalMilliseconds / s.Images;
            Console.WriteLine($"| {Path.GetFileName(path)} | {(detector.OnCuda ? "CUDA" : $"{detector.ConcurrentRuns} x {args.Threads}")}, {batch} | {raw:0.0} | {e2e:0.0} | " +
                              $"{e2e / raw * 100:0}% | {per(s.Decode):0.00} | {per(s.Preprocess):0.00} | {per(s.Inference):0.00} | {per(s.Postprocess):0.00} |");
        }
        return 0;
    }

    private static async Task<(double, PipelineStats)> EndToEnd(Detector detector, List<PipelineItem> items, int batch, bool polygons)
    {
        var stats = new PipelineStats();
        int detections = 0;
        var clock = Stopwatch.StartNew();
        await BatchPipeline.RunAsync(detector, items, new DetectionOptions { Polygons = polygons }, r =>
        {
            detections += r.Detections?.Count ?? 0;
            return ValueTask.CompletedTask;
        }, new PipelineOptions { MaxBatch = batch }, stats);
        clock.Stop();
        if (stats.Failed > 0) throw new InvalidOperationException($"{stats.Failed} images failed");
        return (items.Count / clock.Elapsed.TotalSeconds, stats);
    }
}
