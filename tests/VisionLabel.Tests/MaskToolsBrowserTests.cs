using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using OpenCvSharp;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Shapes;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The editor's box to mask and click to mask tools (issue #25, docs/models-in-the-loop.md) in the browser at 1280×720,
/// on a coco128-seg photo whose big bowl has a YOLO-seg polygon as truth. The project has no segmentation model, so
/// the server's auto method is GrabCut. Box to mask, dragged over the polygon's bounding box, adds a mask annotation
/// that overlaps the truth; click to mask, zoomed in, a click inside the bowl and a Shift+click outside it, then Enter,
/// adds a second one holding the first point and not the second; both tools are in the shortcut help and the toolbar.
/// Scissors, zoomed out a step: 8 clicks along the bowl's outline and Enter add a mask that follows its rim.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public sealed class MaskToolsBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _olga = null!;

    public async ValueTask InitializeAsync()
    {
        SharedData.Require("datasets/coco128-seg");
        _app = await ServedApp.StartAsync("--VisionLabel:Inference:Device=cpu");
        _olga = _app.Client((await _app.TokensAsync(false, "olga"))["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 15_000 };

    [Fact]
    public async Task Box_to_mask_and_click_to_mask_add_masks_of_the_object()
    {
        // The photo, and its first object (the bowl) as truth: YOLO-seg's normalised x y pairs after the class id.
        string root = SharedData.Require("datasets/coco128-seg");
        string photo = Path.Combine(root, "images/train2017/000000000009.jpg");
        var project = await (await _olga.PostJson("/api/projects", new { name = "mask-tools", labels = new[] { new { name = "bowl" } } })).Read<ProjectDto>();
        var upload = await (await _olga.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(("000000000009.jpg", File.ReadAllBytes(photo))))).Read<UploadSummary>();
        var image = upload.Files[0].Image!;
        var v = File.ReadLines(Path.Combine(root, "labels/train2017/000000000009.txt")).First()
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var polygon = Enumerable.Range(0, v.Length / 2).Select(k => new Point(v[2 * k] * image.Width, v[2 * k + 1] * image.Height)).ToArray();
        var truth = MaskTruth.Rasterise(polygon, image.Width, image.Height);
        var bounds = Cv2.BoundingRect(polygon);

        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "olga", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='0']");

        // Box to mask: X, then the same drag as the box tool over the bowl's bounding box; the mask comes back as an
        // ordinary mask annotation of the current label, confirmed by the server.
        await page.Keyboard.PressAsync("x");
        await page.Locator("button.tool.active", new() { HasText = "Box→mask" }).WaitForAsync(Soon);
        await page.Drag((bounds.X, bounds.Y), (bounds.X + bounds.Width, bounds.Y + bounds.Height));
        await page.WaitForCanvas("[data-seq='1'][data-pending='0'][data-shapes='1']");
        await page.Locator(".toast", new() { HasText = "Mask of bowl added" }).WaitForAsync(Soon);
        var first = Assert.Single(await Annotations(image.Id));
        Assert.Equal(("mask", project.Labels[0].Id), (first.GetProperty("kind").GetString(), first.GetProperty("labelId").GetGuid()));
        var boxMask = Mask(first, image.Width, image.Height);
        double iou = MaskTruth.IoU(boxMask, truth, image.Width, image.Height);
        output.WriteLine($"box to mask: IoU {iou:F3} with the truth");
        Assert.True(iou >= 0.5, $"box to mask: IoU {iou:F3} with the truth, below 0.5");

        // Click to mask, zoomed in (the clicks go through the page's transform): a click at the bowl's most interior
        // pixel shows a preview (nothing saved yet), a Shift+click outside it asks again with both points, Enter adds it.
        var inside = MaskTruth.Inside(truth, image.Width, image.Height);
        var outside = Outside(truth, bounds, image.Width, image.Height);
        var (mx, my) = await page.OnPage((inside.X + outside.X) / 2.0, (inside.Y + outside.Y) / 2.0);
        string scale = (await page.Locator("canvas.base").GetAttributeAsync("data-scale"))!;
        await page.Mouse.MoveAsync(mx, my); // zoomed in between the two points: both stay on the stage
        await page.Mouse.WheelAsync(0, -100);
        await page.Locator($"canvas.base:not([data-scale='{scale}'])").WaitForAsync(Soon);
        await page.Keyboard.PressAsync("i");
        await page.Locator("button.tool.active", new() { HasText = "Click→mask" }).WaitForAsync(Soon);
        var (cx, cy) = await page.OnPage(inside.X + 0.5, inside.Y + 0.5);
        await page.Mouse.ClickAsync(cx, cy);
        await page.Locator(".mask-draft[data-points='1'][data-answered='true']").WaitForAsync(Soon);
        Assert.Single(await Annotations(image.Id)); // a preview, not an annotation
        var (ox, oy) = await page.OnPage(outside.X + 0.5, outside.Y + 0.5);
        var stage = (await page.Locator(".stage").BoundingBoxAsync())!;
        // On the stage and below the preview's bar at its top (a press there is the bar's, not the image's).
        Assert.True(ox > stage.X && oy > stage.Y + 60 && ox < stage.X + stage.Width && oy < stage.Y + stage.Height, $"({outside.X}, {outside.Y}) is off the stage at ({ox}, {oy})");
        await page.Keyboard.DownAsync("Shift");
        await page.Mouse.ClickAsync(ox, oy);
        await page.Keyboard.UpAsync("Shift");
        await page.Locator(".mask-draft[data-points='2'][data-answered='true']").WaitForAsync(Soon);
        await page.Locator(".mask-draft", new() { HasText = "1 inside, 1 outside" }).WaitForAsync(Soon);
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForCanvas("[data-seq='2'][data-pending='0'][data-shapes='2']");
        await page.Locator(".mask-draft").WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = 15_000 });
        var second = Assert.Single(await Annotations(image.Id), a => a.GetProperty("id").GetGuid() != first.GetProperty("id").GetGuid());
        Assert.Equal(("mask", project.Labels[0].Id), (second.GetProperty("kind").GetString(), second.GetProperty("labelId").GetGuid()));
        var clickMask = Mask(second, image.Width, image.Height);
        output.WriteLine($"click to mask: IoU {MaskTruth.IoU(clickMask, truth, image.Width, image.Height):F3} with the truth");
        Assert.True(clickMask[inside.X * image.Height + inside.Y] != 0, "the mask does not hold the click inside the bowl");
        Assert.True(clickMask[outside.X * image.Height + outside.Y] == 0, "the mask holds the Shift+click outside the bowl");

        // Both tools are discoverable: their shortcuts in the ? help, their buttons with titles in the toolbar.
        await page.Keyboard.PressAsync("?");
        var help = page.GetByRole(AriaRole.Dialog, new() { Name = "Shortcuts" });
        await help.WaitForAsync(Soon);
        await help.Locator("tr", new() { HasText = "box to mask" }).Locator("kbd", new() { HasTextString = "X" }).WaitForAsync(Soon);
        await help.Locator("tr", new() { HasText = "click to mask: click inside an object" }).Locator("kbd", new() { HasTextString = "I" }).WaitForAsync(Soon);
        await help.Locator("tr", new() { HasText = "a point that is not part of the object" }).Locator("kbd", new() { HasTextString = "Shift+click" }).WaitForAsync(Soon);
        Assert.Contains("Box to mask", await page.Locator("button.tool", new() { HasText = "Box→mask" }).GetAttributeAsync("title"));
        Assert.Contains("Click to mask", await page.Locator("button.tool", new() { HasText = "Click→mask" }).GetAttributeAsync("title"));
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }

    [Fact]
    public async Task Scissors_clicks_along_an_outline_make_a_mask_of_the_object()
    {
        string root = SharedData.Require("datasets/coco128-seg");
        var project = await (await _olga.PostJson("/api/projects", new { name = "scissors", labels = new[] { new { name = "bowl" } } })).Read<ProjectDto>();
        var upload = await (await _olga.PostAsync($"/api/projects/{project.Id}/images",
            HttpExtensions.Files(("000000000009.jpg", File.ReadAllBytes(Path.Combine(root, "images/train2017/000000000009.jpg")))))).Read<UploadSummary>();
        var image = upload.Files[0].Image!;
        var v = File.ReadLines(Path.Combine(root, "labels/train2017/000000000009.txt")).First()
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var polygon = Enumerable.Range(0, v.Length / 2).Select(k => new Point(v[2 * k] * image.Width, v[2 * k + 1] * image.Height)).ToArray();
        var truth = MaskTruth.Rasterise(polygon, image.Width, image.Height);

        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "olga", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='0']");

        // Zoomed out a step (the clicks go through the page's transform), so the bowl, which reaches the image's bottom
        // edge, is well on the stage.
        var stage = (await page.Locator(".stage").BoundingBoxAsync())!;
        string scale = (await page.Locator("canvas.base").GetAttributeAsync("data-scale"))!;
        await page.Mouse.MoveAsync(stage.X + stage.Width / 2, stage.Y + stage.Height / 2);
        await page.Mouse.WheelAsync(0, 100);
        await page.Locator($"canvas.base:not([data-scale='{scale}'])").WaitForAsync(Soon);

        // S, then clicks at 8 points spread evenly along the truth's outline (as a person clicks along the object's
        // rim), then Enter: the outline between the clicks follows the photo's edges and closes into a mask.
        await page.Keyboard.PressAsync("s");
        await page.Locator("button.tool.active", new() { HasText = "Scissors" }).WaitForAsync(Soon);
        foreach (var (x, y) in AlongOutline(polygon, 8))
        {
            var (px, py) = await page.OnPage(x, y);
            Assert.True(px > stage.X + 10 && py > stage.Y + 10 && px < stage.X + stage.Width - 10 && py < stage.Y + stage.Height - 10, $"({x}, {y}) is off the stage at ({px}, {py})");
            await page.Mouse.ClickAsync(px, py);
        }
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForCanvas("[data-seq='1'][data-pending='0'][data-shapes='1']");
        await page.Locator(".toast", new() { HasText = "Mask of bowl added (scissors)" }).WaitForAsync(Soon);
        var mask = Assert.Single(await Annotations(image.Id));
        Assert.Equal(("mask", project.Labels[0].Id), (mask.GetProperty("kind").GetString(), mask.GetProperty("labelId").GetGuid()));
        double iou = MaskTruth.IoU(Mask(mask, image.Width, image.Height), truth, image.Width, image.Height);
        output.WriteLine($"scissors, 8 clicks: IoU {iou:F3} with the truth");
        Assert.True(iou >= 0.85, $"scissors: IoU {iou:F3} with the truth, below 0.85 (0.93 measured)");
        await page.Locator(".mask-draft").WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = 15_000 }); // "Tracing…" is gone

        // Discoverable: the shortcut in the ? help, the button with its title in the toolbar.
        await page.Keyboard.PressAsync("?");
        var help = page.GetByRole(AriaRole.Dialog, new() { Name = "Shortcuts" });
        await help.Locator("tr", new() { HasText = "scissors: click along" }).Locator("kbd", new() { HasTextString = "S" }).WaitForAsync(Soon);
        Assert.Contains("Scissors", await page.Locator("button.tool", new() { HasText = "Scissors" }).GetAttributeAsync("title"));
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }

    /// <summary><paramref name="count"/> points spread evenly along the polygon's length.</summary>
    private static List<(double X, double Y)> AlongOutline(Point[] polygon, int count)
    {
        double total = Enumerable.Range(0, polygon.Length).Sum(i => polygon[i].DistanceTo(polygon[(i + 1) % polygon.Length]));
        var points = new List<(double, double)>();
        double walked = 0;
        for (int i = 0; i < polygon.Length && points.Count < count; i++)
        {
            Point a = polygon[i], b = polygon[(i + 1) % polygon.Length];
            double length = a.DistanceTo(b);
            for (double next = points.Count * total / count; next <= walked + length && points.Count < count; next = points.Count * total / count)
            {
                double t = length == 0 ? 0 : (next - walked) / length;
                points.Add((a.X + t * (b.X - a.X), a.Y + t * (b.Y - a.Y)));
            }
            walked += length;
        }
        return points;
    }

    private async Task<List<JsonElement>> Annotations(Guid imageId) =>
        await (await _olga.GetAsync($"/api/images/{imageId}/annotations")).Read<List<JsonElement>>();

    /// <summary>An annotation's mask, column-major (COCO's order).</summary>
    private static byte[] Mask(JsonElement annotation, int width, int height)
    {
        var g = annotation.GetProperty("geometry");
        Assert.Equal(new[] { height, width }, g.GetProperty("size").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        return CocoRle.ToMask(CocoRle.Decode(g.GetProperty("counts").GetString()!)!, height, width);
    }

    /// <summary>A pixel in the object's bounding box (24 px in from its edges, so it is well on the image) farthest
    /// from the object: clearly not part of it.</summary>
    private static Point Outside(byte[] truth, Rect bounds, int width, int height)
    {
        using var mat = Mat.FromPixelData(height, width, MatType.CV_8UC1, truth.Select(b => (byte)(b == 0 ? 1 : 0)).ToArray());
        using var distance = new Mat();
        Cv2.DistanceTransform(mat, distance, DistanceTypes.L2, DistanceTransformMasks.Mask3);
        var rect = new Rect(bounds.X + 24, bounds.Y + 24, bounds.Width - 48, bounds.Height - 48) & new Rect(0, 0, width, height);
        using var within = new Mat(distance, rect);
        Cv2.MinMaxLoc(within, out _, out double far, out _, out Point max);
        Assert.True(far >= 10, $"no pixel in {rect} is 10 px from the object");
        return new Point(max.X + rect.X, max.Y + rect.Y);
    }
}
