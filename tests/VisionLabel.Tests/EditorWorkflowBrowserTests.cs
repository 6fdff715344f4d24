using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The editor's workflow at a laptop's 1280×720: what a key does to the next shape and to the selection, every action
/// reachable, the status and the grid's filter followed, and every action saying what it did (issue #20).
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class EditorWorkflowBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        (_browser, _url) = (_app.Browser, _app.Url);
        _http = await _app.AdminsAsync("setup", "kim", "lou", "max", "ned", "oli", "pat", "quinn");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private Task<IPage> Laptop() => _browser.NewPageAsync(1280, 720);

    private async Task<List<JsonElement>> Annotations(Guid imageId) =>
        await (await _http.GetAsync($"/api/images/{imageId}/annotations")).Read<List<JsonElement>>();

    private static Task Toast(IPage page, string text) =>
        page.Locator(".toast", new() { HasText = text }).WaitForAsync(new LocatorWaitForOptions { Timeout = 5000 });

    [Fact]
    public async Task A_label_key_picks_the_next_shapes_label_and_only_shift_digit_relabels_the_selection()
    {
        var (project, image) = await _http.ProjectWithImage("next-label", ["car", "person"], 640, 480);
        var page = await Laptop();
        await page.SignInAsync(_url, "kim", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true']");

        // Draw a car, press 2 while it is still selected, draw the next box: a person; the car stays a car.
        await page.Keyboard.PressAsync("b");
        await page.Drag((50, 50), (150, 150));
        await page.WaitForCanvas("[data-seq='1'][data-pending='0']");
        await page.Keyboard.PressAsync("2");
        await page.Drag((300, 200), (400, 300));
        await page.WaitForCanvas("[data-seq='2'][data-pending='0']");
        var stored = await Annotations(image.Id);
        string LabelAt(List<JsonElement> all, double x) => project.Labels.Single(l => l.Id == all.Single(a => Math.Round(a.GetProperty("geometry").GetProperty("x").GetDouble()) == x).GetProperty("labelId").GetGuid()).Name;
        Assert.Equal(("car", "person"), (LabelAt(stored, 50), LabelAt(stored, 300)));

        // Relabelling is explicit: Shift+1 on the selected person makes it a car, and says so.
        await page.Keyboard.PressAsync("Shift+Digit1");
        await Toast(page, "relabelled car");
        await page.WaitForCanvas("[data-seq='3'][data-pending='0']");
        Assert.Equal("car", LabelAt(await Annotations(image.Id), 300));
    }

    [Fact]
    public async Task Every_toolbar_action_is_visible_and_clickable_at_1280x720()
    {
        var (_, image) = await _http.ProjectWithImage("reach", ["car"], 640, 480);
        var page = await Laptop();
        await page.SignInAsync(_url, "lou", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-role='owner'][data-stage='annotate']");
        async Task<List<string>> Reachable()
        {
            var buttons = page.Locator(".bar button");
            int count = await buttons.CountAsync();
            var names = new List<string>();
            for (int i = 0; i < count; i++)
            {
                var button = buttons.Nth(i);
                string name = (await button.GetAttributeAsync("aria-label")) ?? (await button.InnerTextAsync()).Trim();
                names.Add(name);
                var box = await button.BoundingBoxAsync();
                Assert.True(box is not null && await button.IsVisibleAsync(), $"{name} is not shown");
                Assert.True(box!.X >= 0 && box.Y >= 0 && box.X + box.Width <= 1280 && box.Y + box.Height <= 720, $"{name} is outside the 1280×720 viewport: {box.X},{box.Y} {box.Width}×{box.Height}");
                await button.ClickAsync(new LocatorClickOptions { Trial = true, Timeout = 2000 }); // nothing covers it
            }
            return names;
        }
        var names = await Reachable();
        foreach (var expected in new[] { "Submit and next", "Previous image", "Next image", "Shortcuts", "Ruler L", "Notifications" })
            Assert.Contains(expected, names);

        // Submitted by someone else, the image offers the reviewer's and the owner's actions, as reachable.
        (await _http.PostAsync($"/api/images/{image.Id}/submit", null)).EnsureSuccessStatusCode();
        await page.WaitForCanvas("[data-status='submitted'][data-stage='submitted']");
        names = await Reachable();
        foreach (var expected in new[] { "Approve and next", "Reject…", "Reopen" })
            Assert.Contains(expected, names);
        Assert.DoesNotContain("Submit and next", names);

        // The last one works: ? opens the help, which lists the ruler tool and the workflow keys.
        await page.GetByRole(AriaRole.Button, new() { Name = "Shortcuts" }).ClickAsync();
        var help = page.GetByRole(AriaRole.Dialog, new() { Name = "Shortcuts" });
        await help.GetByText("ruler: drag to measure").WaitForAsync();
        await help.GetByText("Ctrl+Shift+Enter").WaitForAsync();
        await help.GetByText("submit the image for review and take the next one from your queue").WaitForAsync();
    }

    [Fact]
    public async Task The_status_chip_follows_the_server_when_an_edit_moves_the_image_to_in_progress()
    {
        var (_, image) = await _http.ProjectWithImage("status-chip", ["car"], 640, 480);
        var page = await Laptop();
        await page.SignInAsync(_url, "max", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true']");
        var chip = page.Locator(".bar [aria-label=status]");
        Assert.Equal("new", (await chip.InnerTextAsync()).Trim());

        await page.Keyboard.PressAsync("b");
        await page.Drag((100, 100), (200, 200));
        await page.WaitForCanvas("[data-seq='1'][data-pending='0']");
        await page.WaitForCanvas("[data-status='in-progress']"); // the server moved it on the first edit; the page follows
        Assert.Equal("in-progress", (await chip.InnerTextAsync()).Trim());
        Assert.Equal("in-progress", (await (await _http.GetAsync($"/api/images/{image.Id}")).Read<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Arrows_in_the_editor_stay_within_the_grids_status_filter()
    {
        var project = await (await _http.PostJson("/api/projects", new { name = "filtered", labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        var files = Enumerable.Range(0, 4).Select(i => ($"img{i}.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(64 + i, 48)))).ToArray();
        (await _http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).EnsureSuccessStatusCode();
        var ids = (await (await _http.GetAsync($"/api/projects/{project.Id}/images?limit=10")).Read<ImagePage>()).Items.Select(i => i.Id).ToList(); // the grid's order
        // Submitted, rejected (after its submission: the workflow's order; one person does both here, so the project
        // allows self-review), submitted, and in progress (edited).
        (await _http.PatchJson($"/api/projects/{project.Id}", new { workflow = new { allowSelfReview = true } })).EnsureSuccessStatusCode();
        foreach (var id in ids.Take(3)) (await _http.PostAsync($"/api/images/{id}/submit", null)).EnsureSuccessStatusCode();
        (await _http.PostJson($"/api/images/{ids[1]}/reject", new { reason = "other" })).EnsureSuccessStatusCode();
        (await _http.PostJson($"/api/images/{ids[3]}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } })).EnsureSuccessStatusCode();

        var page = await Laptop();
        await page.SignInAsync(_url, "ned", $"/projects/{project.Id}");
        await page.GetByLabel("Status").SelectOptionAsync("submitted");
        await page.Locator(".image-total", new() { HasText = "2 images" }).WaitForAsync();
        await page.Locator(".vcell").First.ClickAsync();
        await page.WaitForURLAsync($"**/images/{ids[0]}?status=submitted");
        await page.WaitForCanvas("[data-ready='true']");

        // → skips the rejected image to the next submitted one, and stops there.
        await page.Keyboard.PressAsync("ArrowRight");
        await page.WaitForURLAsync($"**/images/{ids[2]}?status=submitted");
        await page.WaitForCanvas("[data-ready='true']");
        await page.Keyboard.PressAsync("ArrowRight");
        await Toast(page, "This is the last submitted image");
        Assert.EndsWith($"/images/{ids[2]}?status=submitted", page.Url);
    }

    [Fact]
    public async Task A_box_outside_the_image_and_accept_all_say_what_happened()
    {
        var (project, image) = await _http.ProjectWithImage("feedback", ["car"], 640, 480);
        foreach (var (x, score) in new[] { (20, 0.9), (200, 0.3) })
            (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", state = "proposed",
                source = new { type = "model", modelId = "yolo-test", score }, geometry = new { x, y = 20, width = 60, height = 40 } })).EnsureSuccessStatusCode();
        var page = await Laptop();
        await page.SignInAsync(_url, "oli", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='2'][data-seq='2']");

        // A box dragged wholly beside the image: nothing is drawn, and the page says why.
        var (scale, tx, _) = await page.View();
        Assert.True(tx > 20, "the image is fitted with room beside it");
        double beside = -(tx - 5) / scale; // 5 px inside the stage's left edge, left of the image
        await page.Keyboard.PressAsync("b");
        await page.Drag((beside, 100), (-2 / scale, 200));
        await Toast(page, "outside the image");
        Assert.Equal("2", await page.Locator("canvas.base").GetAttributeAsync("data-shapes"));

        // Accept all names its threshold on the button and in what it reports; the 0.3 proposal stays proposed.
        var accept = page.GetByRole(AriaRole.Button, new() { Name = "Accept all ≥ 0.50" });
        Assert.Contains("at or above 0.50", await accept.GetAttributeAsync("title"));
        await accept.ClickAsync();
        await Toast(page, "Accepted 1 proposal(s) at or above 0.50");
        await page.WaitForCanvas("[data-seq='3'][data-pending='0']");
        var states = (await Annotations(image.Id)).Select(a => (a.GetProperty("geometry").GetProperty("x").GetDouble(), a.GetProperty("state").GetString())).OrderBy(a => a.Item1);
        Assert.Equal([(20.0, "accepted"), (200.0, "proposed")], states);
    }

    [Fact]
    public async Task The_objects_list_jumps_hides_and_locks_and_the_ruler_measures()
    {
        var (project, image) = await _http.ProjectWithImage("objects", ["car", "bus"], 640, 480);
        foreach (var x in new[] { 40, 400 })
            (await _http.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x, y = 300, width = 40, height = 30 } })).EnsureSuccessStatusCode();
        var page = await Laptop();
        await page.SignInAsync(_url, "pat", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='2'][data-drawn='2']");
        var rows = page.Locator(".objects .obj-row");
        Assert.Equal(2, await rows.CountAsync());

        // A click on a row selects its shape and brings it into view (zoomed in on it).
        var before = await page.View();
        string second = (await rows.Nth(1).GetAttributeAsync("data-id"))!;
        await rows.Nth(1).Locator("button.jump").ClickAsync();
        await page.WaitForCanvas($"[data-selected='{second}']");
        Assert.True((await page.View()).Scale > before.Scale);
        await page.Keyboard.PressAsync("f");

        // Locked: a click on it on the canvas does not select it. Hidden: not drawn.
        await rows.Nth(0).GetByRole(AriaRole.Button, new() { Name = "lock object 1" }).ClickAsync();
        await page.Keyboard.PressAsync("Escape");
        var (lx, ly) = await page.OnPage(60, 315);
        await page.Mouse.ClickAsync(lx, ly);
        Assert.Equal("", await page.Locator("canvas.base").GetAttributeAsync("data-selected"));
        await rows.Nth(0).GetByRole(AriaRole.Button, new() { Name = "hide object 1" }).ClickAsync();
        await page.WaitForCanvas("[data-drawn='1']");

        // Relabel from the list: the server gets it, the page says it.
        await rows.Nth(1).Locator("select").SelectOptionAsync(new SelectOptionValue { Label = "bus" });
        await Toast(page, "relabelled bus");
        await page.WaitForCanvas("[data-seq='3'][data-pending='0']");

        // L, drag 300 image pixels: the overlay shows the length; nothing is sent.
        await page.Keyboard.PressAsync("l");
        await page.Drag((100, 100), (400, 100));
        var measured = double.Parse((await page.Locator("canvas.overlay").GetAttributeAsync("data-measure"))!, CultureInfo.InvariantCulture);
        Assert.InRange(measured, 299, 301);
        Assert.Equal("3", await page.Locator("canvas.base").GetAttributeAsync("data-seq"));
    }

    [Fact]
    public async Task Uploads_stay_in_a_bounded_box_tiles_show_their_status_and_unknown_paths_say_not_found()
    {
        var project = await (await _http.PostJson("/api/projects", new { name = "uploads" })).Read<ProjectDto>();
        var page = await Laptop();
        await page.SignInAsync(_url, "quinn", $"/projects/{project.Id}");
        var files = Enumerable.Range(0, 30).Select(i => new FilePayload
        {
            Name = $"a-rather-long-file-name-for-a-photo-{i:D2}.jpg", MimeType = "image/jpeg",
            Buffer = VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(40 + i, 30)),
        });
        await page.Locator("input[type=file][multiple]").SetInputFilesAsync(files);
        await page.Locator(".image-total", new() { HasText = "30 images" }).WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        var uploads = (await page.Locator(".uploads").BoundingBoxAsync())!;
        Assert.True(uploads.Height <= 200, $"the upload results take {uploads.Height} px");
        var firstTile = (await page.Locator(".vcell").First.BoundingBoxAsync())!;
        Assert.True(firstTile.Y < 720, $"the grid starts on the first screen (at {firstTile.Y} px)");
        // The status is on the tile, not cut off behind a long file name.
        var status = page.Locator(".vcell").First.Locator(".status");
        Assert.Equal("new", (await status.InnerTextAsync()).Trim());
        var statusBox = (await status.BoundingBoxAsync())!;
        Assert.True(statusBox.X + statusBox.Width <= firstTile.X + firstTile.Width);

        // An in-app path with no page: the not-found page, not the projects list.
        await page.EvaluateAsync("() => { history.pushState(null, '', '/nowhere/at/all'); dispatchEvent(new PopStateEvent('popstate')); }");
        await page.GetByText("Page not found").WaitForAsync();
        Assert.Equal(0, await page.GetByText("Create project").CountAsync());
        // A reload of it (or a stale link opened fresh): the server answers the app with 404, and the app says so.
        var reload = await page.ReloadAsync();
        Assert.Equal(404, reload!.Status);
        await page.GetByText("Page not found").WaitForAsync();
        var api = await _http.GetAsync("/api/nowhere");
        Assert.Equal("application/problem+json", api.Content.Headers.ContentType?.MediaType); // the API keeps its own 404s
    }
}
