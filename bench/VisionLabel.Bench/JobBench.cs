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
/// database, job worker), against the raw session.Run throughput of the same model measured in the same process
/// right before and right after the job (their mean is the baseline, so drift during the job counts on both sides).
/// With --warmup W (default 64) a job over W other images runs first, so the measured job finds the process as a
/// server that has run a job before finds it (its code jitted and optimised); --warmup 0 measures a first job after
/// start-up. Peak memory is sampled while the job runs, for several N, to show it does not grow with N.
/// </summary>
public static class JobBench
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(BenchArgs args)
    {
        string modelFile = Path.Combine(args.Shared, args.Models?.FirstOrDefault() ?? "models/yolov8n-det-int8-640.onnx");
        string imageDir = Path.Combine(args.Shared, "datasets", "coco128", "images", "train2017");
        if (!File.Exists(modelFile) || !Directory.Exists(imageDir)) { Console.Error.WriteLine($"missing {modelFile} or {imageDir}"); return 2; }
        var files = Directory.GetFiles(imageDir, "*.jpg").Order().ToArray();

        Console.WriteLine($"# Job benchmark: {Path.GetFileName(modelFile)}, {Environment.ProcessorCount} cores, CPU, warm-up job {args.Warmup} images, {DateTime.UtcNow:yyyy-MM-dd}");
        Console.WriteLine();
        Console.WriteLine("| images | raw session.Run img/s before / after | job img/s (started→finished) | job / raw | enqueue→done s | peak working set MB | peak managed heap MB |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (int n in args.Sizes)
        {
            async Task<double> Raw()
            {
                // Loaded for the measurement only, so the job's peak memory is the job's.
                using var detector = Detector.Load(File.ReadAllBytes(modelFile), new InferenceDevice(new InferenceOptions { Device = DeviceChoice.Cpu }));
                GC.Collect();
                await RawRate.MeasureAsync(detector, files[0], 1, TimeSpan.FromSeconds(1));
                double rate = await RawRate.MeasureAsync(detector, files[0], 1, TimeSpan.FromSeconds(args.Seconds));
                GC.Collect();
                return rate;
            }
            var (before, after, row) = await OneJob(modelFile, files, n, args.Warmup, args.Settle, Raw);
            double raw = (before + after) / 2;
            Console.WriteLine($"| {n} | {before:0.0} / {after:0.0} | {row.Rate:0.0} | {row.Rate / raw * 100:0}% | {row.Seconds:0.0} | {row.PeakWorkingSetMb:0} | {row.PeakHeapMb:0} |");
        }
        return 0;
    }

    private sealed record JobRun(double Rate, double Seconds, double PeakWorkingSetMb, double PeakHeapMb);

    private static async Task<(double Before, double After, JobRun Job)> OneJob(string modelFile, string[] files, int n, int warmup, double settle, Func<Task<double>> raw)
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
            using var http = await BenchAccess.ClientAsync(app.Services, url);
            var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(modelFile)), "file", Path.GetFileName(modelFile) } };
            var model = await (await http.PostAsync("/api/models", form)).Content.ReadFromJsonAsync<JsonElement>(Json);
            string modelId = model.GetProperty("id").GetString()!;
            var names = model.GetProperty("classNames").EnumerateArray().Select(e => new { name = e.GetString() }).ToArray();
            string warmProject = await ProjectAsync(http, "warm-up", names);
            string project = await ProjectAsync(http, "bench", names);
            await UploadAsync(http, warmProject, files, warmup, first: n);
            await UploadAsync(http, project, files, n, first: 0);
            // The upload leaves the kernel writing back hundreds of MB of new files (and SQLite a long WAL) for many
            // seconds, which slowed the first chunks by a fifth: let that finish, then take the baseline, then the job.
            Process.Start("sync")!.WaitForExit();
            if (settle > 0) await Task.Delay(TimeSpan.FromSeconds(settle)); // --settle (15 s): the baseline on a quiet machine, as the job runs
            if (warmup > 0) await JobAsync(http, warmProject, modelId, warmup);

            double before = await raw();
            Console.Error.WriteLine($"# job starting (pid {Environment.ProcessId})"); // for profilers attaching to the job alone
            var job = await JobAsync(http, project, modelId, n);
            double after = await raw();
            return (before, after, job);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task<string> ProjectAsync(HttpClient http, string name, object labels)
    {
        var project = await (await http.PostAsJsonAsync("/api/projects", new { name, labels })).Content.ReadFromJsonAsync<JsonElement>(Json);
        return project.GetProperty("id").GetString()!;
    }

    /// <summary>N distinct images: coco128 files, each with a unique JPEG comment after SOI (same pixels, new content hash).</summary>
    private static async Task UploadAsync(HttpClient http, string projectId, string[] files, int count, int first)
    {
        for (int start = first; start < first + count; start += 64)
        {
            var upload = new MultipartFormDataContent();
            for (int i = start; i < Math.Min(first + count, start + 64); i++)
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
    }

    /// <summary>Pre-labels the project and waits for the job; its rate over its own run (claimed → finished, model load included).</summary>
    private static async Task<JobRun> JobAsync(HttpClient http, string projectId, string modelId, int n)
    {
        var clock = Stopwatch.StartNew();
        var job = await (await http.PostAsJsonAsync($"/api/projects/{projectId}/prelabel", new { modelId })).Content.ReadFromJsonAsync<JsonElement>(Json);
        string jobId = job.GetProperty("id").GetString()!;
        long peakWs = 0, peakHeap = 0;
        var process = Process.GetCurrentProcess();
        while (true)
        {
            process.Refresh();
            peakWs = Math.Max(peakWs, process.WorkingSet64);
            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(false));
            var state = await http.GetFromJsonAsync<JsonElement>($"/api/jobs/{jobId}", Json);
            string status = state.GetProperty("status").GetString()!;
            if (status is "completed" or "dead" or "cancelled")
            {
                if (status != "completed" || state.GetProperty("failed").GetInt32() > 0) throw new InvalidOperationException($"job ended {status}: {state}");
                var processing = state.GetProperty("finishedAt").GetDateTime() - state.GetProperty("startedAt").GetDateTime();
                return new JobRun(n / processing.TotalSeconds, clock.Elapsed.TotalSeconds, peakWs / 1048576.0, peakHeap / 1048576.0);
            }
            await Task.Delay(100);
        }
    }
}
