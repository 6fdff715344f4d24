using Microsoft.Playwright;

namespace VisionLabel.Tests.Support;

/// <summary>
/// Debian's chromium driven by Microsoft.Playwright (its bundled driver; nothing is downloaded), one browser per
/// test class. Tests that need it skip with a message when chromium or the built web app is missing.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    public const string Chromium = "/usr/bin/chromium";
    private readonly IPlaywright _playwright;
    public IBrowser Instance { get; }

    private Browser(IPlaywright playwright, IBrowser browser) => (_playwright, Instance) = (playwright, browser);

    public static async Task<Browser> LaunchAsync()
    {
        if (!File.Exists(Chromium)) Requirement.Missing($"needs {Chromium} (apt-get install chromium; tests/run installs it as root)");
        if (!File.Exists(Path.Combine(SharedData.RepositoryRoot, "web", "dist", "index.html")))
            Requirement.Missing("needs the built web app (web/build.sh; tests/run builds it)");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        });
        return new Browser(playwright, browser);
    }

    /// <summary>Script errors and console errors of every page, for failure messages.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Errors { get; } = new();

    /// <summary>A fresh browser context (its own storage: another person) with a page.</summary>
    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Instance.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => Errors.Enqueue($"page error: {error}");
        page.Console += (_, message) => { if (message.Type == "error") Errors.Enqueue($"console: {message.Text}"); };
        return page;
    }

    public async ValueTask DisposeAsync()
    {
        await Instance.DisposeAsync();
        _playwright.Dispose();
    }
}

public static class SignInSteps
{
    /// <summary>Signs in through the /signin page as a person would (password manager fields), then lands on <paramref name="path"/>.</summary>
    public static async Task SignInAsync(this IPage page, string url, string user, string path = "/")
    {
        await page.GotoAsync($"{url}/signin?return={Uri.EscapeDataString(path)}");
        await page.Locator("input[autocomplete=username]").FillAsync(user);
        await page.Locator("input[autocomplete=current-password]").FillAsync(TestAccounts.Password);
        await page.Locator("form button[type=submit]").ClickAsync();
        await page.WaitForURLAsync(u => new Uri(u).PathAndQuery == path, new PageWaitForURLOptions { Timeout = 15_000 });
    }
}
