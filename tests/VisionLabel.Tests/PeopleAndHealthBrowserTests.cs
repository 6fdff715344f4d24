using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VisionLabel.Imaging;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;
using static VisionLabel.Tests.Support.ChartPages;

namespace VisionLabel.Tests;

/// <summary>
/// The People and Health pages (issue #24) in the browser at 1280×720, as project members (not admins), on a scripted
/// project: six coco128 photos and a copy of the first re-encoded at another JPEG quality; two annotators submit (ann1
/// slowly and right, ann2 fast and missing a person), a reviewer approves, rejects and completes ann2's image, and the
/// owner makes two approved images ground truth. The owner reads everyone's figures (ann2 flagged with the flag's words),
/// clicks ann2's bar and gets the grid of just ann2's images; runs a health check from its page (progress, then the
/// figures), finds the planted pair as near-duplicates (a leak badge exactly when the export splits them), and drills
/// down from the class chart (the grid of a label's images) and from the pair (the grid of those two, as a removable chip).
/// With the health page open, a submission is counted as it lands and the figures are computed again by themselves.
/// With VISIONLABEL_DOC_SCREENSHOTS=1 it writes docs/people.png and docs/health.png (README.md shows them).
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class PeopleAndHealthBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    private Dictionary<string, string> _tokens = null!;
    private HttpClient _olga = null!;

    public async ValueTask InitializeAsync()
    {
        SharedData.Require("datasets/coco128");
        _app = await ServedApp.StartAsync();
        (_browser, _url) = (_app.Browser, _app.Url);
        _tokens = await _app.TokensAsync(false, "olga", "ann1", "ann2", "rev");
        _olga = _app.Client(_tokens["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 15_000 };
    private static Task Toast(IPage page, string text) => page.Locator(".toast", new() { HasText = text }).WaitForAsync(Soon);

    [Fact]
    public async Task The_people_and_health_pages_show_the_figures_and_drill_down_to_the_grid()
    {
        // --- the project: six photos and a re-encoded copy of the first (the same pixels at JPEG quality 40)
        var project = await (await _olga.PostJson("/api/projects", new { name = "street", labels = new[] { new { name = "car" }, new { name = "person" } } })).Read<ProjectDto>();
        var (car, person) = (project.Labels.Single(l => l.Name == "car").Id, project.Labels.Single(l => l.Name == "person").Id);
        var photos = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().Take(6).ToList();
        var files = photos.Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToList();
        byte[] copy = ImageCodec.EncodeJpeg(ImageCodec.Decode(files[0].Item2, ImageFormat.Jpeg), quality: 40);
        files.Add(($"copy-of-{files[0].Item1}", copy));
        var upload = await (await _olga.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files([.. files]))).Read<UploadSummary>();
        Assert.Equal(7, upload.Created);
        var ids = upload.Files.Select(f => f.Image!.Id).ToList(); // upload order: p0 … p5, the copy
        Guid p0 = ids[0], p1 = ids[1], p2 = ids[2], p3 = ids[3], copyId = ids[6];
        foreach (var (user, role) in new[] { ("ann1", "annotator"), ("ann2", "annotator"), ("rev", "reviewer") })
            (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user, role })).EnsureSuccessStatusCode();
        using HttpClient ann1 = _app.Client(_tokens["ann1"]), ann2 = _app.Client(_tokens["ann2"]), rev = _app.Client(_tokens["rev"]);
        async Task Box(HttpClient who, Guid image, Guid label, double x) =>
            (await who.PostJson($"/api/images/{image}/annotations", new { labelId = label, kind = "box", geometry = new { x, y = 40, width = 120, height = 90 } })).EnsureSuccessStatusCode();

        // --- the work (upload order): ann1 boxes a car and a person on p0 and a car on p1, ann2 a car on p2 and a person on p3
        foreach (var (who, image, boxes) in new[] { (ann1, p0, new[] { car, person }), (ann1, p1, new[] { car }), (ann2, p2, new[] { car }), (ann2, p3, new[] { person }) })
        {
            Assert.Equal(image, await who.NextIdAsync(project.Id));
            for (int i = 0; i < boxes.Length; i++) await Box(who, image, boxes[i], 20 + 200 * i);
            (await who.WorkAsync(image, "submit")).EnsureSuccessStatusCode();
        }
        // Active time, as the editor reports it: ann1 8 s on p0, ann2 1 s on p2 (fast, against the team's median).
        await using (var hub1 = await HubClient.ConnectAsync(_url, "/hubs/annotations", _tokens["ann1"]))
        await using (var hub2 = await HubClient.ConnectAsync(_url, "/hubs/annotations", _tokens["ann2"]))
        {
            await hub1.CallAsync("ReportActivity", p0, false);
            await hub2.CallAsync("ReportActivity", p2, false);
            await Task.Delay(1000);
            await hub2.CallAsync("ReportActivity", p2, false);
            await Task.Delay(7000);
            await hub1.CallAsync("ReportActivity", p0, false);
        }
        // rev approves p0, rejects p1, adds the person ann2 missed on p2 and approves it, approves p3.
        foreach (var (image, verdict) in new[] { (p0, "approve"), (p1, "reject"), (p2, "approve"), (p3, "approve") })
        {
            Assert.Equal(image, await rev.NextIdAsync(project.Id, "review"));
            if (image == p2) await Box(rev, p2, person, 220);
            (await rev.WorkAsync(image, verdict, verdict == "reject" ? new { reason = "wrong label" } : null)).EnsureSuccessStatusCode();
        }
        // Ground truth: p0 (ann1's exactly: F1 1) and p2 (ann2 found 1 of 2: F1 0.667, below the project's bar 0.8).
        foreach (var image in new[] { p0, p2 })
            (await _olga.PostJson($"/api/images/{image}/ground-truth/from-approved", new { })).EnsureSuccessStatusCode();

        var olga = await _browser.NewPageAsync(1280, 720);
        try { await Pages(olga, project, p0, p1, p2, p3, copyId, car); }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException && !_browser.Errors.IsEmpty)
        {
            throw new Exception($"{e.Message}\nbrowser errors:\n{string.Join("\n", _browser.Errors)}", e);
        }
        Assert.True(_browser.Errors.IsEmpty, string.Join("\n", _browser.Errors));
    }

    private async Task Pages(IPage olga, ProjectDto project, Guid p0, Guid p1, Guid p2, Guid p3, Guid copyId, Guid car)
    {
        // --- People: from the project page; everyone's figures, ann2 flagged in words
        await olga.SignInAsync(_url, "olga", $"/projects/{project.Id}");
        await olga.GetByRole(AriaRole.Link, new() { Name = "People →" }).ClickAsync();
        await olga.WaitForURLAsync($"**/projects/{project.Id}/people");
        var ann2Row = olga.Locator(".people-table tr[data-user='ann2']");
        await ann2Row.WaitForAsync(Soon);
        Assert.Equal(new[] { "2", "0.667" }, new[] { await ann2Row.Locator("td[data-col='imagesSubmitted']").InnerTextAsync(), await ann2Row.Locator("td[data-col='gtF1']").InnerTextAsync() });
        Assert.Equal("fast with a low GT F1", await ann2Row.Locator("[data-col='flags'] .flag-chip").InnerTextAsync());
        await olga.Locator(".worth-a-look li[data-user='ann2']", new() { HasText = "fast with a low GT F1" }).WaitForAsync(Soon);
        var ann1Row = olga.Locator(".people-table tr[data-user='ann1']");
        Assert.Equal(new[] { "2", "1.000", "50%" }, new[] { await ann1Row.Locator("td[data-col='imagesSubmitted']").InnerTextAsync(),
            await ann1Row.Locator("td[data-col='gtF1']").InnerTextAsync(), (await ann1Row.Locator("td[data-col='firstPassAcceptance']").InnerTextAsync()).Split(' ')[0] });
        Assert.Equal(0, await ann1Row.Locator(".flag-chip").CountAsync());
        Assert.Contains("format=csv", await olga.GetByRole(AriaRole.Link, new() { Name = "Download CSV" }).GetAttributeAsync("href"));
        // Both charts drawn: a point per person with active time and GT F1, a bar per person.
        var scatter = olga.Locator("canvas.people-scatter[data-drawn]");
        await scatter.WaitForAsync(Soon);
        Assert.Equal(new[] { "ann1", "ann2" }, (await scatter.GetAttributeAsync("data-rows"))!.Split('\n').Order());
        var bars = olga.Locator("canvas.people-bars[data-drawn]");
        await bars.WaitForAsync(Soon);
        Assert.Contains("ann2", (await bars.GetAttributeAsync("data-rows"))!.Split('\n'));
        // Sorting by a column reorders the table; a range with nobody's work says so (and stays in the address).
        await olga.Locator(".people-table th button", new() { HasText = "GT F1" }).ClickAsync();
        await olga.Locator(".people-table tbody tr").First.And(olga.Locator("[data-user='ann1']")).WaitForAsync(Soon);
        await Screenshot(olga, "people.png");
        await olga.GetByLabel("From", new() { Exact = true }).FillAsync("2099-01-01");
        await olga.WaitForURLAsync(new Regex("people\\?from=2099-01-01$"));
        await olga.Locator("section[aria-label='No figures']").WaitForAsync(Soon);
        await olga.GetByRole(AriaRole.Button, new() { Name = "all time" }).ClickAsync();
        await ann2Row.WaitForAsync(Soon);

        // Bias: each person's objects as submitted (ann1 car car person, ann2 car person); too few to test at the default 20.
        var bias = olga.Locator("section[aria-label='Label mix and box sizes against the team']");
        var ann1Bias = bias.Locator("tr[data-user='ann1']");
        await ann1Bias.WaitForAsync(Soon);
        Assert.Equal(new[] { "3", "—" }, new[] { await ann1Bias.Locator("td[data-col='objects']").InnerTextAsync(), await ann1Bias.Locator("td[data-col='labelP']").InnerTextAsync() });
        // At least 1 object and p below 0.9: [[2, 1], [1, 1]] is χ² 0.139, p 0.709, so both are flagged (the flags' own words).
        await bias.GetByLabel("Least objects").FillAsync("1");
        await bias.GetByLabel("Least objects").PressAsync("Tab");
        await bias.GetByLabel("Significance level").FillAsync("0.9");
        await bias.GetByLabel("Significance level").PressAsync("Tab");
        await olga.WaitForURLAsync(new Regex("people\\?alpha=0.9&minObjects=1$"));
        await bias.Locator(".bias-flags li[data-user='ann2']", new() { HasText = "label mix differs from the rest of the team" }).WaitForAsync(Soon);
        Assert.Equal("0.709", await bias.Locator("tr[data-user='ann2'] td[data-col='labelP']").InnerTextAsync());
        Assert.Equal("0.709", await ann1Bias.Locator("td[data-col='labelP']").InnerTextAsync());
        Assert.EndsWith($"/projects/{project.Id}?annotator=ann2", await bias.Locator("tr[data-user='ann2'] th a").GetAttributeAsync("href"));

        // Drill-down: ann2's bar opens the grid of the images ann2 submitted.
        await ClickChart(olga.Locator("canvas.people-bars"), "ann2");
        await olga.WaitForURLAsync($"**/projects/{project.Id}?annotator=ann2");
        SameImages([p2, p3], await GridImages(olga));
        Assert.Equal("ann2", await olga.GetByLabel("Annotator").InputValueAsync());
        await olga.Locator(".image-total", new() { HasText = "2 images match" }).WaitForAsync(Soon);

        // --- Health: never run; a run shows its progress, then the figures
        await olga.GetByRole(AriaRole.Link, new() { Name = "Health →" }).ClickAsync();
        await olga.WaitForURLAsync($"**/projects/{project.Id}/health");
        await olga.Locator(".health-status", new() { HasText = "Never run" }).WaitForAsync(Soon);
        await olga.GetByRole(AriaRole.Button, new() { Name = "Run health check" }).ClickAsync();
        await Toast(olga, "Health check done: 7 images, 1 near-duplicate pair(s)");
        await olga.Locator(".health-status[data-status='done']").WaitForAsync(Soon);
        // The planted pair, side by side; a leak badge exactly when the export (val 0.2, seed 0) splits the two.
        var pair = olga.Locator(".dup-pair");
        await pair.First.WaitForAsync(Soon);
        Assert.Equal(1, await pair.CountAsync());
        SameImages([p0, copyId], new[] { await pair.GetAttributeAsync("data-a"), await pair.GetAttributeAsync("data-b") }.Select(s => Guid.Parse(s!)));
        bool leak = ExportSplit.Of(p0, 0.2, 0) != ExportSplit.Of(copyId, 0.2, 0);
        Assert.Equal(leak ? 1 : 0, await pair.Locator(".leak-badge").CountAsync());
        // Class counts per split, drawn; heatmaps for both labels.
        var classes = olga.Locator("canvas.health-classes[data-drawn]");
        await classes.WaitForAsync(Soon);
        Assert.Equal(new[] { "car", "person" }, (await classes.GetAttributeAsync("data-rows"))!.Split('\n').Order());
        await olga.Locator("figure.heatmap[data-label='car'] canvas[data-drawn='true']").WaitForAsync(Soon);
        await olga.Locator("figure.heatmap[data-label='person'] canvas[data-drawn='true']").WaitForAsync(Soon);
        await olga.Locator(".dup-facts", new() { HasText = Path.GetFileName(Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().First()) }).WaitForAsync(Soon);
        await olga.Locator(".toast").WaitForAsync(new() { State = WaitForSelectorState.Hidden, Timeout = 10_000 }); // not over the pair
        await Screenshot(olga, "health.png");

        // Live: work landing while the page is open is counted, and the figures are computed again a moment later
        // (ann1 resubmits the image rev rejected: rework comes first in their queue).
        string? computed = await olga.Locator(".health-status time").GetAttributeAsync("datetime");
        using (var ann1 = _app.Client(_tokens["ann1"]))
        {
            Assert.Equal(p1, await ann1.NextIdAsync(project.Id));
            (await ann1.WorkAsync(p1, "submit")).EnsureSuccessStatusCode();
        }
        await olga.Locator(".health-landed", new() { HasText = "1 change since this run" }).WaitForAsync(Soon);
        await olga.WaitForFunctionAsync("before => { const t = document.querySelector('.health-status time'); return !!t && t.getAttribute('datetime') !== before; }",
            computed, new() { Timeout = 30_000 });
        Assert.Equal(0, await olga.Locator(".health-landed").CountAsync());
        await olga.Locator(".toast").WaitForAsync(new() { State = WaitForSelectorState.Hidden, Timeout = 10_000 }); // not over the charts

        // Drill-down: the car bars open the grid of the images with a car.
        await ClickChart(olga.Locator("canvas.health-classes"), "car");
        await olga.WaitForURLAsync($"**/projects/{project.Id}?label={car}");
        SameImages([p0, p1, p2], await GridImages(olga));
        // Drill-down: the pair opens the grid of those two images, named in a chip that removes the filter.
        await olga.GoBackAsync();
        await olga.WaitForURLAsync($"**/projects/{project.Id}/health");
        await olga.Locator(".dup-pair").ClickAsync();
        await olga.WaitForURLAsync(new Regex($"/projects/{project.Id}\\?ids="));
        var chip = olga.Locator(".ids-chip", new() { HasText = "2 images from near-duplicate pair" });
        await chip.WaitForAsync(Soon);
        SameImages([p0, copyId], await GridImages(olga));
        await chip.GetByRole(AriaRole.Button, new() { Name = "Remove the picked images filter" }).ClickAsync();
        await olga.Locator(".image-total", new() { HasText = "7 images" }).WaitForAsync(Soon);
        Assert.Equal(7, (await GridImages(olga)).Count);
        Assert.EndsWith($"/projects/{project.Id}", olga.Url);
        Assert.Contains(p1, await GridImages(olga));

        // Drill-down: all near-duplicates in the grid, by the Flagged filter (the latest health result's pairs).
        await olga.GotoAsync($"{_url}/projects/{project.Id}/health");
        await olga.Locator(".near-duplicates h3 a.flagged-all", new() { HasText = "all in the grid →" }).ClickAsync();
        await olga.WaitForURLAsync($"**/projects/{project.Id}?flagged=duplicate");
        SameImages([p0, copyId], await GridImages(olga));
        Assert.Equal("duplicate", await olga.GetByLabel("Flagged", new() { Exact = true }).InputValueAsync());
    }
}
