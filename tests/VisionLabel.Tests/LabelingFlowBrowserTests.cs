using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// A labeler's whole flow in the browser, on real coco128 images and a real YOLO model: create a project with
/// labels, upload images, upload a model, pre-label with live progress, then correct the proposals by keyboard,
/// draw, undo and redo; the API then holds exactly those annotations.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class LabelingFlowBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    private HttpClient _http = null!;
    private IPage? _page;

    public async ValueTask InitializeAsync()
    {
        SharedData.Require("models/yolov8n-det-int8-640.onnx");
        _app = await ServedApp.StartAsync("--VisionLabel:Inference:Device=cpu", "--VisionLabel:Jobs:PollInterval=00:00:00.200");
        (_browser, _url) = (_app.Browser, _app.Url);
        _http = await _app.AdminsAsync("lee");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static Task Settled(IPage page, int seq) =>
        page.Locator($"canvas.base[data-seq='{seq}'][data-pending='0']").WaitForAsync(new LocatorWaitForOptions { Timeout = 10_000 });

    private async Task<List<JsonElement>> Annotations(string imageId) =>
        await (await _http.GetAsync($"/api/images/{imageId}/annotations")).Read<List<JsonElement>>();

    [Fact]
    public async Task Create_upload_prelabel_review_draw_undo_redo_and_the_API_holds_exactly_that()
    {
        try { await Flow(); }
        catch (Exception) when (Environment.GetEnvironmentVariable("VISIONLABEL_SCREENSHOT") is { } shot && _page is not null)
        {
            await _page.ScreenshotAsync(new PageScreenshotOptions { Path = shot });
            throw;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException && !_browser.Errors.IsEmpty)
        {
            throw new Exception($"{e.Message}\nbrowser errors:\n{string.Join("\n", _browser.Errors)}", e);
        }
    }

    private async Task Flow()
    {
        var page = _page = await _browser.NewPageAsync(1400, 900);
        await page.SignInAsync(_url, "lee", $"/");
        await page.GetByLabel("Project name").FillAsync("street");
        await page.GetByLabel("Labels").FillAsync("person, car, bus, truck, bicycle, motorcycle, dog, cat, horse, giraffe, elephant, zebra, bird, bowl, cup");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create project" }).ClickAsync();
        await page.WaitForURLAsync("**/projects/*");
        string projectId = page.Url.Split('/').Last();

        var files = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().Take(20).ToList();
        string notAnImage = Path.Combine(_app.DataPath, "notes.jpg");
        await File.WriteAllTextAsync(notAnImage, "meeting notes, not a photo");
        await page.Locator("input[type=file][multiple]").SetInputFilesAsync([.. files, notAnImage]);
        // Each file reports on its own line: the 20 photos stored, the text file refused with the reason.
        await page.Locator(".error", new() { HasText = "notes.jpg: rejected" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Contains("not a JPEG, PNG, WebP or TIFF", await page.Locator(".error", new() { HasText = "notes.jpg" }).InnerTextAsync());
        await page.Locator(".image-total", new() { HasText = "20 images" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        Assert.Equal(20, await page.Locator(".vcell img").CountAsync()); // all in view: the grid renders what is on screen

        await page.Locator("input[type=file][accept='.onnx']").SetInputFilesAsync(SharedData.Require("models/yolov8n-det-int8-640.onnx"));
        await page.GetByLabel("Model").Locator("option", new() { HasText = "detect" }).WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        await page.GetByRole(AriaRole.Button, new() { Name = "Pre-label" }).ClickAsync();
        await page.Locator(".job-status", new() { HasText = "completed: 20 of 20" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 60_000 });
        Assert.Equal("20", await page.GetByLabel("pre-labeling progress").GetAttributeAsync("value"));

        // The image with the most proposals.
        var images = JsonDocument.Parse(await _http.GetStringAsync($"/api/projects/{projectId}/images?limit=100")).RootElement.GetProperty("items").EnumerateArray().ToList();
        var counts = new Dictionary<string, int>();
        foreach (var i in images) counts[i.GetProperty("id").GetString()!] = (await Annotations(i.GetProperty("id").GetString()!)).Count;
        string imageId = counts.MaxBy(c => c.Value).Key;
        int proposals = counts[imageId];
        Assert.True(proposals >= 3, $"need 3 proposals, the busiest image has {proposals}");
        var image = images.Single(i => i.GetProperty("id").GetString() == imageId);
        int width = image.GetProperty("width").GetInt32(), height = image.GetProperty("height").GetInt32();

        await page.SignInAsync(_url, "lee", $"/images/{imageId}");
        await page.Locator($"canvas.base[data-ready='true'][data-shapes='{proposals}']").WaitForAsync(new LocatorWaitForOptions { Timeout = 15_000 });
        Assert.Equal("prelabeled", await page.Locator("canvas.base").GetAttributeAsync("data-status"));
        // Tab walks the proposals by score; A accepts, R rejects.
        var decided = new List<(string Id, string State)>();
        foreach (var (key, state) in new[] { ("a", "accepted"), ("a", "accepted"), ("r", "rejected") })
        {
            await page.Keyboard.PressAsync("Tab");
            string id = (await page.Locator("canvas.base").GetAttributeAsync("data-selected"))!;
            Assert.DoesNotContain(decided, d => d.Id == id);
            await page.Keyboard.PressAsync(key);
            decided.Add((id, state));
        }
        await Settled(page, proposals + 3);
        // The first accept moved the image to in-progress on the server, which does not announce it: the page follows.
        await page.WaitForCanvas("[data-status='in-progress']");
        Assert.Equal("in-progress", (await page.Locator(".bar [aria-label=status]").InnerTextAsync()).Trim());

        // A box (B + drag) and a polygon (P + clicks + Enter), then undo and redo of the polygon.
        await page.Keyboard.PressAsync("b");
        await page.Drag((width * 0.1, height * 0.1), (width * 0.3, height * 0.25));
        await Settled(page, proposals + 4);
        await page.Keyboard.PressAsync("p");
        double[] ring = [width * 0.5, height * 0.5, width * 0.7, height * 0.55, width * 0.6, height * 0.8];
        for (int i = 0; i < ring.Length; i += 2)
        {
            var (px, py) = await page.OnPage(ring[i], ring[i + 1]);
            await page.Mouse.ClickAsync(px, py);
        }
        await page.Keyboard.PressAsync("Enter");
        await Settled(page, proposals + 5);
        await page.Keyboard.PressAsync("Control+z");
        await Settled(page, proposals + 6);
        await page.Keyboard.PressAsync("Control+Shift+z");
        await Settled(page, proposals + 7);
        // A mask painted with the brush (M + drag) across the lower left of the image.
        await page.Keyboard.PressAsync("m");
        await page.Drag((width * 0.1, height * 0.8), (width * 0.3, height * 0.85));
        await Settled(page, proposals + 8);

        var stored = await Annotations(imageId);
        Assert.Equal(proposals + 3, stored.Count);
        foreach (var (id, state) in decided)
            Assert.Equal(state, stored.Single(a => a.GetProperty("id").GetString() == id).GetProperty("state").GetString());
        var untouched = stored.Where(a => a.GetProperty("source").GetProperty("type").GetString() == "model" && decided.All(d => d.Id != a.GetProperty("id").GetString())).ToList();
        Assert.Equal(proposals - 3, untouched.Count);
        Assert.All(untouched, a => Assert.Equal("proposed", a.GetProperty("state").GetString()));
        var mine = stored.Where(a => a.GetProperty("createdBy").GetString() == "lee").ToList();
        var box = Assert.Single(mine, a => a.GetProperty("kind").GetString() == "box").GetProperty("geometry");
        Assert.InRange(box.GetProperty("x").GetDouble(), width * 0.1 - 1, width * 0.1 + 1);
        Assert.InRange(box.GetProperty("width").GetDouble(), width * 0.2 - 1, width * 0.2 + 1);
        Assert.InRange(box.GetProperty("height").GetDouble(), height * 0.15 - 1, height * 0.15 + 1);
        var polygon = Assert.Single(mine, a => a.GetProperty("kind").GetString() == "polygon").GetProperty("geometry").GetProperty("rings")[0]
            .EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(ring.Length, polygon.Length);
        for (int i = 0; i < ring.Length; i++) Assert.InRange(polygon[i], ring[i] - 1, ring[i] + 1);
        var mask = Assert.Single(mine, a => a.GetProperty("kind").GetString() == "mask").GetProperty("geometry");
        var maskBox = CocoRle.Box(CocoRle.Decode(mask.GetProperty("counts").GetString()!)!, height);
        Assert.InRange(maskBox[0], width * 0.1 - 13, width * 0.1 - 11); // the brush's 12 px radius around the stroke
        Assert.InRange(maskBox[0] + maskBox[2], width * 0.3 + 11, width * 0.3 + 13);
        Assert.All(mine, a => Assert.Equal("accepted", a.GetProperty("state").GetString()));
    }
}
