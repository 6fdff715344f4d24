using Microsoft.Playwright;
using VisionLabel.Server.Annotations;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The editor's history panel (issue #27) in a browser at 1280×720: opened by its shortcut, it lists who did what;
/// clicking an early entry shows the image as it was then, read only, under a banner; a live op by someone else lands
/// at the top of the list meanwhile (and in the live state underneath); Esc or "Back to now" shows the live state again.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class HistoryBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _owner = null!, _annotator = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        var tokens = await _app.TokensAsync(false, "olga", "ann");
        _owner = _app.Client(tokens["olga"]);
        _annotator = _app.Client(tokens["ann"]);
    }

    public async ValueTask DisposeAsync()
    {
        _owner?.Dispose();
        _annotator?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    [Fact]
    public async Task The_history_panel_shows_who_did_what_and_the_state_then()
    {
        var (project, image) = await _owner.ProjectWithImage("history", ["car", "person"], 400, 300);
        (await _owner.PostJson($"/api/projects/{project.Id}/members", new { user = "ann", role = "annotator" })).EnsureSuccessStatusCode();
        string annotations = $"/api/images/{image.Id}/annotations";
        // 1: olga draws a car; 2: ann a person; 3: ann moves it.
        (await _owner.PostJson(annotations, new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 20, y = 20, width = 60, height = 40 } })).EnsureSuccessStatusCode();
        var person = await (await _annotator.PostJson(annotations, new { labelId = project.Labels[1].Id, kind = "box", geometry = new { x = 150, y = 60, width = 50, height = 50 } })).Read<AnnotationDto>();
        (await _annotator.PatchJson($"{annotations}/{person.Id}", new { version = 1, geometry = new { x = 160, y = 60, width = 50, height = 50 } })).EnsureSuccessStatusCode();

        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "olga", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true'][data-shapes='2'][data-seq='3']");

        // The shortcut is in the ? help, and opens the panel: newest first, with the authors.
        await page.Keyboard.PressAsync("?");
        await page.Locator(".help tr", new() { HasText = "history" }).Locator("kbd", new() { HasTextString = "Y" }).WaitForAsync();
        await page.Keyboard.PressAsync("Escape");
        await page.Keyboard.PressAsync("y");
        var entries = page.Locator(".history-entry");
        await entries.Nth(2).WaitForAsync();
        Assert.Equal(["3", "2", "1"], await entries.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.seq)"));
        Assert.Contains("ann", await entries.Nth(0).InnerTextAsync());
        Assert.Contains("moved/reshaped", await entries.Nth(0).InnerTextAsync());
        Assert.Contains("created box person", await entries.Nth(1).InnerTextAsync());
        var first = await entries.Nth(2).InnerTextAsync();
        Assert.Contains("olga", first);
        Assert.Contains("created box car", first);
        Assert.True(await entries.Nth(2).IsVisibleAsync()); // fits beside the image at 1280×720

        // The first entry: one shape then, read only, under a banner.
        await entries.Nth(2).ClickAsync();
        await page.WaitForCanvas("[data-viewing='1'][data-shapes='1'][data-read-only='true']");
        var banner = page.Locator(".history-banner");
        Assert.Contains("Viewing the state after #1 by olga", await banner.InnerTextAsync());
        Assert.Equal("1", await page.Locator(".objects").GetAttributeAsync("data-rows"));
        Assert.True(await page.GetByRole(AriaRole.Button, new() { Name = "Box B", Exact = true }).IsDisabledAsync());
        await page.Keyboard.PressAsync("b");
        await page.Locator(".toast", new() { HasText = "viewing the state after #1" }).WaitForAsync();

        // Meanwhile ann adds a shape: it tops the list, and lands in the live state underneath (seq 4), not on show.
        (await _annotator.PostJson(annotations, new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 250, y = 200, width = 40, height = 40 } })).EnsureSuccessStatusCode();
        await page.Locator(".history-entry[data-seq='4']", new() { HasText = "ann" }).WaitForAsync();
        Assert.Equal("4", await entries.Nth(0).GetAttributeAsync("data-seq"));
        await page.WaitForCanvas("[data-viewing='1'][data-shapes='1'][data-seq='4']");

        // Esc: back to now, with ann's new shape; editing is allowed again.
        await page.Keyboard.PressAsync("Escape");
        await page.WaitForCanvas("[data-viewing=''][data-shapes='3'][data-read-only='false']");
        Assert.Equal(0, await banner.CountAsync());
        Assert.False(await page.GetByRole(AriaRole.Button, new() { Name = "Box B", Exact = true }).IsDisabledAsync());

        // Another entry, and the banner's button back.
        await page.Locator(".history-entry[data-seq='2']").ClickAsync();
        await page.WaitForCanvas("[data-viewing='2'][data-shapes='2']");
        await banner.GetByRole(AriaRole.Button, new() { Name = "Back to now" }).ClickAsync();
        await page.WaitForCanvas("[data-viewing=''][data-shapes='3']");

        Assert.Equal(3, (await (await _owner.GetAsync(annotations)).Read<List<AnnotationDto>>()).Count); // viewing changed nothing
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }
}
