using Microsoft.Playwright;
using VisionLabel.Imaging;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Brightness, contrast and gamma in the editor (issue 27): the picture on screen gets brighter with brightness and
/// gamma and flatter with less contrast (measured on screenshots of the stage), the shapes and the stored file do not
/// change, the choice survives a reload, and Reset shows the image as stored.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class ImageAdjustBrowserTests : IAsyncLifetime
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

    /// <summary>Mean and spread (standard deviation) of the stage's pixels on screen.</summary>
    private static async Task<(double Mean, double Spread)> Look(IPage page)
    {
        var png = await page.Locator(".stage").ScreenshotAsync();
        var rgb = ImageCodec.Decode(png, ImageFormat.Png);
        double sum = 0, squares = 0;
        int n = rgb.Width * rgb.Height * 3;
        for (int i = 0; i < n; i++) { sum += rgb.Pixels[i]; squares += (double)rgb.Pixels[i] * rgb.Pixels[i]; }
        double mean = sum / n;
        return (mean, Math.Sqrt(squares / n - mean * mean));
    }

    [Fact]
    public async Task Brightness_contrast_and_gamma_change_the_picture_on_screen_only_and_reset()
    {
        var project = await (await _owner.PostJson("/api/projects", new { name = "dark", labels = new[] { new { name = "tree" } } })).Read<ProjectDto>();
        var photo = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().First();
        (await _owner.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files((Path.GetFileName(photo), File.ReadAllBytes(photo))))).EnsureSuccessStatusCode();
        var image = (await (await _owner.GetAsync($"/api/projects/{project.Id}/images")).Read<ImagePage>()).Items.Single();
        byte[] stored = await _owner.GetByteArrayAsync($"/api/images/{image.Id}/original");

        var page = await _app.Browser.NewPageAsync(1280, 720);
        await page.SignInAsync(_app.Url, "olga", $"/images/{image.Id}");
        await page.WaitForCanvas("[data-ready='true']");
        var before = await Look(page);
        await page.Locator("summary", new() { HasText = "brightness, contrast, gamma" }).ClickAsync();

        await page.GetByLabel("Image brightness").FillAsync("1.5");
        await page.WaitForFunctionAsync("() => document.querySelector('.stage').dataset.imageFilter.includes('brightness(1.5)')");
        var brighter = await Look(page);
        Assert.True(brighter.Mean > before.Mean + 10, $"brightness 1.5: mean {before.Mean:F1} → {brighter.Mean:F1}");

        await page.GetByLabel("Image brightness").FillAsync("1");
        await page.GetByLabel("Image contrast").FillAsync("0.4");
        await page.WaitForFunctionAsync("() => document.querySelector('.stage').dataset.imageFilter === 'contrast(0.4)'");
        var flatter = await Look(page);
        Assert.True(flatter.Spread < before.Spread * 0.8, $"contrast 0.4: spread {before.Spread:F1} → {flatter.Spread:F1}");

        await page.GetByLabel("Image contrast").FillAsync("1");
        await page.GetByLabel("Image gamma").FillAsync("2");
        await page.WaitForFunctionAsync("() => document.querySelector('.stage').dataset.imageFilter === 'url(#vl-gamma)'");
        var lifted = await Look(page);
        Assert.True(lifted.Mean > before.Mean + 10, $"gamma 2: mean {before.Mean:F1} → {lifted.Mean:F1}");

        // Kept across a reload (per browser); the stored file is untouched; Reset shows it as stored.
        await page.ReloadAsync();
        await page.WaitForCanvas("[data-ready='true']");
        Assert.Equal("url(#vl-gamma)", await page.Locator(".stage").GetAttributeAsync("data-image-filter"));
        await page.Locator("summary", new() { HasText = "brightness, contrast, gamma" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Reset" }).ClickAsync();
        Assert.Equal("", await page.Locator(".stage").GetAttributeAsync("data-image-filter"));
        var reset = await Look(page);
        Assert.InRange(reset.Mean, before.Mean - 1, before.Mean + 1);
        Assert.Equal(stored, await _owner.GetByteArrayAsync($"/api/images/{image.Id}/original"));
        Assert.True(_app.Browser.Errors.IsEmpty, string.Join("\n", _app.Browser.Errors));
    }
}
