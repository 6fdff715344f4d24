using System.Net;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Deleting in the web app (issue 27), owners only and never without asking, in a real browser at 1280×720: an image
/// from the editor (a dismissed confirmation keeps it), a project from its page after typing its name (a wrong name
/// keeps it); an annotator is offered neither, and the server refuses them anyway.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class DeleteBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _owner = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        _owner = _app.Client((await _app.TokensAsync(false, "olga"))["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _owner?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    [Fact]
    public async Task Owners_delete_images_and_projects_after_confirming_and_annotators_cannot()
    {
        var project = await (await _owner.PostJson("/api/projects", new { name = "yard", labels = new[] { new { name = "tree" } } })).Read<ProjectDto>();
        var photos = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().Take(2).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        (await _owner.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(photos))).EnsureSuccessStatusCode();
        var images = (await (await _owner.GetAsync($"/api/projects/{project.Id}/images")).Read<ImagePage>()).Items;
        var annotator = _app.Client((await _app.TokensAsync(false, "ann"))["ann"]);
        (await _owner.PostJson($"/api/projects/{project.Id}/members", new { user = "ann", role = "annotator" })).EnsureSuccessStatusCode();

        var page = await _app.Browser.NewPageAsync(1280, 720);
        // Each native dialog (confirm, prompt) gets the next answer: true/false for a confirmation, a string for a prompt.
        var answers = new Queue<object>();
        var asked = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            asked.Add(dialog.Message);
            var answer = answers.Dequeue();
            if (answer is false) await dialog.DismissAsync();
            else await dialog.AcceptAsync(answer as string);
        };

        // An image: the confirmation dismissed keeps it; accepted, it is gone and the grid is where the editor goes.
        await page.SignInAsync(_app.Url, "olga", $"/images/{images[0].Id}");
        await page.WaitForCanvas("[data-ready='true']");
        var deleteImage = page.GetByRole(AriaRole.Button, new() { Name = "Delete image…" });
        answers.Enqueue(false);
        await deleteImage.ClickAsync();
        Assert.Contains(images[0].FileName, asked[^1]);
        Assert.Equal(HttpStatusCode.OK, (await _owner.GetAsync($"/api/images/{images[0].Id}")).StatusCode);
        answers.Enqueue(true);
        await deleteImage.ClickAsync();
        await page.WaitForURLAsync($"**/projects/{project.Id}");
        await page.Locator(".image-total", new() { HasText = "1 image" }).WaitForAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await _owner.GetAsync($"/api/images/{images[0].Id}")).StatusCode);

        // An annotator is not offered it, and the server refuses it.
        var annPage = await _app.Browser.NewPageAsync(1280, 720);
        await annPage.SignInAsync(_app.Url, "ann", $"/images/{images[1].Id}");
        await annPage.WaitForCanvas("[data-ready='true']");
        Assert.Equal(0, await annPage.GetByRole(AriaRole.Button, new() { Name = "Delete image…" }).CountAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.DeleteAsync($"/api/images/{images[1].Id}")).StatusCode);
        await annPage.GotoAsync($"{_app.Url}/projects/{project.Id}");
        await annPage.Locator(".image-total", new() { HasText = "1 image" }).WaitForAsync();
        Assert.Equal(0, await annPage.GetByRole(AriaRole.Button, new() { Name = "Delete project…" }).CountAsync());
        Assert.Equal(HttpStatusCode.Forbidden, (await annotator.DeleteAsync($"/api/projects/{project.Id}")).StatusCode);

        // The project: a wrong name keeps it; its name deletes it, and the project list is where the page goes.
        await page.Locator("summary", new() { HasText = "and settings" }).ClickAsync();
        var deleteProject = page.GetByRole(AriaRole.Button, new() { Name = "Delete project…" });
        answers.Enqueue("yarn");
        await deleteProject.ClickAsync();
        await page.Locator(".toast", new() { HasText = "Not deleted" }).WaitForAsync();
        Assert.Equal(HttpStatusCode.OK, (await _owner.GetAsync($"/api/projects/{project.Id}")).StatusCode);
        answers.Enqueue("yard");
        await deleteProject.ClickAsync();
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/");
        Assert.Equal(HttpStatusCode.NotFound, (await _owner.GetAsync($"/api/projects/{project.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _owner.GetAsync($"/api/images/{images[1].Id}")).StatusCode);
        Assert.Empty(answers);
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }
}
