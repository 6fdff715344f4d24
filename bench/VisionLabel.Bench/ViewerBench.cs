using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using NetVips;

namespace VisionLabel.Bench;

/// <summary>
/// The editor on a large mosaic (issue 26, docs/benchmarks.md): coco128 photos in 1000 × 1000 cells of a
/// 20,000 × 15,000 JPEG (300 MP, shown from its pyramid), each photo's own labels placed on it as boxes (a few thousand),
/// opened in headless chromium at 1280 × 720. Baseline, the same run: a 4000 × 3000 mosaic of the same photos (12 MP, the
/// path every image took before: the file itself in an img). Measured per image, in a fresh browser context each round
/// (no cached tiles): time to first view (the editor ready: the backdrop or the photo drawn), time until the tiles the
/// view wants are all drawn ("sharp"), then frame times (requestAnimationFrame intervals) through a scripted minute of
/// wheel zooms and middle-button pans, and the tiles fetched.
/// </summary>
public static class ViewerBench
{
    public static async Task<int> RunAsync(BenchArgs options)
    {
        const string chromium = "/usr/bin/chromium";
        string photos = Path.Combine(options.Shared, "datasets", "coco128", "images", "train2017");
        string labels = Path.Combine(options.Shared, "datasets", "coco128", "labels", "train2017");
        if (!File.Exists(chromium) || !Directory.Exists(photos)) { Console.Error.WriteLine($"needs {chromium} and {photos}"); return 2; }
        await using var server = await BenchServer.StartAsync("viewer-bench");
        using var http = await BenchAccess.ClientAsync(server.Services, server.Url);
        var project = await Json(await http.PostAsJsonAsync("/api/projects", new { name = "viewer-bench", labels = Enumerable.Range(0, 80).Select(i => new { name = $"class {i}" }).ToArray() }));
        var labelIds = project.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("id").GetGuid()).ToArray();
        string work = Path.Combine(Path.GetTempPath(), "vl-viewer-bench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(work);
        try
        {
            var images = new List<(string Name, Guid Id, int Shapes)>();
            foreach (var (name, cols, rows) in new[] { ("mosaic-12mp", 4, 3), ("mosaic-300mp", 20, 15) })
            {
                string path = Path.Combine(work, name + ".jpg");
                var boxes = Make(photos, labels, cols, rows, path);
                var id = await UploadAsync(http, project.GetProperty("id").GetGuid(), path);
                foreach (var chunk in boxes.Chunk(10_000))
                    (await http.PostAsJsonAsync($"/api/images/{id}/annotations/bulk", new
                    {
                        annotations = chunk.Select(b => new { labelId = labelIds[b.Class % labelIds.Length], kind = "box", geometry = new { x = b.X, y = b.Y, width = b.W, height = b.H } }).ToArray(),
                    })).EnsureSuccessStatusCode();
                images.Add((name, id, boxes.Count));
                File.Delete(path);
            }

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium, Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
            });
            Console.WriteLine("| image | shapes | first view (ms) | sharp (ms) | frames | frame p50 / p95 / p99 / max (ms) | dropped (>25 ms) | tiles fetched |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            for (int round = 0; round < options.Rounds; round++)
                foreach (var image in images)
                {
                    var r = await MeasureAsync(browser, server.Url, image.Id, options.Seconds);
                    Console.WriteLine($"| {image.Name} | {image.Shapes} | {r.FirstView:F0} | {r.Sharp:F0} | {r.Frames.Length} | {P(r.Frames, 50):F1} / {P(r.Frames, 95):F1} / {P(r.Frames, 99):F1} / {r.Frames.Max():F1} | " +
                                      $"{r.Frames.Count(f => f > 25)} | {r.Tiles} |");
                }
        }
        finally { Directory.Delete(work, recursive: true); }
        return 0;
    }

    private sealed record Result(double FirstView, double Sharp, double[] Frames, int Tiles);

    private static async Task<Result> MeasureAsync(IBrowser browser, string url, Guid imageId, double seconds)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 720 } });
        try
        {
            var page = await context.NewPageAsync();
            await BenchAccess.SignInAsync(page, url, "bench", "/");
            int tiles = 0;
            page.Request += (_, request) => { if (request.Url.Contains("/tiles/", StringComparison.Ordinal)) Interlocked.Increment(ref tiles); };
            var clock = Stopwatch.StartNew();
            await page.GotoAsync($"{url}/images/{imageId}");
            await page.Locator("canvas.base[data-ready='true']").WaitForAsync(new() { Timeout = 120_000 });
            double firstView = clock.Elapsed.TotalMilliseconds;
            await page.WaitForFunctionAsync(Sharp, null, new() { Timeout = 120_000, PollingInterval = 10 });
            double sharp = clock.Elapsed.TotalMilliseconds;

            // Frames through the scripted zooms and pans.
            await page.EvaluateAsync("() => { window.__frames = []; let last = performance.now(); const f = t => { window.__frames.push(t - last); last = t; if (!window.__stop) requestAnimationFrame(f); }; requestAnimationFrame(f); }");
            var stage = (await page.Locator(".stage").BoundingBoxAsync())!;
            float cx = stage.X + stage.Width / 2, cy = stage.Y + stage.Height / 2;
            var random = new Random(7);
            var until = Stopwatch.StartNew();
            while (until.Elapsed.TotalSeconds < seconds)
            {
                // Zoom in four notches at a point, pan across, pan back, zoom out: what looking over an image is.
                float px = cx + (float)(random.NextDouble() - 0.5) * stage.Width / 2, py = cy + (float)(random.NextDouble() - 0.5) * stage.Height / 2;
                await page.Mouse.MoveAsync(px, py);
                for (int i = 0; i < 4; i++) { await page.Mouse.WheelAsync(0, -100); await page.WaitForTimeoutAsync(50); }
                foreach (var (dx, dy) in new[] { (-400f, -150f), (400f, 150f) })
                {
                    await page.Mouse.MoveAsync(cx, cy);
                    await page.Mouse.DownAsync(new() { Button = MouseButton.Middle });
                    await page.Mouse.MoveAsync(cx + dx, cy + dy, new() { Steps = 30 });
                    await page.Mouse.UpAsync(new() { Button = MouseButton.Middle });
                }
                for (int i = 0; i < 4; i++) { await page.Mouse.WheelAsync(0, 100); await page.WaitForTimeoutAsync(50); }
            }
            await page.EvaluateAsync("() => { window.__stop = true; }");
            var frames = await page.EvaluateAsync<double[]>("() => window.__frames.slice(1)");
            return new Result(firstView, sharp, frames, tiles);
        }
        finally { await context.CloseAsync(); }
    }

    /// <summary>The view's picture is complete: a tiled image's wanted tiles are all drawn; an untiled one's photo decoded.</summary>
    private const string Sharp = @"() => {
        const t = document.querySelector('canvas.tiles'), img = document.querySelector('img.photo');
        if (t && t.dataset.wanted) return Number(t.dataset.wanted) > 0 && t.dataset.tiles === t.dataset.wanted;
        return img && img.complete && img.naturalWidth > 0;
    }";

    private static double P(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p / 100 * sorted.Length) - 1)];
    }

    /// <summary>coco128 photos, one per 1000 × 1000 cell on mid grey (cycling through the 128), written by libvips; returns their labels as boxes.</summary>
    private static List<(int Class, double X, double Y, double W, double H)> Make(string photos, string labels, int cols, int rows, string path)
    {
        var files = Directory.GetFiles(photos, "*.jpg").Order(StringComparer.Ordinal).ToArray();
        var cells = new List<NetVips.Image>();
        var boxes = new List<(int, double, double, double, double)>();
        try
        {
            for (int i = 0; i < cols * rows; i++)
            {
                string file = files[i % files.Length];
                var photo = NetVips.Image.NewFromFile(file);
                if (photo.Bands == 1) photo = photo.Bandjoin(photo, photo);
                int w = Math.Min(photo.Width, 1000), h = Math.Min(photo.Height, 1000);
                int ox = (1000 - w) / 2, oy = (1000 - h) / 2;
                cells.Add(photo.Crop(0, 0, w, h).Embed(ox, oy, 1000, 1000, extend: Enums.Extend.Background, background: [114, 114, 114]));
                string txt = Path.Combine(labels, Path.GetFileNameWithoutExtension(file) + ".txt");
                if (!File.Exists(txt)) continue;
                double x0 = i % cols * 1000 + ox, y0 = i / cols * 1000 + oy;
                foreach (var line in File.ReadLines(txt))
                {
                    var v = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (v.Length != 5) continue;
                    double bw = double.Parse(v[3], CultureInfo.InvariantCulture) * photo.Width, bh = double.Parse(v[4], CultureInfo.InvariantCulture) * photo.Height;
                    double bx = double.Parse(v[1], CultureInfo.InvariantCulture) * photo.Width - bw / 2, by = double.Parse(v[2], CultureInfo.InvariantCulture) * photo.Height - bh / 2;
                    if (bx < 0 || by < 0 || bx + bw > w || by + bh > h || bw <= 0 || bh <= 0) continue;
                    boxes.Add((int.Parse(v[0], CultureInfo.InvariantCulture), x0 + bx, y0 + by, bw, bh));
                }
            }
            using var mosaic = NetVips.Image.Arrayjoin(cells.ToArray(), across: cols);
            mosaic.Jpegsave(path, q: 85);
        }
        finally { foreach (var c in cells) c.Dispose(); }
        return boxes;
    }

    private static async Task<Guid> UploadAsync(HttpClient http, Guid projectId, string path)
    {
        using var form = new MultipartFormDataContent { { new StreamContent(File.OpenRead(path)), "files", Path.GetFileName(path) } };
        var upload = await Json(await http.PostAsync($"/api/projects/{projectId}/images", form));
        var image = upload.GetProperty("files")[0].GetProperty("image");
        var id = image.GetProperty("id").GetGuid();
        // A large image is shown once its pyramid job is done.
        var jobs = await Json(await http.GetAsync($"/api/projects/{projectId}/jobs"));
        foreach (var job in jobs.EnumerateArray().Where(j => j.GetProperty("kind").GetString() == "pyramid"))
            for (var clock = Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromMinutes(10);)
            {
                var state = await Json(await http.GetAsync($"/api/jobs/{job.GetProperty("id")}"));
                string status = state.GetProperty("status").GetString()!;
                if (status == "completed") break;
                if (status is "failed" or "cancelled") throw new InvalidOperationException($"pyramid job {status}: {state}");
                await Task.Delay(250);
            }
        return id;
    }

    private static Task<JsonElement> Json(HttpResponseMessage response) => BenchAccess.JsonAsync(response);
}
