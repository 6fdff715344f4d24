using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using VisionLabel.Inference;
using VisionLabel.Server;
using VisionLabel.Server.Data;

namespace VisionLabel.Bench;

/// <summary>
/// A pre-labeling job over N images stored in the server's blob store, through the real server (HTTP API,
/// database, job worker), against the raw session.Run throughput of the same model measured in the same run.
/// Peak memory is sampled while the job runs, for several N, to show it does not grow with N.
/// </summary>
public static class JobBench
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        string modelFile = Path.Combine(args.Shared, args.Models?.FirstOrDefault() ?? "models/yolov8n-det-int8-640.onnx");
        string imageDir = Path.Combine(args.Shared, "datasets", "coco128", "images", "train2017");
        if (!File.Exists(modelFile) || !Directory.Exists(imageDir)) { Console.Error.WriteLine($"missing {modelFile} or {imageDir}"); return 2; }
        var files = Directory.GetFiles(imageDir, "*.jpg").Order().ToArray();

        Console.WriteLine($"# Job benchmark: {Path.GetFileName(modelFile)}, {Environment.ProcessorCount} cores, CPU, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| images | raw session.Run img/s | job img/s (started→finished) | job / raw | enqueue→done s | peak working set MB | peak managed heap MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int n in args.Sizes)
        {
            // Baseline right before each job (after its upload), so both see the same machine state.
            double raw = 0;
            var row = await OneJob(modelFile, files, n, args.Settle, async () =>
            {
                using var detector = Detector.Load(File.ReadAllBytes(modelFile), new InferenceDevice(new InferenceOptions { Device = DeviceChoice.Cpu }));
                await InferenceBench.Raw(detector, files[0], 1, TimeSpan.FromSeconds(1));
                raw = await InferenceBench.Raw(detector, files[0], 1, TimeSpan.FromSeconds(args.Seconds));
            });
            Console.WriteLine($"| {n} | {raw:0.0} | {row.Rate:0.0} | {row.Rate / raw * 100:0}% | {row.Seconds:0.0} | {row.PeakWorkingSetMb:0} | {row.PeakHeapMb:0} |");
        }
        return 0;
    }

    private static async Task<(double Rate, double Seconds, double PeakWorkingSetMb, double PeakHeapMb)> OneJob(string modelFile, string[] files, int n, double settle, Func<Task> baseline)
    {
        string data = Path.Combine(Path.GetTempPath(), "visionlabel-bench", Guid.NewGuid().ToString("N"));
        int port;
        using (var l = new TcpListener(IPAddress.Loopback, 0)) { l.Start(); port = ((IPEndPoint)l.LocalEndpoint).Port; }
        string url = $"http://127.0.0.1:{port}";
        var app = ServerHost.Build(["--urls", url, $"--VisionLabel:DataDirectory={data}", "--VisionLabel:Inference:Device=cpu",
            "--Logging:LogLevel:Default=Warning", "--VisionLabel:Jobs:PollInterval=00:00:00.200"]);
        await app.Services.MigrateDatabaseAsync();
        await app.StartAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(30) };
            var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
            var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(modelFile)), "file", Path.GetFileName(modelFile) } };
            var model = await (await http.PostAsync("/api/models", form)).Content.ReadFromJsonAsync<JsonElement>(json);
            var names = model.GetProperty("classNames").EnumerateArray().Select(e => new { name = e.GetString() }).ToArray();
            var project = await (await http.PostAsJsonAsync("/api/projects", new { name = "bench", labels = names })).Content.ReadFromJsonAsync<JsonElement>(json);
            string projectId = project.GetProperty("id").GetString()!;

            // N distinct images: coco128 files, each with a unique JPEG comment after SOI (same pixels, new content hash).
            for (int start = 0; start < n; start += 64)
            {
                var upload = new MultipartFormDataContent();
                for (int i = start; i < Math.Min(n, start + 64); i++)
                {
                    byte[] jpeg = File.ReadAllBytes(files[i % files.Length]);
                    byte[] comment = System.Text.Encoding.ASCII.GetBytes($"bench copy {i}");
                    byte[] com = [0xFF, 0xFE, (byte)((comment.Length + 2) >> 8), (byte)(comment.Length + 2), .. comment];
                    var part = new ByteArrayContent([.. jpeg.AsSpan(0, 2), .. com, .. jpeg.AsSpan(2)]);
                    part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                    upload.Add(part, "files", $"{i:D6}.jpg");
                }
                (await http.PostAsync($"/api/projects/{projectId}/images", upload)).EnsureSuccessStatusCode();
            }
            // The upload leaves the kernel writing back hundreds of MB of new files (and SQLite a long WAL) for many
            // seconds, which slowed the first chunks by a fifth: let that finish, then take the baseline, then the job.
            Process.Start("sync")!.WaitForExit();
            if (settle > 0) await Task.Delay(TimeSpan.FromSeconds(settle)); // --settle (15 s): the baseline on a quiet machine, as the job runs
            GC.Collect();
            await baseline();
            GC.Collect();

            var clock = Stopwatch.StartNew();
            var job = await (await http.PostAsJsonAsync($"/api/projects/{projectId}/prelabel", new { modelId = model.GetProperty("id").GetString() })).Content.ReadFromJsonAsync<JsonElement>(json);
            string jobId = job.GetProperty("id").GetString()!;
            long peakWs = 0, peakHeap = 0;
            TimeSpan processing = default;
            var process = Process.GetCurrentProcess();
            while (true)
            {
                process.Refresh();
                peakWs = Math.Max(peakWs, process.WorkingSet64);
                peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
                var state = await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{jobId}", json);
                string status = state.GetProperty("status").GetString()!;
                if (status is "completed" or "dead" or "cancelled")
                {
                    if (status != "completed" || state.GetProperty("failed").GetInt32() > 0) throw new InvalidOperationException($"job ended {status}: {state}");
                    processing = state.GetProperty("finishedAt").GetDateTime() - state.GetProperty("startedAt").GetDateTime();
                    break;
                }
                await Task.Delay(100);
            }
            clock.Stop();
            // Rate over the job's own run (claimed → finished, model load included); wall time from enqueue as well.
            return (n / processing.TotalSeconds, clock.Elapsed.TotalSeconds, peakWs / 1048576.0, peakHeap / 1048576.0);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }
}
