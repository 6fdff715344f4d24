using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server;

namespace VisionLabel.Bench;

/// <summary>
/// The editor's canvas renderer against a plain SVG renderer (one element per shape), the same shapes and the same
/// scripted pan and zoom, in headless Debian chromium: web/bench.html, served by the server from web/dist.
/// </summary>
public static class CanvasBench
{
    public static async Task<int> RunAsync(BenchArgs options)
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(chromium)) { Console.Error.WriteLine($"needs {chromium}"); return 2; }
        await using var server = await BenchServer.StartAsync("canvas-bench");
        string url = server.Url;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        Console.WriteLine("| renderer | shapes | frames | frame p50 / p95 / p99 / max (ms) | draw work p50 / p95 / p99 (ms) | dropped (>25 ms) | op to frame p50 / p99 (ms) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        var results = new Dictionary<string, JsonElement>();
        for (int round = 0; round < options.Rounds; round++)
            foreach (var renderer in new[] { "canvas", "svg" })
            {
                var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } })).NewPageAsync();
                await page.GotoAsync($"{url}/bench.html?renderer={renderer}&seconds={options.Seconds}&shapes={options.Shapes}&skip={Environment.GetEnvironmentVariable("CANVAS_BENCH_SKIP")}");
                var r = await page.EvaluateAsync<JsonElement>("() => window.benchResult", null);
                await page.Context.CloseAsync();
                results[renderer] = r;
                JsonElement f = r.GetProperty("frameMs"), w = r.GetProperty("workMs"), o = r.GetProperty("opToFrameMs");
                Console.WriteLine($"| {renderer} | {r.GetProperty("shapes")} | {r.GetProperty("frames")} | {f.GetProperty("p50")} / {f.GetProperty("p95")} / {f.GetProperty("p99")} / {f.GetProperty("max")} | " +
                                  $"{w.GetProperty("p50")} / {w.GetProperty("p95")} / {w.GetProperty("p99")} | {r.GetProperty("droppedFrames")} | {o.GetProperty("p50")} / {o.GetProperty("p99")} |");
                // Above the editor's worker threshold: the scene worker's renders (off the main thread).
                if (r.TryGetProperty("firstRenderMs", out var first))
                    Console.WriteLine($"|   scene worker: first render {first.GetDouble():0} ms; renders p50 / p95 / max {string.Join(" / ", r.GetProperty("workerRenderMs").EnumerateArray())} ms |||||||" +
                                      (Environment.GetEnvironmentVariable("CANVAS_BENCH_SLOW") is null ? "" : $"\n{r.GetProperty("slow")}"));
            }
        double canvasP95 = results["canvas"].GetProperty("frameMs").GetProperty("p95").GetDouble(), svgP95 = results["svg"].GetProperty("frameMs").GetProperty("p95").GetDouble();
        Console.WriteLine($"\nlast round: SVG p95 frame / canvas p95 frame = {svgP95 / canvasP95:0.0}x");
        return 0;
    }
}
