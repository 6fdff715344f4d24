using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Shapes.Matching;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The labeling app in a real browser against the server as a user runs it (its own process, real Kestrel): the
/// editor opens with the image fitted and every shape drawn, keyboard and mouse work straight after load, and two
/// people on one image see each other's edits and cursors live.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class EditorBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        (_browser, _url) = (_app.Browser, _app.Url);
        // The people of these tests (admins: they reach every project; roles have their own browser tests).
        _http = await _app.AdminsAsync("setup", "ml-engineer", "carol", "alice", "bob", "ann", "rev", "eve", "mia", "zoe", "ivy", "sam");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    [Fact]
    public async Task A_dataset_import_from_the_project_page_shows_its_progress_and_report()
    {
        var project = await (await _http.PostJson("/api/projects", new { name = "import-ui" })).Read<ProjectDto>();
        var page = await _browser.NewPageAsync();
        var failed = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Response += (_, r) => { if (r.Status >= 400) failed.Enqueue($"{r.Status} {r.Url}"); };
        await page.SignInAsync(_url, "ml-engineer", $"/projects/{project.Id}");
        var form = page.Locator("form", new PageLocatorOptions { HasText = "Import a dataset" });
        await form.Locator("select[name=format]").SelectOptionAsync("yolo");
        await form.Locator("input[name=zip]").SetInputFilesAsync(new FilePayload
        {
            Name = "coco128.zip", MimeType = "application/zip", Buffer = DatasetTests.YoloZip("coco128", "coco128.yaml"),
        });
        await form.Locator("button[type=submit]").ClickAsync();

        // The import runs as a job: the page follows it and ends with its report, then shows the images.
        await page.GetByText(new System.Text.RegularExpressions.Regex(@"imported 128 images, \d+ annotations")).First.WaitForAsync(new() { Timeout = 60_000 });
        var images = await (await _http.GetAsync($"/api/projects/{project.Id}/images?limit=1")).Read<ImagePage>();
        Assert.Equal(128, images.Total);
        var jobs = await (await _http.GetAsync($"/api/projects/{project.Id}/jobs")).Read<List<VisionLabel.Server.Jobs.JobDto>>();
        // One import, completed (and the dataset health run every import starts).
        var import = Assert.Single(jobs, j => j.Kind == "import");
        Assert.Equal(VisionLabel.Server.Data.JobStatus.Completed, import.Status);
        Assert.All(jobs, j => Assert.Contains(j.Kind, new[] { "import", "health" }));
        Assert.True(failed.IsEmpty, string.Join("\n", failed));
        Assert.True(_browser.Errors.IsEmpty, string.Join("\n", _browser.Errors)); // no console errors either (a favicon 404 was one)
    }

    [Fact]
    public async Task The_app_routes_answer_html_and_deep_links_survive()
    {
        var project = await (await _http.PostJson("/api/projects", new { name = "routes" })).Read<ProjectDto>();
        foreach (var path in new[] { "/", $"/projects/{project.Id}", $"/projects/{project.Id}/work", $"/images/{Guid.NewGuid()}?x=1&y=1", "/signin", "/account" })
        {
            var response = await _http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("no-cache", response.Headers.CacheControl?.ToString());
            // No inline or foreign script; connections only to this server; not framed by anyone.
            string csp = response.Headers.GetValues("Content-Security-Policy").Single();
            Assert.Contains("script-src 'self';", csp);
            Assert.Contains("connect-src 'self';", csp);
            Assert.Contains("frame-ancestors 'none'", csp);
        }
        var api = await _http.GetAsync("/api/projects");
        Assert.Equal("nosniff", api.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", api.Headers.GetValues("X-Frame-Options").Single());
        var index = await _http.GetStringAsync("/");
        string asset = System.Text.RegularExpressions.Regex.Match(index, "/assets/[^\"]+\\.js").Value;
        var js = await _http.GetAsync(asset);
        Assert.Equal(HttpStatusCode.OK, js.StatusCode);
        Assert.Contains("immutable", js.Headers.CacheControl?.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync("/api/nothing-here")).StatusCode); // the API keeps its 404s

        var page = await _browser.NewPageAsync();
        await page.SignInAsync(_url, "carol", $"/");
        await page.GetByText("routes").ClickAsync();
        await page.WaitForURLAsync($"**/projects/{project.Id}");
        await page.ReloadAsync();
        await page.GetByText("Upload images").WaitForAsync();
    }

    [Fact]
    public async Task Two_people_on_one_image_draw_and_see_each_others_edits_and_cursors_live()
    {
        var (project, image) = await _http.ProjectWithImage("live", ["car", "dog"], 640, 480);
        await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[1].Id, kind = "box", geometry = new { x = 20, y = 20, width = 60, height = 40 } });

        var alice = await _browser.NewPageAsync();
        var bob = await _browser.NewPageAsync();
        await alice.SignInAsync(_url, "alice", $"/images/{image.Id}");
        await bob.SignInAsync(_url, "bob", $"/images/{image.Id}");
        // Opens fitted, every shape drawn, with no interaction.
        await alice.WaitForCanvas("[data-ready='true'][data-shapes='1'][data-drawn='1']");
        await bob.WaitForCanvas("[data-ready='true'][data-shapes='1']");
        var (scale, tx, ty) = await alice.View();
        var stage = (await alice.Locator(".stage").BoundingBoxAsync())!;
        Assert.InRange(640 * scale, stage.Width * 0.9, stage.Width + 1); // or the height bounds it
        Assert.True(tx >= 0 && ty >= 0);

        // B + left-drag commits a box with the first label, no click first and no confirm step.
        await alice.Keyboard.PressAsync("b");
        var (x0, y0) = await alice.OnPage(100, 120);
        var (x1, y1) = await alice.OnPage(300, 260);
        await alice.Mouse.MoveAsync(x0, y0);
        await alice.Mouse.DownAsync();
        await alice.Mouse.MoveAsync(x1, y1, new MouseMoveOptions { Steps = 8 });
        await alice.Mouse.UpAsync();
        await alice.WaitForCanvas("[data-seq='2'][data-pending='0']"); // confirmed by the server
        await bob.Locator("canvas.base[data-shapes='2']").WaitForAsync(new LocatorWaitForOptions { Timeout = 1000 }); // bob sees it within a second

        var annotations = await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>();
        var drawn = Assert.Single(annotations, a => a.GetProperty("createdBy").GetString() == "alice");
        Assert.Equal(project.Labels[0].Id, drawn.GetProperty("labelId").GetGuid());
        var g = drawn.GetProperty("geometry");
        Assert.InRange(g.GetProperty("x").GetDouble(), 99, 101);
        Assert.InRange(g.GetProperty("y").GetDouble(), 119, 121);
        Assert.InRange(g.GetProperty("width").GetDouble(), 199, 201);
        Assert.InRange(g.GetProperty("height").GetDouble(), 139, 141);

        // Bob sees alice's cursor when she moves over the image.
        await alice.Mouse.MoveAsync(x0 + 30, y0 + 30);
        await bob.Locator(".overlay[data-cursors='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 2000 });
        await bob.GetByText("alice").First.WaitForAsync();

        // One wheel notch zooms in at the cursor; middle-drag pans.
        await alice.Mouse.WheelAsync(0, -100);
        await alice.WaitForFunctionAsync($"() => Math.abs(Number(document.querySelector('canvas.base').dataset.scale) - {(scale * 1.2).ToString(CultureInfo.InvariantCulture)}) < 1e-6");
        var before = await alice.View();
        await alice.Mouse.MoveAsync(x1, y1);
        await alice.Mouse.DownAsync(new MouseDownOptions { Button = MouseButton.Middle });
        await alice.Mouse.MoveAsync(x1 - 50, y1 - 30, new MouseMoveOptions { Steps = 4 });
        await alice.Mouse.UpAsync(new MouseUpOptions { Button = MouseButton.Middle });
        var after = await alice.View();
        Assert.Equal(before.Tx - 50, after.Tx, 3);
        Assert.Equal(before.Ty - 30, after.Ty, 3);

        // Undo takes alice's box away for everyone.
        await alice.Keyboard.PressAsync("Control+z");
        await bob.Locator("canvas.base[data-shapes='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 2000 });
        await alice.Keyboard.PressAsync("?");
        await alice.GetByRole(AriaRole.Dialog, new() { Name = "Shortcuts" }).WaitForAsync();
    }

    [Fact]
    public async Task A_polygon_is_drawn_by_keyboard_and_clicks_and_comment_threads_and_review_reach_the_other_page()
    {
        var (project, image) = await _http.ProjectWithImage("review", ["tree"], 800, 600);
        var annotator = await _browser.NewPageAsync();
        var reviewer = await _browser.NewPageAsync();
        await annotator.SignInAsync(_url, "ann", $"/images/{image.Id}");
        await reviewer.SignInAsync(_url, "rev", $"/images/{image.Id}");
        await annotator.WaitForCanvas("[data-ready='true']");
        await reviewer.WaitForCanvas("[data-ready='true']");

        // P, three clicks, Enter: a polygon through those points, in image pixels within 1 px.
        await annotator.Keyboard.PressAsync("p");
        double[] points = [100, 100, 400, 150, 250, 450];
        for (int i = 0; i < points.Length; i += 2)
        {
            var (px, py) = await annotator.OnPage(points[i], points[i + 1]);
            await annotator.Mouse.ClickAsync(px, py);
        }
        await annotator.Keyboard.PressAsync("Enter");
        await annotator.WaitForCanvas("[data-seq='1'][data-pending='0']");
        await reviewer.Locator("canvas.base[data-shapes='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 1000 });
        var polygon = Assert.Single(await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>());
        Assert.Equal("polygon", polygon.GetProperty("kind").GetString());
        var ring = polygon.GetProperty("geometry").GetProperty("rings")[0].EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(points.Length, ring.Length);
        for (int i = 0; i < points.Length; i++) Assert.InRange(ring[i], points[i] - 1, points[i] + 1);

        // A comment thread: the reviewer pins one (C, a click, then the text in the comments panel), the annotator
        // sees it live and replies, the reviewer resolves it.
        await reviewer.Keyboard.PressAsync("c");
        var (cx, cy) = await reviewer.OnPage(500, 300);
        await reviewer.Mouse.ClickAsync(cx, cy);
        var text = reviewer.GetByRole(AriaRole.Textbox, new() { Name = "New comment" });
        await text.FillAsync("is this one tree or two?");
        await text.PressAsync("Enter");
        await annotator.Locator(".overlay[data-comments='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 2000 });
        await annotator.GetByText("is this one tree or two?").WaitForAsync();
        var reply = annotator.GetByLabel("Reply to comment 1");
        await reply.FillAsync("one tree, two trunks");
        await reply.PressAsync("Enter");
        await reviewer.Locator(".thread", new() { HasText = "one tree, two trunks" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 2000 });
        await reviewer.Locator(".thread").GetByRole(AriaRole.Button, new() { Name = "Resolve" }).ClickAsync();
        await annotator.Locator(".thread.resolved").GetByRole(AriaRole.Button, new() { Name = "Reopen" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 2000 });
        var comments = await (await _http.GetAsync($"/api/images/{image.Id}/comments")).Read<List<JsonElement>>();
        Assert.Equal(2, comments.Count);
        var thread = comments.Single(c => c.GetProperty("parentId").ValueKind == JsonValueKind.Null);
        Assert.Equal(("rev", 500.0, 300.0, true), (thread.GetProperty("author").GetString(), Math.Round(thread.GetProperty("x").GetDouble()),
            Math.Round(thread.GetProperty("y").GetDouble()), thread.GetProperty("resolved").GetBoolean()));
        var answer = comments.Single(c => c.GetProperty("parentId").ValueKind != JsonValueKind.Null);
        Assert.Equal(("ann", thread.GetProperty("id").GetGuid()), (answer.GetProperty("author").GetString(), answer.GetProperty("parentId").GetGuid()));

        // The annotator submits and has nothing left (back on My work, which says so); the reviewer, who watched the
        // image become submitted live, approves it and has nothing left either.
        await annotator.GetByRole(AriaRole.Button, new() { Name = "Submit and next" }).ClickAsync();
        await annotator.WaitForURLAsync($"**/projects/{project.Id}/work?done=annotate");
        await annotator.Locator("p.notice", new() { HasText = "Nothing left for you to annotate" }).WaitForAsync();
        await reviewer.Locator("canvas.base[data-status='submitted']").WaitForAsync(new LocatorWaitForOptions { Timeout = 2000 });
        await reviewer.GetByRole(AriaRole.Button, new() { Name = "Approve and next" }).ClickAsync();
        await reviewer.WaitForURLAsync($"**/projects/{project.Id}/work?done=review");
        Assert.Equal("approved", (await (await _http.GetAsync($"/api/images/{image.Id}")).Read<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Concurrent_changes_converge_and_edits_made_offline_arrive_exactly_once()
    {
        var (project, image) = await _http.ProjectWithImage("offline", ["car", "dog", "cat"], 640, 480);
        await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 200, y = 150, width = 100, height = 80 } });
        var alice = await _browser.NewPageAsync();
        var bob = await _browser.NewPageAsync();
        await alice.SignInAsync(_url, "alice", $"/images/{image.Id}");
        await bob.SignInAsync(_url, "bob", $"/images/{image.Id}");
        await alice.WaitForCanvas("[data-ready='true'][data-shapes='1']");
        await bob.WaitForCanvas("[data-ready='true'][data-shapes='1']");

        // Both select the shape and relabel it at the same moment: both pages end with the server's choice.
        foreach (var page in new[] { alice, bob })
        {
            var (x, y) = await page.OnPage(250, 190);
            await page.Mouse.ClickAsync(x, y);
        }
        await Task.WhenAll(alice.Keyboard.PressAsync("Shift+Digit2"), bob.Keyboard.PressAsync("Shift+Digit3")); // Shift+digit relabels the selection (a digit alone picks the next shape's label)
        await alice.WaitForCanvas("[data-seq='3'][data-pending='0']");
        await bob.WaitForCanvas("[data-seq='3'][data-pending='0']");
        var shape = Assert.Single(await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>());
        string winner = project.Labels.Single(l => l.Id == shape.GetProperty("labelId").GetGuid()).Name;
        Assert.Contains(winner, new[] { "dog", "cat" });
        foreach (var page in new[] { alice, bob })
            await page.Locator(".side .card", new() { HasText = winner }).WaitForAsync(new LocatorWaitForOptions { Timeout = 2000 });

        // Bob drops off the network, keeps working (two boxes and a reject), and comes back.
        await bob.Context.SetOfflineAsync(true);
        await bob.WaitForCanvas("[data-connected='false']");
        await bob.GetByText("offline").First.WaitForAsync();
        await bob.Keyboard.PressAsync("r");
        await bob.Keyboard.PressAsync("b");
        foreach (var (ix, iy) in new[] { (20.0, 20.0), (400.0, 300.0) })
        {
            var (x0, y0) = await bob.OnPage(ix, iy);
            var (x1, y1) = await bob.OnPage(ix + 60, iy + 50);
            await bob.Mouse.MoveAsync(x0, y0);
            await bob.Mouse.DownAsync();
            await bob.Mouse.MoveAsync(x1, y1, new MouseMoveOptions { Steps = 4 });
            await bob.Mouse.UpAsync();
        }
        await bob.WaitForCanvas("[data-pending='3'][data-shapes='3']"); // shown at once, waiting to be sent
        await bob.Context.SetOfflineAsync(false);
        await bob.WaitForCanvas("[data-connected='true'][data-pending='0'][data-seq='6']");
        await alice.WaitForCanvas("[data-seq='6'][data-shapes='3']");

        var stored = await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>();
        Assert.Equal(3, stored.Count);
        Assert.Equal(2, stored.Count(a => a.GetProperty("createdBy").GetString() == "bob"));
        Assert.Equal("rejected", stored.Single(a => a.GetProperty("id").GetGuid() == shape.GetProperty("id").GetGuid()).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Shapes_are_moved_and_reshaped_with_the_select_tool()
    {
        var (project, image) = await _http.ProjectWithImage("edit", ["car"], 640, 480);
        var box = await (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 100, y = 100, width = 100, height = 80 } })).Read<JsonElement>();
        var polygon = await (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "polygon",
            geometry = new { rings = new[] { new double[] { 400, 100, 560, 100, 560, 260, 400, 260 } } } })).Read<JsonElement>();
        var page = await _browser.NewPageAsync();
        await page.SignInAsync(_url, "eve", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='2']");
        async Task<JsonElement> Geometry(JsonElement a) =>
            (await (await _http.GetAsync($"/api/images/{image.Id}/annotations/{a.GetProperty("id").GetGuid()}")).Read<JsonElement>()).GetProperty("geometry");

        // Drag the box by its body: it moves; then its bottom-right handle: it resizes.
        await page.Drag((150, 140), (200, 180));
        await page.WaitForCanvas("[data-seq='3'][data-pending='0']");
        var g = await Geometry(box);
        Assert.Equal((150.0, 140.0, 100.0, 80.0), (Math.Round(g.GetProperty("x").GetDouble()), Math.Round(g.GetProperty("y").GetDouble()), Math.Round(g.GetProperty("width").GetDouble()), Math.Round(g.GetProperty("height").GetDouble())));
        await page.Drag((250, 220), (300, 260));
        await page.WaitForCanvas("[data-seq='4'][data-pending='0']");
        g = await Geometry(box);
        Assert.Equal((150.0, 140.0, 150.0, 120.0), (Math.Round(g.GetProperty("x").GetDouble()), Math.Round(g.GetProperty("y").GetDouble()), Math.Round(g.GetProperty("width").GetDouble()), Math.Round(g.GetProperty("height").GetDouble())));

        // The polygon: select it, drag a vertex, insert one on an edge by double-click, delete one with Alt+click.
        var (px, py) = await page.OnPage(480, 180);
        await page.Mouse.ClickAsync(px, py);
        await page.Drag((560, 260), (600, 300));
        await page.WaitForCanvas("[data-seq='5'][data-pending='0']");
        var (ex, ey) = await page.OnPage(480, 100);
        await page.Mouse.DblClickAsync(ex, ey);
        await page.WaitForCanvas("[data-seq='6'][data-pending='0']");
        var (vx, vy) = await page.OnPage(400, 260);
        await page.Keyboard.DownAsync("Alt");
        await page.Mouse.ClickAsync(vx, vy);
        await page.Keyboard.UpAsync("Alt");
        await page.WaitForCanvas("[data-seq='7'][data-pending='0']");
        var ring = (await Geometry(polygon)).GetProperty("rings")[0].EnumerateArray().Select(v => Math.Round(v.GetDouble())).ToArray();
        Assert.Equal(new double[] { 400, 100, 480, 100, 560, 100, 600, 300 }, ring);
    }

    [Fact]
    public async Task A_mask_is_painted_with_the_brush_and_cut_with_the_eraser()
    {
        var (project, image) = await _http.ProjectWithImage("masks", ["grass"], 640, 480);
        var page = await _browser.NewPageAsync();
        await page.SignInAsync(_url, "mia", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true']");

        // M, then a stroke from (100, 200) to (300, 200) with the default 12 px brush: a 200 x 24 band with round ends.
        await page.Keyboard.PressAsync("m");
        await page.Drag((100, 200), (300, 200));
        await page.WaitForCanvas("[data-seq='1'][data-pending='0'][data-shapes='1']");
        var mask = Assert.Single(await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>());
        Assert.Equal(("mask", "mia"), (mask.GetProperty("kind").GetString(), mask.GetProperty("createdBy").GetString()));
        var runs = CocoRleText(mask.GetProperty("geometry").GetProperty("counts").GetString()!);
        long area = runs.Where((_, i) => i % 2 == 1).Sum();
        double expected = 200 * 24 + Math.PI * 12 * 12;
        Assert.InRange(area, expected * 0.95, expected * 1.05);
        var (bx, by, bw, bh) = Box(runs, 480);
        Assert.Equal((88, 188, 224, 24), (bx, by, bw, bh), new ToleranceComparer(1));

        // E, a stroke across the middle: the band is cut in two, the same annotation, a smaller area.
        await page.Keyboard.PressAsync("e");
        await page.Drag((200, 160), (200, 240));
        await page.WaitForCanvas("[data-seq='2'][data-pending='0']");
        var cut = Assert.Single(await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>());
        Assert.Equal(mask.GetProperty("id").GetGuid(), cut.GetProperty("id").GetGuid());
        long after = CocoRleText(cut.GetProperty("geometry").GetProperty("counts").GetString()!).Where((_, i) => i % 2 == 1).Sum();
        Assert.InRange(after, area - 24 * 26, area - 24 * 22);
    }

    private static List<long> CocoRleText(string text) => CocoRle.Decode(text)!;

    private static (int, int, int, int) Box(List<long> runs, int height)
    {
        var b = CocoRle.Box(runs, height);
        return ((int)b[0], (int)b[1], (int)b[2], (int)b[3]);
    }

    private sealed class ToleranceComparer(int tolerance) : IEqualityComparer<(int, int, int, int)>
    {
        public bool Equals((int, int, int, int) a, (int, int, int, int) b) =>
            Math.Abs(a.Item1 - b.Item1) <= tolerance && Math.Abs(a.Item2 - b.Item2) <= tolerance && Math.Abs(a.Item3 - b.Item3) <= tolerance && Math.Abs(a.Item4 - b.Item4) <= tolerance;
        public int GetHashCode((int, int, int, int) v) => 0;
    }

    /// <summary>The alpha of the shapes canvas at an image point (the photo is an img under it, so 0 means no shape there).</summary>
    private static async Task<int> ShapeAlpha(IPage page, double ix, double iy) => await page.EvaluateAsync<int>(@"([ix, iy]) => {
        const c = document.querySelector('canvas.base'), d = c.dataset, dpr = window.devicePixelRatio || 1;
        const x = Math.round((ix * Number(d.scale) + Number(d.tx)) * dpr), y = Math.round((iy * Number(d.scale) + Number(d.ty)) * dpr);
        let max = 0;
        const data = c.getContext('2d').getImageData(x - 2, y - 2, 5, 5).data;
        for (let i = 3; i < data.length; i += 4) max = Math.max(max, data[i]);
        return max; }", new[] { ix, iy });

    [Fact]
    public async Task A_peers_move_repaints_where_the_shape_was_and_where_it_is()
    {
        var (project, image) = await _http.ProjectWithImage("repaint", ["car"], 640, 480);
        var box = await (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 100, y = 100, width = 100, height = 80 } })).Read<JsonElement>();
        var page = await _browser.NewPageAsync();
        await page.SignInAsync(_url, "zoe", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='1']");
        await page.WaitForFunctionAsync("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))");
        Assert.True(await ShapeAlpha(page, 100, 140) > 0, "the box's left edge is drawn");
        Assert.Equal(0, await ShapeAlpha(page, 300, 140));

        await (await _http.PatchJson($"/api/images/{image.Id}/annotations/{box.GetProperty("id").GetGuid()}", new { version = 1, geometry = new { x = 300, y = 100, width = 100, height = 80 } })).Read<JsonElement>();
        await page.WaitForCanvas("[data-seq='2']");
        await page.WaitForFunctionAsync("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))");
        Assert.Equal(0, await ShapeAlpha(page, 100, 140)); // where it was: cleared
        Assert.True(await ShapeAlpha(page, 300, 140) > 0, "where it is now: drawn");
    }

    [Fact]
    public async Task Rubber_band_selects_hide_hides_and_K_turns_a_polygon_into_a_mask_and_back()
    {
        var (project, image) = await _http.ProjectWithImage("band", ["tree"], 640, 480);
        foreach (var x in new[] { 50, 150, 450 })
            await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x, y = 50, width = 60, height = 60 } });
        var polygon = await (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "polygon",
            geometry = new { rings = new[] { new double[] { 300, 300, 400, 300, 400, 400, 300, 400 } } } })).Read<JsonElement>();
        var page = await _browser.NewPageAsync();
        await page.SignInAsync(_url, "ivy", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='4']");

        // Shift+drag from empty space around the first two boxes selects exactly them; H hides them; Shift+H shows them.
        await page.Keyboard.DownAsync("Shift");
        await page.Drag((30, 30), (230, 130));
        await page.Keyboard.UpAsync("Shift");
        var selected = (await page.Locator("canvas.base").GetAttributeAsync("data-selected"))!.Split(',');
        Assert.Equal(2, selected.Length);
        await page.Keyboard.PressAsync("h");
        await page.WaitForCanvas("[data-drawn='2']");
        await page.Keyboard.PressAsync("Shift+H");
        await page.WaitForCanvas("[data-drawn='4']");

        // K: the polygon becomes a mask of the same pixels (and keeps its outline); K again: back to the polygon.
        var (px, py) = await page.OnPage(350, 350);
        await page.Mouse.ClickAsync(px, py);
        await page.Keyboard.PressAsync("k");
        await page.WaitForCanvas("[data-seq='5'][data-pending='0']");
        var stored = await (await _http.GetAsync($"/api/images/{image.Id}/annotations/{polygon.GetProperty("id").GetGuid()}")).Read<JsonElement>();
        Assert.Equal("mask", stored.GetProperty("kind").GetString());
        var runs = CocoRle.Decode(stored.GetProperty("geometry").GetProperty("counts").GetString()!)!;
        Assert.Equal(100 * 100, runs.Where((_, i) => i % 2 == 1).Sum());
        await page.Keyboard.PressAsync("k");
        await page.WaitForCanvas("[data-seq='6'][data-pending='0']");
        stored = await (await _http.GetAsync($"/api/images/{image.Id}/annotations/{polygon.GetProperty("id").GetGuid()}")).Read<JsonElement>();
        Assert.Equal("polygon", stored.GetProperty("kind").GetString());
        Assert.Equal(8, stored.GetProperty("geometry").GetProperty("rings")[0].GetArrayLength());

        // A mask with no outline (as the brush makes them) is traced: a 50x50 square gives back its four corners.
        var runs2 = new List<long> { 500L * 480 + 300 };
        for (int col = 0; col < 50; col++) { runs2.Add(50); runs2.Add(col < 49 ? 130 + 300 : 130 + 90L * 480); }
        var square = await (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "mask",
            geometry = new { size = new[] { 480, 640 }, counts = CocoRle.Encode(runs2) } })).Read<JsonElement>();
        await page.WaitForCanvas("[data-seq='7']");
        var (sx, sy) = await page.OnPage(525, 325);
        await page.Mouse.ClickAsync(sx, sy);
        await page.Keyboard.PressAsync("k");
        await page.WaitForCanvas("[data-seq='8'][data-pending='0']");
        var traced = await (await _http.GetAsync($"/api/images/{image.Id}/annotations/{square.GetProperty("id").GetGuid()}")).Read<JsonElement>();
        Assert.Equal("polygon", traced.GetProperty("kind").GetString());
        Assert.Equal(new double[] { 500, 300, 550, 300, 550, 350, 500, 350 }, traced.GetProperty("geometry").GetProperty("rings")[0].EnumerateArray().Select(v => v.GetDouble()));

        // A mask with a hole (a 100x100 square less 40x40 in its middle) traces to one ring whose keyhole bridge keeps
        // the hole: rasterised as COCO does, the hole's centre is empty and the ring covers the mask.
        var donutWindow = new byte[100 * 100];
        for (int y = 0; y < 100; y++) for (int x = 0; x < 100; x++) donutWindow[y * 100 + x] = (byte)(x >= 30 && x < 70 && y >= 30 && y < 70 ? 0 : 1);
        var donutRuns = CocoRle.FromWindow(donutWindow, 50, 250, 100, 100, 640, 480);
        var donut = await (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "mask",
            geometry = new { size = new[] { 480, 640 }, counts = CocoRle.Encode(donutRuns) } })).Read<JsonElement>();
        await page.WaitForCanvas("[data-seq='9']");
        var (dx, dy) = await page.OnPage(60, 300);
        await page.Mouse.ClickAsync(dx, dy);
        await page.Keyboard.PressAsync("k");
        await page.WaitForCanvas("[data-seq='10'][data-pending='0']");
        var ring = Assert.Single((await (await _http.GetAsync($"/api/images/{image.Id}/annotations/{donut.GetProperty("id").GetGuid()}")).Read<JsonElement>())
            .GetProperty("geometry").GetProperty("rings").EnumerateArray()).EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var filled = CocoRaster.Polygons([ring], 480, 640);
        long overlap = Runs.IntersectionArea(filled, donutRuns);
        Assert.True(overlap >= 0.95 * (Runs.Area(filled) + Runs.Area(donutRuns) - overlap), $"the traced donut covers {Runs.Area(filled)} px, {overlap} of its 8400");
        Assert.Equal(0, CocoRle.ToMask(filled, 480, 640)[100 * 480 + 300]); // the hole's centre (column-major)
    }

    [Fact]
    public async Task A_server_restart_mid_session_loses_no_edit()
    {
        var (project, image) = await _http.ProjectWithImage("restart", ["car"], 640, 480);
        var page = await _browser.NewPageAsync();
        await page.SignInAsync(_url, "sam", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-connected='true']");

        // The server dies (kill -9): the page says so and keeps taking edits.
        System.Diagnostics.Process.Start("kill", ["-KILL", _app.Server.Id.ToString()])!.WaitForExit();
        await _app.Server.WaitForExitAsync(TestContext.Current.CancellationToken);
        await page.WaitForCanvas("[data-connected='false']");
        await page.GetByText("offline").First.WaitForAsync();
        await page.Keyboard.PressAsync("b");
        await page.Drag((100, 100), (200, 180));
        await page.WaitForCanvas("[data-pending='1'][data-shapes='1']");

        // It comes back on the same data: the page reconnects, resumes and sends the box, once.
        await _app.RestartAsync();
        await page.Locator("canvas.base[data-connected='true'][data-pending='0'][data-seq='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        var stored = Assert.Single(await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>());
        Assert.Equal(("sam", 100.0), (stored.GetProperty("createdBy").GetString(), Math.Round(stored.GetProperty("geometry").GetProperty("x").GetDouble())));
    }
}
