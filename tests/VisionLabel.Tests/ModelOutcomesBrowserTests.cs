using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.ModelLoop;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;
using static VisionLabel.Tests.Support.ChartPages;

namespace VisionLabel.Tests;

/// <summary>
/// The Models page (issue #25, docs/models-in-the-loop.md) in the browser at 1280×720, as project members (not admins):
/// a real YOLO model pre-labels four coco128 photos with people in them; the owner decides some proposals over REST
/// (accepted, edited, relabeled, rejected; every proposal on one image decided) and draws a box by hand. The page shows
/// the API's figures (the label and score-band charts' rows, the totals, each label's recommended threshold, the time
/// saved), a label's bars open the grid of exactly the images with that label and proposals waiting, a band's bars the
/// grid of that score range; the People page shows the owner's share of proposals accepted unchanged; a viewer reaches
/// the page from the project page; a project without proposals says how to get some. With
/// VISIONLABEL_DOC_SCREENSHOTS=1 it writes docs/models.png (README.md shows it).
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class ModelOutcomesBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    private Dictionary<string, string> _tokens = null!;
    private HttpClient _olga = null!;

    public async ValueTask InitializeAsync()
    {
        SharedData.Require("datasets/coco128");
        SharedData.Require("models/yolov8n-det-int8-640.onnx");
        _app = await ServedApp.StartAsync("--VisionLabel:Inference:Device=cpu", "--VisionLabel:Jobs:PollInterval=00:00:00.200");
        (_browser, _url) = (_app.Browser, _app.Url);
        _tokens = await _app.TokensAsync(false, "olga", "vic");
        _olga = _app.Client(_tokens["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 15_000 };

    private async Task<List<AnnotationDto>> Annotations(Guid image) =>
        await (await _olga.GetAsync($"/api/images/{image}/annotations")).Read<List<AnnotationDto>>();

    private async Task Patch(AnnotationDto a, object changes) =>
        (await _olga.PatchJson($"/api/images/{a.ImageId}/annotations/{a.Id}", changes)).EnsureSuccessStatusCode();

    private async Task<HashSet<Guid>> ApiImages(Guid projectId, string query) =>
        (await (await _olga.GetAsync($"/api/projects/{projectId}/images?limit=100&{query}")).Read<ImagePage>()).Items.Select(i => i.Id).ToHashSet();

    [Fact]
    public async Task The_models_page_shows_the_outcomes_the_API_counts_and_drills_down_to_the_grid()
    {
        // --- the model, a project with its class names, four photos with people in them (coco128's labels: class 0)
        var model = await (await _olga.UploadModel("yolov8n-det-int8-640.onnx", File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")))).Read<ModelDto>();
        var project = await (await _olga.PostJson("/api/projects", new { name = "outcomes", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        string labelsDir = SharedData.Require("datasets/coco128/labels/train2017");
        var photos = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order()
            .Where(p => File.Exists(Path.Combine(labelsDir, Path.ChangeExtension(Path.GetFileName(p), ".txt"))) &&
                        File.ReadLines(Path.Combine(labelsDir, Path.ChangeExtension(Path.GetFileName(p), ".txt"))).Any(l => l.StartsWith("0 ")))
            .Take(4).Select(p => (Path.GetFileName(p), File.ReadAllBytes(p))).ToArray();
        (await _olga.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(photos))).EnsureSuccessStatusCode();
        var images = (await ApiImages(project.Id, "")).Order().ToList();
        var response = await _olga.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(JobStatus.Completed, (await _olga.WaitForJob((await response.Read<JobDto>()).Id)).Status);

        // --- the script: the label proposed on the most images is the drill-down's; every proposal on its first image is
        // decided (one of that label accepted, the rest rejected) so that image has none waiting, and a box of the label is
        // drawn there by hand (missed); on its second image one proposal of another label is edited, one relabeled, one rejected.
        var proposals = new List<AnnotationDto>();
        foreach (var image in images) proposals.AddRange(await Annotations(image));
        var target = proposals.GroupBy(p => p.LabelId).OrderByDescending(g => g.Select(p => p.ImageId).Distinct().Count()).ThenByDescending(g => g.Count()).First();
        var targetImages = target.Select(p => p.ImageId).Distinct().OrderBy(i => images.IndexOf(i)).ToList();
        Assert.True(targetImages.Count >= 2, $"the model proposed no label on two of the photos ({proposals.Count} proposals)");
        Guid label = target.Key, first = targetImages[0], second = targetImages[1];
        var onFirst = proposals.Where(p => p.ImageId == first).ToList();
        var kept = onFirst.First(p => p.LabelId == label);
        await Patch(kept, new { version = kept.Version, state = "accepted" });
        foreach (var other in onFirst.Where(p => p.Id != kept.Id)) await Patch(other, new { version = other.Version, state = "rejected" });
        (await _olga.PostJson($"/api/images/{first}/annotations", new { labelId = label, kind = "box", geometry = new { x = 5, y = 5, width = 40, height = 60 } })).EnsureSuccessStatusCode();
        var others = proposals.Where(p => p.ImageId == second && p.LabelId != label).ToList();
        if (others.ElementAtOrDefault(0) is { } edited)
            await Patch(edited, new { version = edited.Version, state = "accepted", geometry = new {
                x = edited.Geometry.GetProperty("x").GetDouble() + 3, y = edited.Geometry.GetProperty("y").GetDouble() + 2,
                width = edited.Geometry.GetProperty("width").GetDouble() - 4, height = edited.Geometry.GetProperty("height").GetDouble() - 4 } });
        if (others.ElementAtOrDefault(1) is { } relabeled) await Patch(relabeled, new { version = relabeled.Version, state = "accepted", labelId = label });
        if (others.ElementAtOrDefault(2) is { } rejected) await Patch(rejected, new { version = rejected.Version, state = "rejected" });

        // What the page should show: the API's figures, read after the script.
        var byLabel = await (await _olga.GetAsync($"/api/projects/{project.Id}/models/{model.Id}/outcomes?groupBy=label")).Read<OutcomeReport>();
        var byBand = await (await _olga.GetAsync($"/api/projects/{project.Id}/models/{model.Id}/outcomes?groupBy=scoreBand")).Read<OutcomeReport>();
        // The drill-down's images, from the annotations: the label accepted or proposed, and some proposal still waiting.
        var now = new Dictionary<Guid, List<AnnotationDto>>();
        foreach (var image in images) now[image] = await Annotations(image);
        var withLabelWaiting = now.Where(kv => kv.Value.Any(a => a.LabelId == label && a.State is AnnotationState.Accepted or AnnotationState.Proposed)
                                               && kv.Value.Any(a => a.State == AnnotationState.Proposed)).Select(kv => kv.Key).ToHashSet();
        Assert.DoesNotContain(first, withLabelWaiting);
        Assert.Contains(second, withLabelWaiting);
        SameImages(withLabelWaiting, await ApiImages(project.Id, $"label={label}&hasProposals=true"));

        var olga = await _browser.NewPageAsync(1280, 720);
        try { await Pages(olga, project, model, label, byLabel, byBand, withLabelWaiting); }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Exception($"{e.Message}\nthe page was at {olga.Url}\nbrowser errors:\n{string.Join("\n", _browser.Errors)}", e);
        }
        Assert.True(_browser.Errors.IsEmpty, string.Join("\n", _browser.Errors));
    }

    private static void Near(double? expected, string shown, string what)
    {
        if (expected is null) Assert.True(shown == "—", $"{what}: expected none, shown {shown}");
        else Assert.True(Math.Abs(double.Parse(shown, CultureInfo.InvariantCulture) - expected.Value) <= 0.0005, $"{what}: expected {expected}, shown {shown}");
    }

    private async Task Pages(IPage olga, ProjectDto project, ModelDto model, Guid label, OutcomeReport byLabel, OutcomeReport byBand, HashSet<Guid> withLabelWaiting)
    {
        // --- from the project page to the Models page: the model picked and kept in the address
        await olga.SignInAsync(_url, "olga", $"/projects/{project.Id}");
        await olga.GetByRole(AriaRole.Link, new() { Name = "Models →" }).ClickAsync();

        // Both charts drawn with the API's rows, in its order.
        var labels = olga.Locator("canvas.model-labels[data-drawn]");
        await labels.WaitForAsync(Soon);
        Assert.EndsWith($"/projects/{project.Id}/models?model={model.Id}", olga.Url);
        Assert.Equal(model.Id.ToString(), await olga.GetByLabel("Model", new() { Exact = true }).InputValueAsync());
        Assert.Equal(byLabel.Rows.Select(r => r.Label ?? r.Key), (await labels.GetAttributeAsync("data-rows"))!.Split('\n'));
        var bands = olga.Locator("canvas.model-bands[data-drawn]");
        await bands.WaitForAsync(Soon);
        Assert.Equal(byBand.Rows.Select(r => r.Key), (await bands.GetAttributeAsync("data-rows"))!.Split('\n'));

        // The totals.
        var t = byLabel.Totals;
        var totals = new Dictionary<string, long>
        {
            ["proposals"] = t.AcceptedUnchanged + t.Edited + t.Relabeled + t.Rejected + t.Pending, ["acceptedUnchanged"] = t.AcceptedUnchanged, ["edited"] = t.Edited,
            ["relabeled"] = t.Relabeled, ["rejected"] = t.Rejected, ["pending"] = t.Pending, ["missed"] = t.Missed,
        };
        foreach (var (key, value) in totals)
            Assert.Equal(value.ToString(CultureInfo.InvariantCulture), await olga.Locator($".model-totals .stat[data-key='{key}'] strong").InnerTextAsync());
        Assert.True(t.Missed >= 1 && t.Rejected >= 1 && t.AcceptedUnchanged >= 1, "the script decided proposals and drew a box");

        // Each label's recommended threshold.
        var rows = olga.Locator(".thresholds-table tbody tr");
        Assert.Equal(byLabel.Thresholds.Count, await rows.CountAsync());
        foreach (var advice in byLabel.Thresholds)
        {
            var row = olga.Locator($".thresholds-table tr[data-label='{advice.Label}']");
            Task<string> Cell(string col) => row.Locator($"td[data-col='{col}']").InnerTextAsync();
            Near(advice.Threshold, await Cell("threshold"), $"{advice.Label} threshold");
            Near(advice.F1, await Cell("f1"), $"{advice.Label} F1");
            Near(advice.Precision, await Cell("precision"), $"{advice.Label} precision");
            Near(advice.Recall, await Cell("recall"), $"{advice.Label} recall");
            Assert.Equal(new[] { advice.Kept.ToString(), advice.Wrong.ToString(), advice.Missed.ToString() }, new[] { await Cell("kept"), await Cell("wrong"), await Cell("missed") });
        }

        // The time saved, worded as an estimate, with its two per-object figures.
        var saved = byLabel.TimeSaved;
        await olga.Locator(".time-saved h3", new() { HasText = "an estimate" }).WaitForAsync(Soon);
        string? seconds = await olga.Locator(".time-saved .saved").GetAttributeAsync("data-seconds");
        if (saved.SavedSeconds is { } s) Near(s, seconds!, "saved seconds");
        else Assert.Contains("Not estimated yet", await olga.Locator(".time-saved .saved").InnerTextAsync());
        string PerObject(double? v) => v is { } x ? $"{x.ToString("0.0", CultureInfo.InvariantCulture)} s" : "—";
        Assert.Equal(PerObject(saved.HandSecondsPerObject), await olga.Locator(".time-saved .stat[data-key='hand'] strong").InnerTextAsync());
        Assert.Equal(PerObject(saved.ModelSecondsPerObject), await olga.Locator(".time-saved .stat[data-key='model'] strong").InnerTextAsync());
        await Screenshot(olga, "models.png");

        // --- drill-down: the label's bars open the grid of exactly its images with proposals waiting
        string name = byLabel.Rows.Single(r => r.LabelId == label).Label!;
        await ClickChart(olga.Locator("canvas.model-labels"), name);
        await olga.WaitForURLAsync($"**/projects/{project.Id}?label={label}&hasProposals=true");
        SameImages(withLabelWaiting, await GridImages(olga));
        Assert.Equal(label.ToString(), await olga.GetByLabel("Label", new() { Exact = true }).InputValueAsync());
        Assert.Equal("true", await olga.GetByLabel("Proposals", new() { Exact = true }).InputValueAsync());

        // A score band's bars: the grid of the images with a model score in the band and proposals waiting (the API's list of the same).
        await olga.GoBackAsync();
        await olga.Locator("canvas.model-bands[data-drawn]").WaitForAsync(Soon);
        var band = byBand.Rows.Last(r => r.ScoreBand is not null);
        await ClickChart(olga.Locator("canvas.model-bands"), band.Key);
        await olga.WaitForURLAsync(new Regex($"/projects/{project.Id}\\?hasProposals=true&minScore=[0-9.]+&maxScore=[0-9.]+$"));
        var query = new Uri(olga.Url).Query.TrimStart('?');
        var q = System.Web.HttpUtility.ParseQueryString(query);
        Assert.Equal(band.ScoreBand!.Value, double.Parse(q["minScore"]!, CultureInfo.InvariantCulture), 6);
        Assert.Equal(Math.Min(1, band.ScoreBand.Value + 0.1), double.Parse(q["maxScore"]!, CultureInfo.InvariantCulture), 6);
        SameImages(await ApiImages(project.Id, query), await GridImages(olga));

        // --- People: the owner's share of the proposals they decided that were accepted unchanged
        var me = (await (await _olga.GetAsync($"/api/projects/{project.Id}/analytics/people")).Read<JsonElement>()).GetProperty("people").EnumerateArray()
            .Single(p => p.GetProperty("user").GetString() == "olga");
        await olga.GotoAsync($"{_url}/projects/{project.Id}/people");
        var cell = olga.Locator(".people-table tr[data-user='olga'] td[data-col='proposalsAcceptedUnchanged']");
        await cell.WaitForAsync(Soon);
        Assert.Equal($"{Math.Round(me.GetProperty("proposalsAcceptedUnchanged").GetDouble() * 100, MidpointRounding.AwayFromZero)}%", await cell.InnerTextAsync());
        Assert.StartsWith($"{me.GetProperty("proposalsDecided").GetInt32()} proposal", await cell.GetAttributeAsync("title"));

        // --- a project without proposals: the page says how to get some
        var empty = await (await _olga.PostJson("/api/projects", new { name = "empty", labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        await olga.GotoAsync($"{_url}/projects/{empty.Id}/models");
        await olga.Locator(".models-empty", new() { HasText = "Pre-label" }).WaitForAsync(Soon);
        Assert.EndsWith($"/projects/{empty.Id}/models", olga.Url);

        // --- a viewer reaches the page from the project page and reads the same thresholds
        (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user = "vic", role = "viewer" })).EnsureSuccessStatusCode();
        var vic = await _browser.NewPageAsync(1280, 720);
        await vic.SignInAsync(_url, "vic", $"/projects/{project.Id}");
        await vic.GetByRole(AriaRole.Link, new() { Name = "Models →" }).ClickAsync();
        await vic.Locator($".thresholds-table tr[data-label='{name}']").WaitForAsync(Soon);
        Assert.EndsWith($"/projects/{project.Id}/models?model={model.Id}", vic.Url);
        Assert.Equal(byLabel.Thresholds.Count, await vic.Locator(".thresholds-table tbody tr").CountAsync());
    }
}
