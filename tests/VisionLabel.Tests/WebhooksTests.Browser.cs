using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Webhooks;

namespace VisionLabel.Tests;

public partial class WebhooksTests
{
    /// <summary>The owners' page in chromium against the server as users run it: add (secret once), log, redeliver, delete.</summary>
    [Trait("Tier", Tiers.Browser)]
    public class InTheBrowser : IAsyncLifetime
    {
        private ServedApp _app = null!;
        private HttpClient _olga = null!;

        public async ValueTask InitializeAsync()
        {
            _app = await ServedApp.StartAsync("--VisionLabel:Webhooks:AllowedHosts:0=127.0.0.1");
            _olga = _app.Client((await _app.TokensAsync(false, "olga", "anya"))["olga"]);
        }

        public async ValueTask DisposeAsync()
        {
            _olga?.Dispose();
            if (_app is not null) await _app.DisposeAsync();
        }

        private static readonly Microsoft.Playwright.LocatorWaitForOptions Soon = new() { Timeout = 15_000 };

        private static Task Toast(Microsoft.Playwright.IPage page, string text) => page.Locator(".toast", new() { HasText = text }).WaitForAsync(Soon);

        [Fact]
        public async Task An_owner_adds_a_hook_sees_its_secret_once_reads_the_log_redelivers_and_deletes_it()
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            var project = await (await _olga.PostJson("/api/projects", new { name = "hooked" })).Read<ProjectDto>();
            var page = await _app.Browser.NewPageAsync(1280, 800);
            await page.SignInAsync(_app.Url, "olga", $"/projects/{project.Id}");
            await page.GetByRole(Microsoft.Playwright.AriaRole.Link, new() { Name = "Webhooks", Exact = true }).ClickAsync();
            await page.WaitForURLAsync($"**/projects/{project.Id}/webhooks");

            await page.GetByLabel("Payload URL").FillAsync(receiver.Url);
            await page.Locator("input[name=events][value='member.added']").CheckAsync();
            await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
            await Toast(page, "copy its secret now");
            string secret = await page.Locator("code.secret").InnerTextAsync();
            Assert.Matches("^[0-9a-f]{64}$", secret);
            Assert.True(await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Copy" }).IsVisibleAsync());

            // An event: the receiver gets it signed with the secret the page showed.
            (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user = "anya", role = "annotator" })).EnsureSuccessStatusCode();
            var got = (await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") == "member.added")).Single();
            Assert.Equal(Signature(secret, got.Body), got.Header("X-VisionLabel-Signature"));
            await page.ReloadAsync(); // the secret is gone for good; the list shows the last delivery
            await page.Locator("section[aria-label='Webhooks'] td", new() { HasText = "succeeded" }).WaitForAsync(Soon);
            Assert.Equal(0, await page.Locator("code.secret").CountAsync());
            Assert.DoesNotContain(secret, await page.ContentAsync());

            await page.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Delivery log" }).ClickAsync();
            await Toast(page, "Delivery log of");
            var log = page.Locator("section[aria-label='Delivery log']");
            await log.GetByRole(Microsoft.Playwright.AriaRole.Cell, new() { Name = "member.added", Exact = true }).WaitForAsync(Soon);
            await log.GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Redeliver" }).ClickAsync();
            await Toast(page, "queued again");
            await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") == "member.added", count: 2);

            page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
            await page.Locator("section[aria-label='Webhooks']").GetByRole(Microsoft.Playwright.AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
            await Toast(page, "Deleted the webhook");
            await page.Locator("section[aria-label='Webhooks']", new() { HasText = "None yet." }).WaitForAsync(Soon);
            Assert.Empty(await (await _olga.GetAsync($"/api/projects/{project.Id}/webhooks")).Read<List<WebhookDto>>());
            Assert.Empty(_app.Browser.Errors);
        }
    }
}
