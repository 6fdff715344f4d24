using System.Text.Json;
using Microsoft.Playwright;

namespace VisionLabel.Tests.Support;

/// <summary>What the browser tests of the chart pages (People, Health, Models) do with them: click a chart where its
/// test hook says a name is drawn, read the grid a drill-down opens, and keep a screenshot for the docs.</summary>
public static class ChartPages
{
    /// <summary>Clicks a chart where its test hook says the name is drawn.</summary>
    public static async Task ClickChart(ILocator canvas, string name)
    {
        var targets = JsonSerializer.Deserialize<JsonElement>((await canvas.GetAttributeAsync("data-targets"))!);
        var target = targets.EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);
        await canvas.ClickAsync(new() { Position = new() { X = target.GetProperty("x").GetSingle(), Y = target.GetProperty("y").GetSingle() } });
    }

    /// <summary>The images the project grid shows, once the filter's first page has arrived.</summary>
    public static async Task<HashSet<Guid>> GridImages(IPage page)
    {
        await page.Locator(".vgrid[data-loaded='true']").WaitForAsync(new() { State = WaitForSelectorState.Attached, Timeout = 15_000 }); // no height when empty
        var ids = await page.Locator(".vcell[data-image]").EvaluateAllAsync<string[]>("cells => cells.map(c => c.dataset.image).filter(Boolean)");
        return ids.Select(Guid.Parse).ToHashSet();
    }

    public static void SameImages(IEnumerable<Guid> expected, IEnumerable<Guid> actual) =>
        Assert.True(expected.ToHashSet().SetEquals(actual), $"expected {string.Join(", ", expected)}; the grid shows {string.Join(", ", actual)}");

    /// <summary>A screenshot that is not blank; written to docs/ when VISIONLABEL_DOC_SCREENSHOTS=1 (README.md shows them).</summary>
    public static async Task Screenshot(IPage page, string name)
    {
        byte[] png = await page.ScreenshotAsync();
        Assert.True(png.Length > 10_000, $"{name}: the screenshot is blank");
        if (Environment.GetEnvironmentVariable("VISIONLABEL_DOC_SCREENSHOTS") == "1")
            await File.WriteAllBytesAsync(Path.Combine(SharedData.RepositoryRoot, "docs", name), png);
    }
}
