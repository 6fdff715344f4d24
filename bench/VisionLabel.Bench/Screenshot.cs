using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server;

namespace VisionLabel.Bench;

/// <summary>
/// The README's picture of the editor: a coco128 photo with model proposals, two other people's cursors and a comment
/// pin, as one of three people on the image sees it. `VisionLabel.Bench screenshot [--out docs/editor.png]`.
/// </summary>
public static class Screenshot
{
    public static async Task<int> RunAsync(BenchArgs options, string output)
    {
        string photo = Path.Combine(options.Shared, "datasets", "coco128", "images", "train2017", "000000000009.jpg");
        if (!File.Exists(photo)) { Console.Error.WriteLine($"needs {photo}"); return 2; }
        await using var server = await BenchServer.StartAsync("screenshot");
        string url = server.Url;
        using var http = await BenchAccess.ClientAsync(server.Services, url, "alice");
        foreach (var other in new[] { "bob", "carol" }) (await BenchAccess.ClientAsync(server.Services, url, other)).Dispose();
        var project = await (await http.PostAsJsonAsync("/api/projects", new { name = "kitchen", labels = new[] { new { name = "bowl" }, new { name = "broccoli" }, new { name = "orange" } } })).Content.ReadFromJsonAsync<JsonElement>();
        var labels = project.GetProperty("labels").EnumerateArray().Select(l => l.GetProperty("id").GetGuid()).ToArray();
        var form = new MultipartFormDataContent { { new ByteArrayContent(File.ReadAllBytes(photo)), "files", "000000000009.jpg" } };
        var upload = await (await http.PostAsync($"/api/projects/{project.GetProperty("id")}/images", form)).Content.ReadFromJsonAsync<JsonElement>();
        var imageId = upload.GetProperty("files")[0].GetProperty("image").GetProperty("id").GetGuid();
        (int Label, double X, double Y, double W, double H, double Score)[] proposals =
            [(0, 2, 190, 340, 280, 0.91), (0, 300, 0, 330, 245, 0.84), (1, 250, 230, 150, 120, 0.77), (2, 420, 300, 130, 130, 0.66), (1, 60, 20, 170, 140, 0.58)];
        foreach (var p in proposals)
            await http.PostAsJsonAsync($"/api/images/{imageId}/annotations", new
            {
                labelId = labels[p.Label], kind = "box", geometry = new { x = p.X, y = p.Y, width = p.W, height = p.H },
                source = new { type = "model", modelId = "yolov8n", score = p.Score }, state = "proposed",
            });
        await http.PostAsJsonAsync($"/api/images/{imageId}/annotations", new { labelId = labels[2], kind = "polygon", geometry = new { rings = new[] { new[] { 560.0, 260, 630, 250, 635, 340, 570, 345 } } } });
        await http.PostAsJsonAsync($"/api/images/{imageId}/comments", new { x = 330, y = 300, text = "two bowls or one?" });

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox", "--disable-gpu", "--no-first-run"],
        });
        async Task<IPage> Open(string user)
        {
            var page = await (await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1000, Height = 580 } })).NewPageAsync();
            await BenchAccess.SignInAsync(page, url, user, $"/images/{imageId}");
            await page.Locator("canvas.base[data-ready='true']").WaitForAsync();
            return page;
        }
        var alice = await Open("alice");
        foreach (var (user, x, y) in new[] { ("bob", 300.0, 200.0), ("carol", 620.0, 420.0) })
        {
            var page = await Open(user);
            await page.Mouse.MoveAsync((float)x, (float)y);
            await page.Mouse.MoveAsync((float)x + 10, (float)y + 5);
        }
        await alice.Locator(".overlay[data-cursors='2']").WaitForAsync();
        await alice.Keyboard.PressAsync("Tab"); // a proposal selected, as a reviewer walks them
        await alice.Locator("canvas.base[data-selected]").WaitForAsync();
        await alice.WaitForTimeoutAsync(300); // let the toast settle into the picture
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        await alice.ScreenshotAsync(new PageScreenshotOptions { Path = output });
        Console.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1024} KB)");
        return 0;
    }
}
