using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.ModelLoop;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;
using static VisionLabel.Tests.Support.ChartPages;

namespace VisionLabel.Tests;

/// <summary>
/// A two-model comparison in the browser at 1280×720 (issue #25, docs/models-in-the-loop.md), as project members: the
/// owner picks a real YOLO detector and segmenter and starts a comparison on three coco128 photos from the Models page's
/// "Compare models →"; the page follows the job over /hubs/live until the pairs are ready. A reviewer judges the three
/// pairs blinded with the keys and the buttons (A with a reason, B, both bad with a reason), is told when every pair is
/// judged, and the leaderboard shows the API's figures; a model's bar shows its judgements; the owner's JSONL export
/// downloads one line per judgement with the choices and reasons given (a reviewer has no export).
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class ComparisonBrowserTests : IAsyncLifetime
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
        _tokens = await _app.TokensAsync(false, "olga", "rita");
        _olga = _app.Client(_tokens["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 60_000 };

    [Fact]
    public async Task An_owner_starts_a_comparison_a_reviewer_judges_it_blind_and_the_leaderboard_and_export_follow()
    {
        var detector = await (await _olga.UploadModel("yolov8n-det-int8-640.onnx", File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")))).Read<ModelDto>();
        var segmenter = await (await _olga.UploadModel("yolo11n-seg-int8-640.onnx", File.ReadAllBytes(SharedData.Require("models/yolo11n-seg-int8-640.onnx")))).Read<ModelDto>();
        var project = await (await _olga.PostJson("/api/projects", new { name = "compare", labels = detector.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(3).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        (await _olga.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).EnsureSuccessStatusCode();
        (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user = "rita", role = "reviewer" })).EnsureSuccessStatusCode();

        var olga = await _browser.NewPageAsync(1280, 720);
        var rita = await _browser.NewPageAsync(1280, 720);
        try { await Pages(olga, rita, project, detector, segmenter); }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Exception($"{e.Message}\nthe pages were at {olga.Url} and {rita.Url}\nbrowser errors:\n{string.Join("\n", _browser.Errors)}", e);
        }
        Assert.True(_browser.Errors.IsEmpty, string.Join("\n", _browser.Errors));
    }

    private async Task Pages(IPage olga, IPage rita, ProjectDto project, ModelDto detector, ModelDto segmenter)
    {
        // --- the owner starts it from the Models page
        await olga.SignInAsync(_url, "olga", $"/projects/{project.Id}/models");
        await olga.GetByRole(AriaRole.Link, new() { Name = "Compare models →" }).ClickAsync();
        var start = olga.Locator(".comparison-start");
        await start.GetByLabel("yolov8n-det-int8-640", new() { Exact = false }).CheckAsync();
        await start.GetByLabel("yolo11n-seg-int8-640", new() { Exact = false }).CheckAsync();
        await start.GetByLabel("Images").FillAsync("3");
        await start.GetByLabel("Name").FillAsync("detector vs segmenter");
        await start.GetByRole(AriaRole.Button, new() { Name = "Start comparison" }).ClickAsync();
        await olga.Locator(".toast", new() { HasTextString = "Comparison started" }).WaitForAsync();
        // The job's end arrives over /hubs/live and the page reads the comparison again.
        await olga.Locator(".comparison-summary .status-chip.ready").WaitForAsync(Soon);
        var summary = await olga.Locator(".comparison-summary").InnerTextAsync();
        Assert.Contains("detector vs segmenter", summary);
        Assert.Contains("3 images (random sample), 3 pairs", summary);
        Assert.DoesNotContain("left out", summary);

        // --- the reviewer judges the three pairs blind: A with "missed objects" by keys, B by the button, both bad with "false positives"
        await rita.SignInAsync(_url, "rita", $"/projects/{project.Id}/comparisons");
        await rita.GetByRole(AriaRole.Link, new() { Name = "Judge pairs →" }).ClickAsync();
        var progress = rita.Locator(".judge-progress");
        await progress.Filter(new() { HasTextString = "judged 0, 3 left" }).WaitForAsync();
        var ready = rita.Locator(".choice[data-choice='A']:not([disabled])"); // the pair's photo is drawn: it can be judged
        Assert.DoesNotContain(detector.Name, await rita.Locator("main").InnerTextAsync()); // blinded: A and B only
        await ready.WaitForAsync();
        await rita.Keyboard.PressAsync("q");
        Assert.Equal("true", await rita.Locator(".reason.on").GetAttributeAsync("aria-pressed"));
        await rita.Keyboard.PressAsync("1");
        await progress.Filter(new() { HasTextString = "judged 1, 2 left" }).WaitForAsync();
        await ready.WaitForAsync();
        await rita.GetByRole(AriaRole.Button, new() { Name = "B is better" }).ClickAsync();
        await progress.Filter(new() { HasTextString = "judged 2, 1 left" }).WaitForAsync();
        await ready.WaitForAsync();
        await rita.GetByRole(AriaRole.Button, new() { Name = "false positives" }).ClickAsync();
        await rita.GetByRole(AriaRole.Button, new() { Name = "Both bad" }).ClickAsync();
        await rita.Locator(".judge-done").WaitForAsync();
        await rita.GetByRole(AriaRole.Link, new() { Name = "See the leaderboard →" }).ClickAsync();

        // --- the leaderboard shows the API's figures
        var comparisons = await (await _olga.GetAsync($"/api/projects/{project.Id}/comparisons")).Read<List<JsonElement>>();
        var id = Assert.Single(comparisons).GetProperty("id").GetGuid();
        var report = await (await _olga.GetAsync($"/api/projects/{project.Id}/comparisons/{id}")).Read<JsonElement>();
        await rita.Locator(".judgement-count", new() { HasTextString = "3" }).WaitForAsync();
        foreach (var row in report.GetProperty("leaderboard").EnumerateArray())
        {
            var tr = rita.Locator($".leaderboard tr[data-model='{row.GetProperty("modelId").GetGuid()}']");
            Assert.Equal($"{row.GetProperty("wins")} / {row.GetProperty("losses")} / {row.GetProperty("ties")} / {row.GetProperty("bothBad")}",
                (await tr.Locator(".wltb").InnerTextAsync()).Trim());
            Assert.Equal($"{row.GetProperty("winRate").GetDouble() * 100:0.0}%", (await tr.Locator(".win-rate").InnerTextAsync()).Trim());
            Assert.StartsWith($"{(row.GetProperty("score").GetDouble() >= 0 ? "+" : "")}{row.GetProperty("score").GetDouble():0.00}", (await tr.Locator(".bt-score").InnerTextAsync()).Trim());
        }
        Assert.Equal(3, await rita.Locator(".judgements tbody tr").CountAsync());
        // A model's bar: the judgements it was in (with two models, all of them), said in the heading.
        await rita.Locator("canvas.leaderboard-chart[data-targets]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await ClickChart(rita.Locator("canvas.leaderboard-chart"), segmenter.Name);
        await rita.Locator(".judgements-card h3", new() { HasTextString = $"with {segmenter.Name}" }).WaitForAsync();
        await Screenshot(rita, "comparisons.png");

        // --- the JSONL export (owners: it names which model made which output) downloads one line per judgement
        Assert.Equal(0, await rita.GetByRole(AriaRole.Link, new() { Name = "Export JSONL" }).CountAsync());
        await olga.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await olga.Locator(".judgement-count", new() { HasTextString = "3" }).WaitForAsync();
        var download = await olga.RunAndWaitForDownloadAsync(() => olga.GetByRole(AriaRole.Link, new() { Name = "Export JSONL" }).ClickAsync());
        var lines = (await File.ReadAllLinesAsync((await download.PathAsync())!)).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["A", "B", "bothBad"], lines.Select(l => l.GetProperty("choice").GetString()));
        Assert.Equal([["missedObjects"], [], ["falsePositives"]], lines.Select(l => l.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToArray()));
        Assert.All(lines, l => Assert.Equal("rita", l.GetProperty("judge").GetString()));
        Assert.Equal(3, lines.Select(l => l.GetProperty("imageId").GetGuid()).Distinct().Count());
    }
}
