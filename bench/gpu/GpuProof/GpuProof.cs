using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using VisionLabel.Inference;
using VisionLabel.Shapes;

namespace VisionLabel.Bench;

/// <summary>
/// The CUDA proof (issue #21), run by bench/gpu/run.sh on the device machine: per model (the fp32 dynamic-batch YOLO
/// exports, detect and segment), the reference detections on the CPU, then on the chosen device at each batch size the
/// raw session.Run rate (preprocessed tensors) and the end-to-end rate (read, decode, letterbox, run, decode outputs,
/// masks) over coco128 repeated, then the device's detections compared with the CPU's under the reference tests'
/// tolerances (boxes within 1 px, scores within 1e-3, mask IoU above 0.95). Everything goes into one JSON.
/// `--device cuda` fails loudly when CUDA is not usable (no fallback); `--device cpu` runs the same steps on the CPU,
/// which is how the package is checked before device time is spent (bench/gpu/check-local.sh).
/// </summary>
public sealed record GpuProofArgs(string Shared, string Device, double Seconds);

public static class GpuProof
{
    private static readonly string[] Models =
    [
        "models/derived/yolov8n-det-fp32dq-dynbatch-640.onnx",
        "models/derived/yolo11n-seg-fp32dq-dynbatch-640.onnx",
    ];

    public static async Task<int> RunAsync(GpuProofArgs args, string output, int[] batches, int repeat)
    {
        string imageDir = Path.Combine(args.Shared, "datasets", "coco128", "images", "train2017");
        if (!Directory.Exists(imageDir)) { Console.Error.WriteLine($"missing {imageDir}"); return 2; }
        var files = Directory.GetFiles(imageDir, "*.jpg").Order().ToArray();
        var device = Enum.Parse<DeviceChoice>(args.Device, ignoreCase: true);
        var report = new JsonObject
        {
            ["device"] = device.ToString().ToLowerInvariant(),
            ["cudaBuild"] = InferenceDevice.CudaBuild,
            ["onnxRuntime"] = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString(),
            ["dotnet"] = Environment.Version.ToString(),
            ["cpuCores"] = Environment.ProcessorCount,
            ["images"] = files.Length,
            ["endToEndImages"] = files.Length * repeat,
            ["date"] = DateTime.UtcNow.ToString("O"),
            // Set by bench/gpu/run.sh from nvidia-smi, pip and /proc/cpuinfo.
            ["gpu"] = Environment.GetEnvironmentVariable("VLGPU_GPU"),
            ["cudaLibraries"] = Environment.GetEnvironmentVariable("VLGPU_CUDA_LIBS"),
            ["machine"] = Environment.GetEnvironmentVariable("VLGPU_DEVICE_INFO"),
        };
        var results = new JsonArray();
        report["models"] = results;
        foreach (var model in Models)
        {
            string path = Path.Combine(args.Shared, model);
            if (!File.Exists(path)) { Console.Error.WriteLine($"missing {path}"); return 2; }
            byte[] bytes = File.ReadAllBytes(path);
            Console.Error.WriteLine($"{Path.GetFileName(path)}: CPU reference…");
            using var cpu = Detector.Load(bytes, new InferenceDevice(new InferenceOptions { Device = DeviceChoice.Cpu }));
            var reference = await DetectAll(cpu, files, batch: 8);
            var cpuRates = new JsonObject
            {
                ["rawImgPerSec"] = Round(await RawRate.MeasureAsync(cpu, files[0], 8, TimeSpan.FromSeconds(args.Seconds))),
                ["endToEndImgPerSec"] = Round(await EndToEnd(cpu, files, repeat, 8)),
                ["batch"] = 8, ["concurrentRuns"] = cpu.ConcurrentRuns,
            };

            // The device under test; under 'cuda' a CUDA problem throws here, naming what is missing.
            using var detector = Detector.Load(bytes, new InferenceDevice(new InferenceOptions { Device = device }));
            var rates = new JsonArray();
            JsonObject? parity = null;
            foreach (int batch in batches)
            {
                Console.Error.WriteLine($"{Path.GetFileName(path)}: {device} batch {batch}…");
                await RawRate.MeasureAsync(detector, files[0], batch, TimeSpan.FromSeconds(1)); // warm-up (CUDA graphs, allocator)
                double raw = await RawRate.MeasureAsync(detector, files[0], batch, TimeSpan.FromSeconds(args.Seconds));
                double e2e = await EndToEnd(detector, files, repeat, batch);
                rates.Add(new JsonObject { ["batch"] = batch, ["rawImgPerSec"] = Round(raw), ["endToEndImgPerSec"] = Round(e2e), ["endToEndOverRaw"] = Math.Round(e2e / raw, 3) });
                // Parity at every batch size (a batch may take other kernels), reported for the worst.
                var compared = Compare(reference, await DetectAll(detector, files, batch));
                compared["batch"] = batch;
                if (parity is null || compared["f1"]!.GetValue<double>() < parity["f1"]!.GetValue<double>() || !compared["pass"]!.GetValue<bool>()) parity = compared;
            }
            results.Add(new JsonObject
            {
                ["model"] = Path.GetFileName(path), ["task"] = detector.Spec.Task.ToString().ToLowerInvariant(), ["onCuda"] = detector.OnCuda,
                ["device"] = rates, ["cpu"] = cpuRates, ["parity"] = parity,
            });
        }
        string json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await File.WriteAllTextAsync(output, json);
        Console.WriteLine(json);
        bool pass = results.All(m => m!["parity"]!["pass"]!.GetValue<bool>());
        Console.Error.WriteLine(pass ? "parity: pass" : "parity: FAIL (see the JSON)");
        return pass ? 0 : 1;
    }

