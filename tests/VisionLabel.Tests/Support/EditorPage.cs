using System.Globalization;
using Microsoft.Playwright;

namespace VisionLabel.Tests.Support;

/// <summary>Working the editor in a browser page through what it publishes on its canvas (see web/README.md, test hooks).</summary>
public static class EditorPage
{
    /// <summary>The page's view transform (CSS pixels of the stage), as the editor publishes it on its canvas.</summary>
    public static async Task<(double Scale, double Tx, double Ty)> View(this IPage page)
    {
        var canvas = page.Locator("canvas.base");
        double Get(string? v) => double.Parse(v!, CultureInfo.InvariantCulture);
        return (Get(await canvas.GetAttributeAsync("data-scale")), Get(await canvas.GetAttributeAsync("data-tx")), Get(await canvas.GetAttributeAsync("data-ty")));
    }

    /// <summary>Page coordinates of an image point.</summary>
    public static async Task<(float X, float Y)> OnPage(this IPage page, double ix, double iy)
    {
        var (scale, tx, ty) = await page.View();
        var stage = (await page.Locator(".stage").BoundingBoxAsync())!;
        return ((float)(stage.X + tx + ix * scale), (float)(stage.Y + ty + iy * scale));
    }

    /// <summary>Waits (by event, not polling) until the editor's canvas has these data attributes.</summary>
    public static Task WaitForCanvas(this IPage page, string attributes) =>
        page.Locator($"canvas.base{attributes}").WaitForAsync(new LocatorWaitForOptions { Timeout = 15_000 });

    /// <summary>A left-button drag between two image points.</summary>
    public static async Task Drag(this IPage page, (double X, double Y) from, (double X, double Y) to)
    {
        var (x0, y0) = await page.OnPage(from.X, from.Y);
        var (x1, y1) = await page.OnPage(to.X, to.Y);
        await page.Mouse.MoveAsync(x0, y0);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(x1, y1, new MouseMoveOptions { Steps = 6 });
        await page.Mouse.UpAsync();
    }
}
