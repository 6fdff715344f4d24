using System.Text;
using Microsoft.Playwright;
using VisionLabel.Server.Annotations;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The Models page's "Import predictions" form (issue 27, docs/models-in-the-loop.md) in the browser, as project members:
/// the owner imports a COCO results file with one good and one bad row, sees the report (created, the refused row with
/// its field) and a toast, and the page switches to the imported model; a viewer has no form.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public sealed class PredictionsImportBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _olga = null!;
    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 15_000 };

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        var tokens = await _app.TokensAsync(false, "olga", "vic");
        _olga = _app.Client(tokens["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    [Fact]
    public async Task An_owner_imports_predictions_on_the_models_page_and_reads_the_report()
    {
        var (project, image) = await _olga.ProjectWithImage("browser predictions", ["cat", "dog"], 640, 480);
        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "olga", $"/projects/{project.Id}/models");
        var form = page.Locator("form.predictions-import");
        await form.WaitForAsync(Soon);
        await form.GetByLabel("Model name").FillAsync("my-detector");
        await form.GetByLabel("Format").SelectOptionAsync("coco");
        const string results = """
            [{"file_name": "scene.jpg", "category_id": 2, "bbox": [10, 20, 30, 40], "score": 0.8},
             {"file_name": "scene.jpg", "category_id": 99, "bbox": [10, 20, 30, 40], "score": 0.8}]
            """;
        await form.GetByLabel("File").SetInputFilesAsync(new FilePayload { Name = "results.json", MimeType = "application/json", Buffer = Encoding.UTF8.GetBytes(results) });
        await form.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();

        var report = page.Locator(".predictions-report");
        await report.WaitForAsync(Soon);
        Assert.Contains("1 created on 1 image from 2 rows", await report.InnerTextAsync());
        var refused = report.Locator(".predictions-refused tbody tr");
        Assert.Equal(1, await refused.CountAsync());
        Assert.Contains("category_id", await refused.InnerTextAsync());
        await page.Locator(".toast", new() { HasText = "1 proposal of my-detector on 1 image; 1 row refused" }).WaitForAsync(Soon);
        // The page shows the imported model (its outcomes counted from now on).
        await page.Locator(".models-controls .summary strong", new() { HasText = "my-detector" }).WaitForAsync(Soon);
        Assert.Equal("my-detector", await page.GetByLabel("Model", new() { Exact = true }).InputValueAsync());

        var stored = await (await _olga.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<AnnotationDto>>();
        Assert.Equal(("my-detector", project.Labels[1].Id), (Assert.Single(stored).Source.ModelId, stored[0].LabelId));

        // A viewer reads the page without the form.
        (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user = "vic", role = "viewer" })).EnsureSuccessStatusCode();
        var vic = await _app.Browser.NewPageAsync(1280, 720);
        await vic.SignInAsync(_app.Url, "vic", $"/projects/{project.Id}/models");
        await vic.Locator(".models-controls .summary strong", new() { HasText = "my-detector" }).WaitForAsync(Soon);
        Assert.Equal(0, await vic.Locator("form.predictions-import").CountAsync());
    }
}