    private static double Round(double rate) => Math.Round(rate, 1);

    private static async Task<Dictionary<string, IReadOnlyList<Detection>>> DetectAll(Detector detector, string[] files, int batch)
    {
        var found = new Dictionary<string, IReadOnlyList<Detection>>();
        var items = files.Select(f => new PipelineItem(Path.GetFileName(f), ct => new ValueTask<byte[]>(File.ReadAllBytesAsync(f, ct))));
        await BatchPipeline.RunAsync(detector, items, new DetectionOptions { Polygons = false }, r =>
        {
            if (r.Error is not null) throw new InvalidOperationException($"{r.Item.Name}: {r.Error}");
            lock (found) found[r.Item.Name] = r.Detections ?? [];
            return ValueTask.CompletedTask;
        }, new PipelineOptions { MaxBatch = batch });
        return found;
    }

    private static async Task<double> EndToEnd(Detector detector, string[] files, int repeat, int batch)
    {
        var items = Enumerable.Range(0, files.Length * repeat).Select(i => files[i % files.Length])
            .Select((f, i) => new PipelineItem($"{i}", ct => new ValueTask<byte[]>(File.ReadAllBytesAsync(f, ct)))).ToList();
        var clock = Stopwatch.StartNew();
        int failed = 0;
        await BatchPipeline.RunAsync(detector, items, new DetectionOptions { Polygons = false }, r =>
        {
            if (r.Error is not null) Interlocked.Increment(ref failed);
            return ValueTask.CompletedTask;
        }, new PipelineOptions { MaxBatch = batch });
        if (failed > 0) throw new InvalidOperationException($"{failed} images failed");
        return items.Count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Device against CPU: detections matched greedily by class and box IoU ≥ 0.5 (highest IoU first); F1 over the
    /// matches; for matched pairs the largest box-corner difference (px), the largest score difference and the mask
    /// IoU. Pass: every detection matched, or the unmatched ones all within 0.01 of the confidence threshold (a score
    /// on the threshold may fall either side), corners within 1 px, scores within 1e-3, mask IoU above 0.95.
    /// </summary>
    public static JsonObject Compare(Dictionary<string, IReadOnlyList<Detection>> reference, Dictionary<string, IReadOnlyList<Detection>> device)
    {
        int matched = 0, onlyReference = 0, onlyDevice = 0, borderline = 0;
        double minIou = 1, maxCorner = 0, maxScore = 0, minMaskIou = 1, sumMaskIou = 0;
        int masks = 0;
        foreach (var (image, refs) in reference)
        {
            var devs = device.GetValueOrDefault(image) ?? [];
            var pairs = new List<(int R, int D, float Iou)>();
            for (int r = 0; r < refs.Count; r++)
                for (int d = 0; d < devs.Count; d++)
                    if (refs[r].ClassId == devs[d].ClassId && BoxF.IoU(refs[r].Box, devs[d].Box) is var iou && iou >= 0.5f) pairs.Add((r, d, iou));
            var usedR = new HashSet<int>(); var usedD = new HashSet<int>();
            foreach (var (r, d, iou) in pairs.OrderByDescending(p => p.Iou))
            {
                if (!usedR.Add(r)) continue;
                if (!usedD.Add(d)) { usedR.Remove(r); continue; }
                matched++;
                minIou = Math.Min(minIou, iou);
                var (a, b) = (refs[r], devs[d]);
                maxCorner = Math.Max(maxCorner, new[] { Math.Abs(a.Box.X - b.Box.X), Math.Abs(a.Box.Y - b.Box.Y), Math.Abs(a.Box.Right - b.Box.Right), Math.Abs(a.Box.Bottom - b.Box.Bottom) }.Max());
                maxScore = Math.Max(maxScore, Math.Abs(a.Score - b.Score));
                if (a.Mask is { } ma && b.Mask is { } mb)
                {
                    double m = MaskIou(ma, mb);
                    masks++; sumMaskIou += m; minMaskIou = Math.Min(minMaskIou, m);
                }
            }
            for (int r = 0; r < refs.Count; r++) if (!usedR.Contains(r)) { onlyReference++; if (Math.Abs(refs[r].Score - 0.25f) <= 0.01f) borderline++; }
            for (int d = 0; d < devs.Count; d++) if (!usedD.Contains(d)) { onlyDevice++; if (Math.Abs(devs[d].Score - 0.25f) <= 0.01f) borderline++; }
        }
        double precision = matched + onlyDevice == 0 ? 1 : (double)matched / (matched + onlyDevice);
        double recall = matched + onlyReference == 0 ? 1 : (double)matched / (matched + onlyReference);
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        bool pass = borderline == onlyReference + onlyDevice && maxCorner <= 1.0 && maxScore <= 1e-3 && (masks == 0 || minMaskIou > 0.95);
        return new JsonObject
        {
            ["matched"] = matched, ["onlyCpu"] = onlyReference, ["onlyDevice"] = onlyDevice, ["unmatchedAtThreshold"] = borderline,
            ["f1"] = Math.Round(f1, 5), ["minBoxIou"] = Math.Round(minIou, 5), ["maxCornerPx"] = Math.Round(maxCorner, 4),
            ["maxScoreDiff"] = Math.Round(maxScore, 6), ["masks"] = masks,
            ["minMaskIou"] = masks == 0 ? null : Math.Round(minMaskIou, 5), ["meanMaskIou"] = masks == 0 ? null : Math.Round(sumMaskIou / masks, 5),
            ["tolerances"] = "corners <= 1 px, scores <= 1e-3, mask IoU > 0.95, unmatched only within 0.01 of the 0.25 threshold",
            ["pass"] = pass,
        };
    }

    private static double MaskIou(RleMask a, RleMask b)
    {
        if (a.Height != b.Height || a.Width != b.Width) return 0;
        byte[] x = CocoRle.ToMask(a.Counts, a.Height, a.Width), y = CocoRle.ToMask(b.Counts, b.Height, b.Width);
        long inter = 0, union = 0;
        for (int i = 0; i < x.Length; i++) { bool p = x[i] != 0, q = y[i] != 0; if (p && q) inter++; if (p || q) union++; }
        return union == 0 ? 1 : (double)inter / union;
    }
}
