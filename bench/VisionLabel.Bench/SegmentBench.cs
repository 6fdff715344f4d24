using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using OpenCvSharp;
using VisionLabel.Shapes;

namespace VisionLabel.Bench;

/// <summary>
/// Box → mask and click → mask (issue #25) through POST /api/images/{id}/segment on an in-process server: the first
/// --images coco128-seg photos, each object of at least 40×40 px prompted by its polygon's bounding box (and, for
/// clicks, its most interior pixel), with the YOLO segmentation model and with GrabCut. Reports the mean mask IoU
/// against the polygons and the latency (the route's own ms, and the round trip) p50/p95 per method.
/// </summary>
public static class SegmentBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        string root = Path.Combine(args.Shared, "datasets", "coco128-seg");
        string modelFile = Path.Combine(args.Shared, "models", "yolo11n-seg-int8-640.onnx");
        if (!Directory.Exists(root) || !File.Exists(modelFile)) { Console.Error.WriteLine($"needs {root} and {modelFile}"); return 2; }
        await using var server = await BenchServer.StartAsync("segment");
        using var http = await BenchAccess.ClientAsync(server.Services, server.Url);

        using var modelForm = new MultipartFormDataContent { { new ByteArrayContent(await File.ReadAllBytesAsync(modelFile)), "file", Path.GetFileName(modelFile) } };
        var model = await Json(await http.PostAsync("/api/models", modelForm));
        var project = await Json(await http.PostAsJsonAsync("/api/projects", new { name = "segment-bench", labels = new[] { new { name = "object" } } }));
        var files = Directory.GetFiles(Path.Combine(root, "images", "train2017"), "*.jpg").Order(StringComparer.Ordinal).Take(args.Images).ToList();
        var objects = new List<(string Image, int W, int H, Point[] Polygon, Rect Box)>();
        foreach (var chunk in files.Chunk(16))
        {
            using var form = new MultipartFormDataContent();
            foreach (var f in chunk) form.Add(new ByteArrayContent(await File.ReadAllBytesAsync(f)), "files", Path.GetFileName(f));
            var upload = await Json(await http.PostAsync($"/api/projects/{project.GetProperty("id")}/images", form));
            foreach (var (f, entry) in chunk.Zip(upload.GetProperty("files").EnumerateArray()))
            {
                var image = entry.GetProperty("image");
                int w = image.GetProperty("width").GetInt32(), h = image.GetProperty("height").GetInt32();
                string labels = Path.Combine(root, "labels", "train2017", Path.GetFileNameWithoutExtension(f) + ".txt");
                if (!File.Exists(labels)) continue;
                foreach (var line in File.ReadAllLines(labels))
                {
                    var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
                    var polygon = Enumerable.Range(0, v.Length / 2).Select(k => new Point(v[2 * k] * w, v[2 * k + 1] * h)).ToArray();
                    var box = Cv2.BoundingRect(polygon);
                    if (box.Width >= 40 && box.Height >= 40) objects.Add((image.GetProperty("id").GetString()!, w, h, polygon, box));
                }
            }
        }
        Console.WriteLine($"{files.Count} photos, {objects.Count} objects of 40 px or more; 2026 session machine, {Environment.ProcessorCount} cores");

        var runs = new (string Name, Func<(Rect Box, (int X, int Y) Inside), object> Body)[]
        {
            ("box · grabcut", o => new { box = Box(o.Box), method = "grabcut" }),
            ("box · model", o => new { box = Box(o.Box), method = "model", modelId = model.GetProperty("id").GetString() }),
            ("box · auto", o => new { box = Box(o.Box), method = "auto", modelId = model.GetProperty("id").GetString() }),
            ("click · model", o => new { points = new[] { new { x = o.Inside.X, y = o.Inside.Y, positive = true } }, method = "model", modelId = model.GetProperty("id").GetString() }),
            ("click · grabcut", o => new { points = new[] { new { x = o.Inside.X, y = o.Inside.Y, positive = true } }, method = "grabcut" }),
        };
        // Warm-up: the model's first run loads it.
        await http.PostAsJsonAsync($"/api/images/{objects[0].Image}/segment", runs[1].Body((objects[0].Box, (0, 0))));
        Console.WriteLine("| method | mean mask IoU | found | route ms p50 | p95 | round trip ms p50 | p95 |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (name, body) in runs)
        {
            var ious = new List<double>();
            var routeMs = new List<double>();
            var tripMs = new List<double>();
            int found = 0;
            foreach (var o in objects)
            {
                var truth = Rasterise(o.W, o.H, o.Polygon);
                var inside = Inside(o.W, o.H, truth);
                var sw = Stopwatch.StartNew();
                var response = await http.PostAsJsonAsync($"/api/images/{o.Image}/segment", body((o.Box, inside)));
                tripMs.Add(sw.Elapsed.TotalMilliseconds);
                if (!response.IsSuccessStatusCode) { ious.Add(0); continue; }
                var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
                found++;
                routeMs.Add(answer.GetProperty("ms").GetDouble());
                ious.Add(MaskIoU(answer, o.W, o.H, truth));
            }
            Console.WriteLine($"| {name} | {ious.Average():F3} | {found}/{objects.Count} | {Pct(routeMs, 0.5):F0} | {Pct(routeMs, 0.95):F0} | {Pct(tripMs, 0.5):F0} | {Pct(tripMs, 0.95):F0} |");
        }
        return 0;
    }

    private static object Box(Rect r) => new { x = r.X, y = r.Y, width = r.Width, height = r.Height };

    private static double Pct(List<double> values, double p) => values.Count == 0 ? double.NaN : values.Order().ElementAt(Math.Min(values.Count - 1, (int)(p * values.Count)));

    private static Task<JsonElement> Json(HttpResponseMessage response) => BenchAccess.JsonAsync(response);

    private static byte[] Rasterise(int w, int h, Point[] polygon)
    {
        using var mat = new Mat(h, w, MatType.CV_8UC1, Scalar.All(0));
        Cv2.FillPoly(mat, [polygon], Scalar.All(1));
        mat.GetArray(out byte[] rows);
        return rows;
    }

    private static (int X, int Y) Inside(int w, int h, byte[] truth)
    {
        using var mat = Mat.FromPixelData(h, w, MatType.CV_8UC1, truth);
        using var distance = new Mat();
        Cv2.DistanceTransform(mat, distance, DistanceTypes.L2, DistanceTransformMasks.Mask3);
        Cv2.MinMaxLoc(distance, out _, out _, out _, out Point max);
        return (max.X, max.Y);
    }

    private static double MaskIoU(JsonElement answer, int w, int h, byte[] truth)
    {
        var mask = CocoRle.ToMask(CocoRle.Decode(answer.GetProperty("mask").GetProperty("counts").GetString()!)!, h, w);
        long inter = 0, union = 0;
        for (int x = 0; x < w; x++)
            for (int y = 0; y < h; y++)
            {
                bool a = mask[x * h + y] != 0, b = truth[y * w + x] != 0;
                if (a && b) inter++;
                if (a || b) union++;
            }
        return union == 0 ? 0 : (double)inter / union;
    }
}
