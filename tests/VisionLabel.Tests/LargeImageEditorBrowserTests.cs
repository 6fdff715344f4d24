using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The editor on a large image (issue 26, docs/large-images.md) in a real browser at 1280×720: a 8,000 × 6,000 JPEG (four
/// coloured quadrants) is shown from its pyramid's tiles — a coarse level when fitted, the full-resolution level once
/// zoomed into its bottom-right corner, where the tiles show the corner's colour — and a box drawn there lands at
/// full-resolution coordinates.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class LargeImageEditorBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _olga = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync("--VisionLabel:Jobs:PollInterval=00:00:00.200");
        _olga = _app.Client((await _app.TokensAsync(false, "olga"))["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    /// <summary>The tiles canvas's colour at an image point (device pixels under the page point).</summary>
    private static Task<int[]> TileColour(IPage page, float x, float y) =>
        page.EvaluateAsync<int[]>(@"({ x, y }) => {
            const c = document.querySelector('canvas.tiles'), r = c.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
            return [...c.getContext('2d').getImageData(Math.round((x - r.left) * dpr), Math.round((y - r.top) * dpr), 1, 1).data].slice(0, 3);
        }", new { x = (double)x, y = (double)y });

    [Fact]
    public async Task A_large_image_is_shown_from_tiles_at_the_zoom_s_level_and_a_box_lands_at_full_resolution()
    {
        using var data = new TempDirectory();
        string path = Path.Combine(data.Path, "field.jpg");
        LargeImagesTests.Quadrants(8000, 6000, image => { image.Jpegsave(path, q: 85); return path; });
        var project = await (await _olga.PostJson("/api/projects", new { name = "field", labels = new[] { new { name = "tree" } } })).Read<ProjectDto>();
        using (var form = new MultipartFormDataContent())
        {
            form.Add(new StreamContent(File.OpenRead(path)), "files", "field.jpg");
            (await _olga.PostAsync($"/api/projects/{project.Id}/images", form)).EnsureSuccessStatusCode();
        }
        var job = Assert.Single(await (await _olga.GetAsync($"/api/projects/{project.Id}/jobs")).Read<List<JobDto>>(), j => j.Kind == PyramidJob.JobKind);
        Assert.Equal(VisionLabel.Server.Data.JobStatus.Completed, (await _olga.WaitForJob(job.Id, seconds: 180)).Status);
        var image = (await (await _olga.GetAsync($"/api/projects/{project.Id}/images")).Read<ImagePage>()).Items.Single();
        Assert.True(image.Tiled);

        var page = await _app.Browser.NewPageAsync(1280, 720);
        try
        {
            await page.SignInAsync(_app.Url, "olga", $"/images/{image.Id}");
            await page.WaitForCanvas("[data-ready='true']");
            var tiles = page.Locator("canvas.tiles");
            int maxLevel = int.Parse((await tiles.GetAttributeAsync("data-max-level"))!, CultureInfo.InvariantCulture);
            int fitted = int.Parse((await tiles.GetAttributeAsync("data-level"))!, CultureInfo.InvariantCulture);
            Assert.True(fitted < maxLevel, $"fitted, the level is {fitted} of {maxLevel}");
            Assert.True(await page.Locator("img.photo").IsHiddenAsync()); // the 48 MP file itself is not loaded
            // Fitted, the coarse tiles are in place: each side of the quadrants' meeting point has its quadrant's colour.
            foreach (var (ix, iy, colour) in new[] { (3850.0, 2850.0, new[] { 220, 40, 40 }), (4150.0, 2850.0, new[] { 40, 200, 60 }), (3850.0, 3150.0, new[] { 40, 60, 220 }), (4150.0, 3150.0, new[] { 250, 250, 250 }) })
            {
                var (sx, sy) = await page.OnPage(ix, iy);
                var seen = await TileColour(page, sx, sy);
                Assert.True(seen.Zip(colour).All(p => Math.Abs(p.First - p.Second) <= 16), $"at {ix},{iy}: {string.Join(",", seen)}, expected {string.Join(",", colour)}");
            }

            // Zoom into the bottom-right corner, a wheel notch at a time, until the full-resolution level is drawn.
            var (cx, cy) = await page.OnPage(7600, 5700);
            await page.Mouse.MoveAsync(cx, cy);
            for (int i = 0; i < 14 && int.Parse((await tiles.GetAttributeAsync("data-level"))!, CultureInfo.InvariantCulture) < maxLevel; i++)
            {
                var before = (await page.View()).Scale;
                await page.Mouse.WheelAsync(0, -100);
                await page.WaitForFunctionAsync($"() => Number(document.querySelector('canvas.base').dataset.scale) > {before.ToString(CultureInfo.InvariantCulture)}");
            }
            Assert.Equal(maxLevel.ToString(CultureInfo.InvariantCulture), await tiles.GetAttributeAsync("data-level"));
            // The corner's tiles arrive and show the bottom-right quadrant's colour (near white) where the corner is.
            var (px, py) = await page.OnPage(7400, 5550); // up and left of the point the zoom kept still: on screen
            await page.WaitForFunctionAsync(@"({ x, y }) => {
                const c = document.querySelector('canvas.tiles'), r = c.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
                const d = c.getContext('2d').getImageData(Math.round((x - r.left) * dpr), Math.round((y - r.top) * dpr), 1, 1).data;
                return d[0] > 230 && d[1] > 230 && d[2] > 230;
            }", new { x = (double)px, y = (double)py }, new() { Timeout = 15_000 });
            Assert.True((await TileColour(page, px, py)).All(v => v > 230));
            Assert.True(px > (await page.Locator(".stage").BoundingBoxAsync())!.X && py < 720, "the sampled point is on screen");

            // A box drawn there is stored in full-resolution pixels.
            await page.Keyboard.PressAsync("b");
            var (x0, y0) = await page.OnPage(7300, 5450);
            var (x1, y1) = await page.OnPage(7550, 5650);
            await page.Mouse.MoveAsync(x0, y0);
            await page.Mouse.DownAsync();
            await page.Mouse.MoveAsync(x1, y1, new MouseMoveOptions { Steps = 8 });
            await page.Mouse.UpAsync();
            await page.WaitForCanvas("[data-shapes='1'][data-pending='0']");
            var box = Assert.Single(await (await _olga.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>()).GetProperty("geometry");
            double tolerance = 2 / (await page.View()).Scale; // two screen pixels
            Assert.InRange(box.GetProperty("x").GetDouble(), 7300 - tolerance, 7300 + tolerance);
            Assert.InRange(box.GetProperty("y").GetDouble(), 5450 - tolerance, 5450 + tolerance);
            Assert.InRange(box.GetProperty("width").GetDouble(), 250 - 2 * tolerance, 250 + 2 * tolerance);
            Assert.InRange(box.GetProperty("height").GetDouble(), 200 - 2 * tolerance, 200 + 2 * tolerance);
            Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Exception($"{e.Message}\nthe page was at {page.Url}\nbrowser errors:\n{string.Join("\n", _app.Browser.Errors)}", e);
        }
    }
}
