using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server;
using VisionLabel.Server.Data;

namespace VisionLabel.Bench;

/// <summary>
/// Exports a synthetic project (default 10,000 images, 100 annotations each: 70% boxes, 30% 12-point polygons)
/// through GET /api/projects/{id}/export into a file, for each format, and reports time and peak memory.
/// Baseline, measured in the same run: reading the same annotation rows and image files without writing
/// anything (the floor any export has to pay).
///   VisionLabel.Bench export [--images 10000] [--per-image 100]
/// </summary>
public static class ExportBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        int images = args.Images == 128 ? 10_000 : args.Images, perImage = args.PerImage;
        string sourceImages = Path.Combine(args.Shared, "datasets", "coco128", "images", "train2017");
        var files = Directory.GetFiles(sourceImages, "*.jpg").Order().Take(128).ToArray();
        string data = Path.Combine(Path.GetTempPath(), "visionlabel-bench", Guid.NewGuid().ToString("N"));
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; }
        string url = $"http://127.0.0.1:{port}";
        var app = ServerHost.Build(["--urls", url, $"--VisionLabel:DataDirectory={data}", "--Logging:LogLevel:Default=Warning", "--VisionLabel:Jobs:RunWorkers=false"]);
        await app.Services.MigrateDatabaseAsync();
        await app.StartAsync();
        try
        {
            using var http = await BenchAccess.ClientAsync(app.Services, url, timeout: TimeSpan.FromHours(1));
            var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
            var labels = Enumerable.Range(0, 80).Select(i => new { name = $"class{i}" }).ToArray();
            var project = await (await http.PostAsJsonAsync("/api/projects", new { name = "export-bench", labels })).Content.ReadFromJsonAsync<JsonElement>(json);
            var projectId = project.GetProperty("id").GetGuid();
            var labelIds = project.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("id").GetGuid()).ToArray();

            // The 128 coco128 files go in through the upload API; the 10k image rows share their blobs.
            var upload = new MultipartFormDataContent();
            foreach (var f in files) upload.Add(new ByteArrayContent(File.ReadAllBytes(f)), "files", Path.GetFileName(f));
            var uploaded = (await (await http.PostAsync($"/api/projects/{projectId}/images", upload)).Content.ReadFromJsonAsync<JsonElement>(json))
                .GetProperty("files").EnumerateArray().Select(f => f.GetProperty("image")).ToList();
            var setup = Stopwatch.StartNew();
            await Synthesize(app.Services, projectId, labelIds, uploaded, images, perImage);
            Console.Error.WriteLine($"synthesized {images} images / {images * perImage} annotations in {setup.Elapsed.TotalSeconds:0} s");

            var baseline = await Baseline(app.Services, projectId);
            Console.WriteLine($"baseline (read rows + image files, write nothing): {baseline:0.0} s");
            Console.WriteLine();
            Console.WriteLine("| export | images | annotations | time s | vs baseline | peak working set MB | peak GC heap MB | zip MB |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (var (format, query) in new[] { ("coco", ""), ("coco", "&includeImages=false"), ("yolo-detect", ""), ("yolo-segment", "&includeImages=false") })
            {
                string output = Path.Combine(data, $"export-{format}.zip");
                GC.Collect();
                var (seconds, peakWs, peakHeap) = await Measure(async () =>
                {
                    await using var response = await http.GetStreamAsync($"/api/projects/{projectId}/export?format={format}&scope=all{query}");
                    await using var file = File.Create(output);
                    await response.CopyToAsync(file);
                });
                Console.WriteLine($"| {format}{(query.Length > 0 ? " (labels only)" : "")} | {images} | {images * perImage} | {seconds:0.0} | {seconds / baseline:0.00}x | {peakWs:0} | {peakHeap:0} | {new FileInfo(output).Length / 1e6:0} |");
                File.Delete(output);
            }
            return 0;
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<(double Seconds, double PeakWorkingSetMb, double PeakHeapMb)> Measure(Func<Task> work)
    {
        var process = Process.GetCurrentProcess();
        long peakWs = 0, peakHeap = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                process.Refresh();
                peakWs = Math.Max(peakWs, process.WorkingSet64);
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                try { await Task.Delay(50, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var clock = Stopwatch.StartNew();
        await work();
        clock.Stop();
        await stop.CancelAsync();
        await sampler;
        return (clock.Elapsed.TotalSeconds, peakWs / 1048576.0, peakHeap / 1048576.0);
    }

    private static async Task<double> Baseline(IServiceProvider services, Guid projectId)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var blobs = scope.ServiceProvider.GetRequiredService<VisionLabel.Server.Storage.IBlobStore>();
        var clock = Stopwatch.StartNew();
        long bytes = 0, rows = 0;
        await foreach (var a in db.Annotations.AsNoTracking().AsAsyncEnumerable()) { rows++; bytes += a.Geometry.Length; }
        var buffer = new byte[1 << 16];
        await foreach (var image in db.Images.AsNoTracking().Where(i => i.ProjectId == projectId).AsAsyncEnumerable())
        {
            await using var s = (await blobs.OpenReadAsync(image.BlobKey))!;
            int n;
            while ((n = await s.ReadAsync(buffer)) > 0) bytes += n;
        }
        return clock.Elapsed.TotalSeconds;
    }

    private static async Task Synthesize(IServiceProvider services, Guid projectId, Guid[] labels, List<JsonElement> uploaded, int images, int perImage)
    {
        var random = new Random(42);
        var now = DateTime.UtcNow;
        List<Image> blobs;
        await using (var scope = services.CreateAsyncScope())
            blobs = await scope.ServiceProvider.GetRequiredService<VisionLabelDb>().Images.AsNoTracking()
                .Where(i => i.ProjectId == projectId).OrderBy(i => i.Id).Take(128).ToListAsync();
        for (int start = 0; start < images; start += 500)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (int i = start; i < Math.Min(images, start + 500); i++)
            {
                var template = blobs[i % blobs.Count];
                var image = new Image
                {
                    Id = MonotonicGuid.Next(), ProjectId = projectId, ContentHash = $"{i:x64}", FileName = $"{i:D6}.jpg", Width = template.Width, Height = template.Height,
                    Format = "jpeg", SizeBytes = template.SizeBytes, BlobKey = template.BlobKey, CreatedAt = now, UpdatedAt = now,
                };
                db.Images.Add(image);
                for (int k = 0; k < perImage; k++)
                {
                    double x = random.NextDouble() * (image.Width - 60), y = random.NextDouble() * (image.Height - 60), w = 10 + random.NextDouble() * 50, h = 10 + random.NextDouble() * 50;
                    bool polygon = k % 10 >= 7;
                    string geometry = polygon
                        ? "{\"rings\":[[" + string.Join(",", Enumerable.Range(0, 12).SelectMany(p => new[] { x + w / 2 + w / 2 * Math.Cos(p * Math.PI / 6), y + h / 2 + h / 2 * Math.Sin(p * Math.PI / 6) }).Select(v => v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture))) + "]]}"
                        : $"{{\"x\":{x:0.##},\"y\":{y:0.##},\"width\":{w:0.##},\"height\":{h:0.##}}}";
                    db.Annotations.Add(new Annotation
                    {
                        Id = MonotonicGuid.Next(), ImageId = image.Id, LabelId = labels[random.Next(labels.Length)], Kind = polygon ? AnnotationKind.Polygon : AnnotationKind.Box,
                        Geometry = geometry, Source = AnnotationSourceType.Human, State = AnnotationState.Accepted,
                        CreatedBy = "bench", CreatedAt = now, UpdatedBy = "bench", UpdatedAt = now,
                    });
                }
            }
            await db.SaveChangesAsync();
        }
        // Drop the 128 uploaded rows so the project holds exactly the synthetic images.
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            var ids = uploaded.Select(u => u.GetProperty("id").GetGuid()).ToList();
            await db.Images.Where(i => ids.Contains(i.Id)).ExecuteDeleteAsync();
        }
    }
}
