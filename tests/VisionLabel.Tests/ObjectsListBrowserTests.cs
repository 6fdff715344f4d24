using Microsoft.Playwright;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Issue 26 in a browser: with many shapes the objects list keeps only a window of rows in the DOM (and scrolling
/// shows later ones), and zoomed in, the canvas draws only the shapes in view (data-drawn, from its spatial index).
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class ObjectsListBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private HttpClient _http = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        _http = await _app.AdminsAsync("setup", "alice");
    }

    public async ValueTask DisposeAsync()
    {
        _http?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    [Fact]
    public async Task Many_shapes_list_only_the_rows_in_view_and_draw_only_the_shapes_in_view()
    {
        const int n = 400; // one REST call each (no bulk route): enough for a list many times its height
        var (project, image) = await _http.ProjectWithImage("many-shapes", ["car"], 2000, 1500);
        for (int i = 0; i < n; i += 8)
            await Task.WhenAll(Enumerable.Range(i, 8).Select(k => _http.PostJson($"/api/images/{image.Id}/annotations",
                new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 20 + k % 20 * 98, y = 20 + k / 20 * 72, width = 60, height = 40 } })));
        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "alice", $"/images/{image.Id}");
        await page.WaitForCanvas($"[data-ready='true'][data-shapes='{n}'][data-drawn='{n}']");

        var list = page.Locator(".objects");
        Assert.Equal(n.ToString(), await list.GetAttributeAsync("data-rows"));
        int rows = await list.Locator(".obj-row").CountAsync();
        Assert.InRange(rows, 1, n / 4); // a window, not every row
        Assert.Equal(0, await list.Locator($".obj-row[data-index='{n - 1}']").CountAsync());
        await list.EvaluateAsync("el => { el.scrollTop = el.scrollHeight; }");
        await list.Locator($".obj-row[data-index='{n - 1}']").WaitForAsync();
        Assert.InRange(await list.Locator(".obj-row").CountAsync(), 1, n / 4);

        // Zoomed in on one corner: the shapes elsewhere are not drawn.
        var (x, y) = await page.OnPage(60, 40);
        await page.Mouse.MoveAsync(x, y);
        for (int i = 0; i < 6; i++) await page.Mouse.WheelAsync(0, -400);
        await page.WaitForFunctionAsync($"() => {{ const c = document.querySelector('canvas.base'); return Number(c.dataset.drawn) > 0 && Number(c.dataset.drawn) < {n / 4}; }}");
        Assert.Equal("main", await page.Locator("canvas.base").GetAttributeAsync("data-renderer"));
    }
}
