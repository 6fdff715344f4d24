using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Archiving in the web app (issue 27), at 1280×720: an image from the editor after confirming (a dismissed confirmation
/// keeps it in the grid), found again with the grid's "archived" filter and unarchived from the editor; a project from its
/// page, found again under "Archived projects" and unarchived there.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class ArchiveBrowserTests : IAsyncLifetime
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
    public async Task Owners_archive_and_unarchive_images_and_projects()
    {
        var project = await (await _owner.PostJson("/api/projects", new { name = "garden", labels = new[] { new { name = "tree" } } })).Read<ProjectDto>();
        var ids = await _owner.UploadImagesAsync(project.Id, 2);
        var page = await _app.Browser.NewPageAsync(1280, 720);
        var answers = new Queue<bool>();
        page.Dialog += async (_, dialog) => { if (answers.Dequeue()) await dialog.AcceptAsync(); else await dialog.DismissAsync(); };

        await page.SignInAsync(_app.Url, "olga", $"/images/{ids[0]}");
        await page.WaitForCanvas("[data-ready='true']");
        var archive = page.GetByRole(AriaRole.Button, new() { Name = "Archive image…" });
        answers.Enqueue(false);
        await archive.ClickAsync();
        Assert.Null((await (await _owner.GetAsync($"/api/images/{ids[0]}")).Read<ImageDto>()).ArchivedAt);
        answers.Enqueue(true);
        await archive.ClickAsync();
        await page.WaitForURLAsync($"**/projects/{project.Id}");
        await page.Locator(".image-total", new() { HasText = "1 image" }).WaitForAsync();
        Assert.NotNull((await (await _owner.GetAsync($"/api/images/{ids[0]}")).Read<ImageDto>()).ArchivedAt);

        // The grid's "archived" filter lists it; the editor says so and unarchives it.
        await page.GetByLabel("Archived images").CheckAsync();
        await page.Locator(".image-total", new() { HasText = "1 image match" }).WaitForAsync();
        await page.GotoAsync($"{_app.Url}/images/{ids[0]}");
        await page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Archived: out of the grid" }).WaitForAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Unarchive image" }).ClickAsync();
        await page.Locator(".toast", new() { HasText = "back in the grid" }).WaitForAsync();
        Assert.Null((await (await _owner.GetAsync($"/api/images/{ids[0]}")).Read<ImageDto>()).ArchivedAt);

        // The project: archived from its page (after confirming), listed under "Archived projects", unarchived there.
        await page.GotoAsync($"{_app.Url}/projects/{project.Id}");
        await page.Locator("summary", new() { HasText = "and settings" }).ClickAsync();
        answers.Enqueue(true);
        await page.GetByRole(AriaRole.Button, new() { Name = "Archive project…" }).ClickAsync();
        await page.WaitForURLAsync(u => new Uri(u).AbsolutePath == "/");
        await page.Locator(".toast", new() { HasText = "garden archived" }).WaitForAsync();
        Assert.Equal(0, await page.Locator("main > .card a", new() { HasText = "garden" }).CountAsync());
        await page.Locator(".archived-projects summary").ClickAsync();
        await page.Locator(".archived-project", new() { HasText = "garden" }).GetByRole(AriaRole.Button, new() { Name = "Unarchive" }).ClickAsync();
        await page.Locator("main > .card a", new() { HasText = "garden" }).WaitForAsync();
        Assert.Null((await (await _owner.GetAsync($"/api/projects/{project.Id}")).Read<ProjectDto>()).ArchivedAt);
        Assert.Empty(answers);
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }
}
