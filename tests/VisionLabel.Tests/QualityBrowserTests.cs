using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The quality page (issue #23) in the browser, as project members (not admins) at 1280×720: an annotator's
/// submissions with known errors, ground truth imported from a COCO zip on the page, then the owner reads the figures
/// as docs/quality.md defines them (table, chart, confusions), sets a label's required F1 inline (the label under it
/// turns red), sees a new submission arrive live, opens an image from its row, and makes an approved image ground
/// truth in the editor, which an annotator is never offered.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class QualityBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    /// <summary>olga owns the project; anya annotates.</summary>
    private HttpClient _olga = null!, _anya = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        (_browser, _url) = (_app.Browser, _app.Url);
        var tokens = await _app.TokensAsync(false, "olga", "anya");
        (_olga, _anya) = (_app.Client(tokens["olga"]), _app.Client(tokens["anya"]));
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        _anya?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 10_000 };
    private static Task Toast(IPage page, string text) => page.Locator(".toast", new() { HasText = text }).WaitForAsync(Soon);

    /// <summary>The ground truth: a COCO file naming the three images by file name (no image files) and a fourth the project lacks.</summary>
    private static byte[] GroundTruthZip()
    {
        object Image(int id, string name, int width) => new { id, file_name = name, width, height = 240 };
        object Box(int id, int image, int category, double[] bbox) => new { id, image_id = image, category_id = category, bbox, area = bbox[2] * bbox[3], iscrowd = 0 };
        var coco = new
        {
            images = new[] { Image(1, "img0.jpg", 320), Image(2, "img1.jpg", 321), Image(3, "img2.jpg", 322), Image(4, "ghost.jpg", 320) },
            categories = new[] { new { id = 1, name = "car" }, new { id = 2, name = "person" } },
            annotations = new[]
            {
                Box(1, 1, 1, [10, 10, 100, 80]), Box(2, 1, 2, [150, 50, 60, 120]),
                Box(3, 2, 1, [20, 20, 120, 90]), Box(4, 2, 2, [200, 40, 50, 100]),
                Box(5, 3, 1, [30, 30, 80, 60]),
                Box(6, 4, 1, [0, 0, 10, 10]),
            },
        };
        return DatasetTests.Zip([("annotations/instances.json", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(coco)))]);
    }

    private async Task Box(Guid imageId, Guid labelId, double x, double y, double width, double height) =>
        (await _anya.PostJson($"/api/images/{imageId}/annotations", new { labelId, kind = "box", geometry = new { x, y, width, height } })).EnsureSuccessStatusCode();

    /// <summary>F1 as docs/quality.md defines it, from the counts, as the page prints it.</summary>
    private static string F1(int tp, int fp, int fn)
    {
        double p = tp + fp == 0 ? 0 : (double)tp / (tp + fp), r = tp + fn == 0 ? 0 : (double)tp / (tp + fn);
        return (p + r == 0 ? 0 : 2 * p * r / (p + r)).ToString("F3", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task Row(IPage page, string key, int tp, int fp, int fn)
    {
        var row = page.Locator($".quality-table tr[data-key='{key}']");
        await row.Locator("td[data-col='tp']", new() { HasTextRegex = new Regex($"^{tp}$") }).WaitForAsync(Soon);
        Assert.Equal([fp.ToString(), fn.ToString(), F1(tp, fp, fn)],
            [await row.Locator("td[data-col='fp']").InnerTextAsync(), await row.Locator("td[data-col='fn']").InnerTextAsync(), await row.Locator("td[data-col='f1']").InnerTextAsync()]);
    }

    [Fact]
    public async Task An_owner_imports_ground_truth_reads_the_figures_sets_a_requirement_and_sees_submissions_live()
    {
        // A project of olga's: three images, two labels, every submission approved at once (nothing to review).
        var project = await (await _olga.PostJson("/api/projects", new { name = "quality", labels = new[] { new { name = "car" }, new { name = "person" }, new { name = "bike" } } })).Read<ProjectDto>();
        var (car, person) = (project.Labels.Single(l => l.Name == "car").Id, project.Labels.Single(l => l.Name == "person").Id);
        var files = Enumerable.Range(0, 3).Select(i => ($"img{i}.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(320 + i, 240)))).ToArray();
        (await _olga.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).EnsureSuccessStatusCode();
        (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user = "anya", role = "annotator" })).EnsureSuccessStatusCode();
        (await _olga.WorkflowAsync(project.Id, new { reviewPercent = 0 })).EnsureSuccessStatusCode();
        var images = (await (await _olga.GetAsync($"/api/projects/{project.Id}/images?limit=100")).Read<ImagePage>()).Items.ToDictionary(i => i.FileName, i => i.Id);

        // anya's submissions: img0 exactly right (2 TP); on img1 the car boxed as a person and the person missed
        // (1 FP, 2 FN, and the confusion car → person).
        await Box(images["img0.jpg"], car, 10, 10, 100, 80);
        await Box(images["img0.jpg"], person, 150, 50, 60, 120);
        await Box(images["img1.jpg"], person, 20, 20, 120, 90);
        foreach (var name in new[] { "img0.jpg", "img1.jpg" })
            (await _anya.WorkAsync(images[name], "submit")).EnsureSuccessStatusCode();

        // The owner reaches the page from the project page: no figures before there is ground truth.
        var olga = await _browser.NewPageAsync(1280, 720);
        await olga.SignInAsync(_url, "olga", $"/projects/{project.Id}");
        await olga.GetByRole(AriaRole.Link, new() { Name = "Quality →" }).ClickAsync();
        await olga.WaitForURLAsync($"**/projects/{project.Id}/quality");
        await olga.Locator("section[aria-label='No figures']").WaitForAsync(Soon);

        // Ground truth from a COCO zip on the page: what matched, and what was skipped with why.
        var truth = olga.Locator("section[aria-label='Ground truth']");
        await truth.GetByLabel("Ground truth format").SelectOptionAsync("coco");
        await truth.GetByLabel("Ground truth zip").SetInputFilesAsync(new FilePayload { Name = "truth.zip", MimeType = "application/zip", Buffer = GroundTruthZip() });
        await truth.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
        await truth.Locator(".gt-status", new() { HasText = "Matched 3 image(s): 5 shape(s); 2 skipped" }).WaitForAsync(Soon);
        await truth.Locator(".gt-skipped li", new() { HasText = "ghost.jpg" }).First.WaitForAsync(Soon);
        await truth.Locator(".gt-summary", new() { HasText = "3 image(s) with ground truth · 5 shape(s)" }).WaitForAsync(Soon);

        // By annotator: anya's counts and F1 as docs/quality.md defines them, drawn on the chart, with her confusion.
        await Row(olga, "anya", 2, 1, 2);
        var chart = olga.Locator("canvas.quality-chart[data-bars='1']");
        await chart.WaitForAsync(Soon);
        Assert.Equal("anya", await chart.GetAttributeAsync("data-rows"));
        bool painted = await chart.EvaluateAsync<bool>("""
            c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                   for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }
            """);
        Assert.True(painted, "the chart's canvas is blank");
        await olga.Locator(".confusion-grid[data-annotator='anya'] td[data-truth='car'][data-submitted='person']", new() { HasTextRegex = new Regex("^1$") }).WaitForAsync(Soon);

        // By label: person (1 TP, 1 FP, 1 FN) is set to require F1 0.8 inline and turns red; car is not required.
        await olga.GetByLabel("Group by").SelectOptionAsync("label");
        await olga.WaitForURLAsync($"**/projects/{project.Id}/quality?groupBy=label&iou=0.5");
        await Row(olga, "car", 1, 0, 1);
        await Row(olga, "person", 1, 1, 1);
        // A refused value says the server's reason.
        await olga.GetByLabel("Required F1 for person").FillAsync("1.5");
        await olga.GetByLabel("Required F1 for person").PressAsync("Tab");
        await Toast(olga, "person: requirement not saved: requiredF1");
        Assert.Contains("between 0 and 1", await olga.Locator(".toast").InnerTextAsync());
        Assert.Equal("", await olga.GetByLabel("Required F1 for person").InputValueAsync()); // back to what is stored
        await olga.GetByLabel("Required F1 for person").FillAsync("0.8");
        await olga.GetByLabel("Required F1 for person").PressAsync("Tab");
        await Toast(olga, "person: F1 of at least 0.800 required");
        var red = olga.Locator(".quality-table tr.below[data-key='person']");
        await red.Locator(".below-chip", new() { HasText = "below 0.800" }).WaitForAsync(Soon);
        Assert.Equal("rgb(255, 90, 95)", await red.EvaluateAsync<string>("r => getComputedStyle(r).color"));
        Assert.Equal(0, await olga.Locator(".quality-table tr.below[data-key='car']").CountAsync());
        var labels = (await (await _olga.GetAsync($"/api/projects/{project.Id}/labels")).Read<List<JsonElement>>()).ToDictionary(l => l.GetProperty("name").GetString()!);
        Assert.Equal(0.8, labels["person"].GetProperty("requiredF1").GetDouble());
        // A label nothing of which was scored yet (bike) can be given its requirement beforehand.
        await olga.Locator(".unscored").GetByLabel("Required F1 for bike").WaitForAsync(Soon);

        // Live: anya submits img2 right (1 more TP) while the page is open; it updates without a reload.
        await olga.GetByLabel("Group by").SelectOptionAsync("annotator");
        await Row(olga, "anya", 2, 1, 2);
        await olga.EvaluateAsync("() => { window.__sameDocument = true; }");
        await Box(images["img2.jpg"], car, 30, 30, 80, 60);
        (await _anya.WorkAsync(images["img2.jpg"], "submit")).EnsureSuccessStatusCode();
        await Row(olga, "anya", 3, 1, 2);
        await Toast(olga, "Quality updated: anya submitted img2.jpg (F1 1.000)");
        Assert.True(await olga.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page was reloaded");

        // By image (a deep link that survives a reload): the worst first; a row opens the image in the editor.
        await olga.GetByLabel("Group by").SelectOptionAsync("image");
        await olga.Locator(".quality-table[data-group='image']").WaitForAsync(Soon);
        await olga.ReloadAsync();
        var img1Row = olga.Locator($".quality-table tr[data-key='{images["img1.jpg"]}']");
        await img1Row.Locator("a", new() { HasText = "img1.jpg" }).WaitForAsync(Soon);
        Assert.Equal(images["img1.jpg"].ToString(), await olga.Locator(".quality-table tbody tr").First.GetAttributeAsync("data-key")); // F1 0 first
        await img1Row.Locator("td[data-col='fn']").ClickAsync();
        await olga.WaitForURLAsync($"**/images/{images["img1.jpg"]}");
        await olga.WaitForCanvas("[data-ready='true'][data-status='approved']");

        // In the editor, the owner makes the approved image's annotations its ground truth.
        await olga.GetByRole(AriaRole.Button, new() { Name = "Use as ground truth" }).ClickAsync();
        await Toast(olga, "Ground truth set: 1 shape(s)");
        var gt = await (await _olga.GetAsync($"/api/images/{images["img1.jpg"]}/ground-truth")).Read<List<JsonElement>>();
        Assert.Equal(person, Assert.Single(gt).GetProperty("labelId").GetGuid());

        // An annotator is offered none of it: no Quality link, no ground-truth action on an approved image.
        var anya = await _browser.NewPageAsync(1280, 720);
        await anya.SignInAsync(_url, "anya", $"/projects/{project.Id}");
        await anya.Locator("details.members summary", new() { HasText = "you are an annotator" }).WaitForAsync(Soon);
        Assert.Equal(0, await anya.GetByRole(AriaRole.Link, new() { Name = "Quality" }).CountAsync());
        await anya.GotoAsync($"{_url}/images/{images["img0.jpg"]}");
        await anya.WaitForCanvas("[data-ready='true'][data-status='approved'][data-role='annotator']");
        Assert.Equal(0, await anya.GetByRole(AriaRole.Button, new() { Name = "Use as ground truth" }).CountAsync());
        // The only console error: the refused requirement's 400.
        Assert.True(_browser.Errors.Count == 1 && _browser.Errors.All(e => e.Contains("status of 400")), string.Join("\n", _browser.Errors));
    }
}
