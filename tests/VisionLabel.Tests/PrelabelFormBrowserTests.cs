using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The project page's pre-labeling form (issue 27) in a real browser at 1280×720: the model picked, its options
/// (confidence, which images) reach the job — every proposal at or above the confidence chosen, only the new images
/// taken the second time — a running job is cancelled from the page, and the job history lists both.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class PrelabelFormBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        SharedData.Require("models/yolov8n-det-int8-640.onnx");
        _app = await ServedApp.StartAsync("--VisionLabel:Inference:Device=cpu", "--VisionLabel:Jobs:PollInterval=00:00:00.200");
        _http = await _app.AdminsAsync("lee");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private async Task Upload(Guid projectId, IEnumerable<string> files) =>
        (await _http.PostAsync($"/api/projects/{projectId}/images", HttpExtensions.Files(files.Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray()))).EnsureSuccessStatusCode();

    [Fact]
    public async Task Options_reach_the_job_a_running_job_is_cancelled_and_the_history_lists_both()
    {
        var model = await (await _http.UploadModel("yolov8n-det-int8-640.onnx", File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")))).Read<ModelDto>();
        var project = await (await _http.PostJson("/api/projects", new { name = "street", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var photos = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().ToList();
        await Upload(project.Id, photos.Take(12));

        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "lee", $"/projects/{project.Id}");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Pre-labeling" });
        await form.GetByLabel("Model").Locator("option", new() { HasText = "detect" }).WaitForAsync(new() { State = WaitForSelectorState.Attached });
        await form.GetByLabel("Model").SelectOptionAsync(new SelectOptionValue { Value = model.Id.ToString() });
        await form.Locator("summary", new() { HasText = "options" }).ClickAsync();
        await form.GetByLabel("Confidence").FillAsync("0.6");
        await form.GetByLabel("Which images").SelectOptionAsync("new");
        await form.GetByRole(AriaRole.Button, new() { Name = "Pre-label" }).ClickAsync();
        await page.Locator(".job-status", new() { HasText = "completed: 12 of 12" }).WaitForAsync(new() { Timeout = 90_000 });

        // The confidence chosen is the job's: every proposal at 0.6 or more.
        var scores = new List<double>();
        foreach (var image in (await (await _http.GetAsync($"/api/projects/{project.Id}/images?limit=100")).Read<Server.Images.ImagePage>()).Items)
            scores.AddRange((await (await _http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>()).Select(a => a.GetProperty("source").GetProperty("score").GetDouble()));
        Assert.NotEmpty(scores);
        Assert.All(scores, s => Assert.True(s >= 0.6 - 1e-6, $"a proposal at {s} under the confidence chosen"));

        // More images arrive; "new only" takes those alone, and the job is cancelled from the page while it runs.
        await Upload(project.Id, photos.Skip(12).Take(60));
        await form.GetByRole(AriaRole.Button, new() { Name = "Pre-label" }).ClickAsync();
        await form.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await page.Locator(".job-status", new() { HasText = "cancelled" }).WaitForAsync(new() { Timeout = 60_000 });
        var jobs = (await (await _http.GetAsync($"/api/projects/{project.Id}/jobs")).Read<List<JobDto>>()).Where(j => j.Kind == PrelabelJob.JobKind).OrderBy(j => j.CreatedAt).ToList();
        Assert.Equal(2, jobs.Count);
        Assert.Equal((Server.Data.JobStatus.Completed, 12), (jobs[0].Status, jobs[0].Total));
        Assert.Equal((Server.Data.JobStatus.Cancelled, 60), (jobs[1].Status, jobs[1].Total)); // the new images only
        Assert.True(jobs[1].Done < 60, $"cancelled after {jobs[1].Done} of 60");

        // The history lists both, newest first.
        await form.Locator("summary", new() { HasText = "Earlier pre-labeling (2)" }).ClickAsync();
        var rows = form.Locator(".job-history tbody tr");
        Assert.Equal(2, await rows.CountAsync());
        Assert.Equal(jobs[1].Id.ToString(), await rows.Nth(0).GetAttributeAsync("data-job"));
        Assert.Contains("cancelled", await rows.Nth(0).InnerTextAsync());
        Assert.Contains("completed", await rows.Nth(1).InnerTextAsync());
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }
}
