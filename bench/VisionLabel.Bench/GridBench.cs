using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using VisionLabel.Server;
using VisionLabel.Server.Data;

namespace VisionLabel.Bench;

/// <summary>
/// The project page's thumbnail grid with 100,000 images: rows inserted straight into the database (their files do
/// not exist, so thumbnails answer 404 quickly), then 10 s of scripted scrolling through the whole list in headless
/// chromium: frame times, and how many grid cells are in the page at once. `VisionLabel.Bench grid [--images 100000]`.
/// </summary>
public static class GridBench
{
    public static async Task<int> RunAsync(BenchArgs options)
    {
        int count = options.Images == 128 ? 100_000 : options.Images; // 128 is the shared default for other benches
        await using var server = await BenchServer.StartAsync("grid-bench");
        string url = server.Url;
        using var http = await BenchAccess.ClientAsync(server.Services, url);
        var project = await (await http.PostAsJsonAsync("/api/projects", new { name = "big" })).Content.ReadFromJsonAsync<JsonElement>();
        var projectId = project.GetProperty("id").GetGuid();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            var now = DateTime.UtcNow;
            for (int start = 0; start < count; start += 5000)
            {
                for (int i = start; i < Math.Min(count, start + 5000); i++)
                {
                    string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i)));
                    db.Images.Add(new Image
                    {
                        Id = MonotonicGuid.Next(), ProjectId = projectId, ContentHash = hash, FileName = $"img{i:D6}.jpg", Width = 640, Height = 480,
                        Format = "jpeg", SizeBytes = 1, BlobKey = VisionLabel.Server.Storage.BlobKeys.Original(hash), CreatedAt = now, UpdatedAt = now,
                    });
                }
                await db.SaveChangesAsync();
                db.ChangeTracker.Clear();
            }
        }
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu", "--no-first-run"],
        });
        var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 900 } })).NewPageAsync();
        var opened = System.Diagnostics.Stopwatch.StartNew();
        await BenchAccess.SignInAsync(page, url, "bench", $"/projects/{projectId}");
        await page.Locator(".image-total", new() { HasText = $"{count} images" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        await page.Locator(".vcell img").First.WaitForAsync();
        double openMs = opened.Elapsed.TotalMilliseconds;
        var result = await page.EvaluateAsync<JsonElement>(@"async (seconds) => {
            const frames = [], cells = [];
            const end = document.documentElement.scrollHeight - innerHeight;
            const start = performance.now();
            let last = start;
            await new Promise(resolve => {
                const tick = now => {
                    frames.push(now - last); last = now;
                    const t = (now - start) / (seconds * 1000);
                    window.scrollTo(0, end * (0.5 - 0.5 * Math.cos(Math.PI * Math.min(1, t))));
                    cells.push(document.querySelectorAll('.vcell').length);
                    if (t < 1) requestAnimationFrame(tick); else resolve();
                };
                requestAnimationFrame(tick);
            });
            frames.shift();
            const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))]; };
            return { frames: frames.length, p50: pct(frames, 50), p95: pct(frames, 95), p99: pct(frames, 99), maxCells: Math.max(...cells),
                     dropped: frames.filter(f => f > 25).length, scrolledTo: scrollY, height: document.documentElement.scrollHeight };
        }", options.Seconds);
        Console.WriteLine($"{count} images: page open to first thumbnails {openMs:0} ms; scrolled top to bottom in {options.Seconds} s: " +
                          $"{result.GetProperty("frames")} frames, frame p50/p95/p99 {result.GetProperty("p50").GetDouble():0.0}/{result.GetProperty("p95").GetDouble():0.0}/{result.GetProperty("p99").GetDouble():0.0} ms, " +
                          $"{result.GetProperty("dropped")} dropped (>25 ms); at most {result.GetProperty("maxCells")} grid cells in the page; page height {result.GetProperty("height")} px");
        return 0;
    }
}
