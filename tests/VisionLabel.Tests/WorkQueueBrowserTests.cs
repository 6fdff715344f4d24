using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Work distribution in the browser (issue #22), as project members (not admins) at 1280×720: an annotator pulls work
/// from My work, holds a lease the editor shows and renews, submits with Ctrl+Enter and lands on the next image; a
/// reviewer pulls the submission, rejects it through the dialog; the annotator's bell says so live and My work lists
/// the rework with its reason. Owners distribute work, change the workflow and release leases from the same page.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class WorkQueueBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    /// <summary>olga owns the projects; anya annotates, rita reviews (none is an admin: roles are what they are).</summary>
    private HttpClient _olga = null!, _anya = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        (_browser, _url) = (_app.Browser, _app.Url);
        var tokens = await _app.TokensAsync(false, "olga", "anya", "rita");
        (_olga, _anya) = (_app.Client(tokens["olga"]), _app.Client(tokens["anya"]));
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        _anya?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 10_000 };

    /// <summary>A project of olga's with <paramref name="count"/> images (their ids in queue order: upload order) and anya and rita as members.</summary>
    private async Task<(ProjectDto Project, List<ImageDto> Images)> Project(string name, int count)
    {
        var project = await (await _olga.PostJson("/api/projects", new { name, labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        var files = Enumerable.Range(0, count).Select(i => ($"img{i}.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(320 + i, 240)))).ToArray();
        (await _olga.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).EnsureSuccessStatusCode();
        foreach (var (user, role) in new[] { ("anya", "annotator"), ("rita", "reviewer") })
            (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user, role })).EnsureSuccessStatusCode();
        var images = (await (await _olga.GetAsync($"/api/projects/{project.Id}/images?limit=100")).Read<ImagePage>()).Items.ToList();
        return (project, images);
    }

    private async Task<JsonElement> Work(Guid imageId) =>
        (await (await _olga.GetAsync($"/api/images/{imageId}/work")).Read<JsonElement>()).GetProperty("state");

    private static Task Toast(IPage page, string text) => page.Locator(".toast", new() { HasText = text }).WaitForAsync(Soon);

    [Fact]
    public async Task An_annotator_submits_with_ctrl_enter_a_reviewer_rejects_it_and_the_bell_and_my_work_show_the_rework_live()
    {
        var (project, images) = await Project("queue", 3);
        var (first, second) = (images[0], images[1]);

        // The annotator starts from My work: three images for her, and Start labeling opens the first with her lease.
        var anya = await _browser.NewPageAsync(1280, 720);
        await anya.SignInAsync(_url, "anya", $"/projects/{project.Id}/work");
        await anya.Locator(".counts", new() { HasText = "3 image(s) to annotate" }).WaitForAsync(Soon);
        Assert.Equal(0, await anya.GetByRole(AriaRole.Button, new() { Name = "Start reviewing" }).CountAsync()); // annotators do not review
        await anya.GetByRole(AriaRole.Button, new() { Name = "Start labeling" }).ClickAsync();
        await anya.WaitForURLAsync($"**/images/{first.Id}");
        await anya.WaitForCanvas("[data-ready='true'][data-stage='annotate'][data-lease-holder='anya']");
        // 30 minutes by default, counting down.
        await anya.Locator(".bar .lease", new() { HasTextRegex = new Regex(@"^lease (29|30):\d\d$") }).WaitForAsync(Soon);

        // Some work, then Ctrl+Enter: submitted, and the next image of her queue opens.
        await anya.Keyboard.PressAsync("b");
        await anya.Drag((40, 40), (200, 160));
        await anya.WaitForCanvas("[data-seq='1'][data-pending='0']");
        await anya.Keyboard.PressAsync("Control+Enter");
        await anya.WaitForURLAsync($"**/images/{second.Id}");
        await anya.WaitForCanvas("[data-ready='true'][data-lease-holder='anya']");
        var submitted = await Work(first.Id);
        Assert.Equal(("submitted", "anya"), (submitted.GetProperty("status").GetString(), submitted.GetProperty("submittedBy").GetString()));
        Assert.Equal(JsonValueKind.Null, submitted.GetProperty("leaseHolder").ValueKind); // submitting gave the lease back
        Assert.Equal("anya", (await Work(second.Id)).GetProperty("leaseHolder").GetString());

        // The reviewer starts reviewing from My work: the submission opens; she rejects it through the dialog.
        var rita = await _browser.NewPageAsync(1280, 720);
        await rita.SignInAsync(_url, "rita", $"/projects/{project.Id}/work");
        await rita.Locator(".counts", new() { HasText = "1 to review" }).WaitForAsync(Soon);
        await rita.GetByRole(AriaRole.Button, new() { Name = "Start reviewing" }).ClickAsync();
        await rita.WaitForURLAsync($"**/images/{first.Id}");
        await rita.WaitForCanvas("[data-ready='true'][data-status='submitted'][data-stage='in-review'][data-shapes='1']");
        await rita.GetByRole(AriaRole.Button, new() { Name = "Reject…" }).ClickAsync();
        var dialog = rita.GetByRole(AriaRole.Dialog, new() { Name = "Reject image" });
        await dialog.WaitForAsync(Soon);
        await dialog.GetByLabel("Reason").SelectOptionAsync("loose box");
        await dialog.GetByLabel("Comment for the annotator").FillAsync("the box cuts off the front wheel");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Reject and next" }).ClickAsync();
        // Nothing else waits for review: back on My work, which says so.
        await rita.WaitForURLAsync($"**/projects/{project.Id}/work?done=review");
        await rita.Locator("p.notice", new() { HasText = "Nothing left for you to review" }).WaitForAsync(Soon);
        var rejected = await Work(first.Id);
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        Assert.Equal(("loose box", "the box cuts off the front wheel"),
            (rejected.GetProperty("lastRejection").GetProperty("reason").GetString(), rejected.GetProperty("lastRejection").GetProperty("comment").GetString()));

        // The annotator, still in the editor, sees the bell count it at once (no reload)...
        await anya.Locator("vl-bell .badge[data-unread='1']").WaitForAsync(Soon);
        Assert.EndsWith($"/images/{second.Id}", anya.Url);
        // ...and My work lists the image as rework with the reviewer's reason and comment.
        await anya.GetByRole(AriaRole.Link, new() { Name = "My work" }).ClickAsync();
        await anya.WaitForURLAsync($"**/projects/{project.Id}/work");
        var rework = anya.Locator("section[aria-label='Rework']");
        await rework.Locator($"li[data-image='{first.Id}']", new() { HasText = "loose box" }).WaitForAsync(Soon);
        Assert.Contains("img0.jpg", await rework.InnerTextAsync());
        Assert.Contains("the box cuts off the front wheel", await rework.InnerTextAsync());

        // The bell's item opens the image, marked read: the editor shows why it came back.
        await anya.GetByRole(AriaRole.Button, new() { Name = "Notifications, 1 unread" }).ClickAsync();
        var item = anya.GetByRole(AriaRole.Dialog, new() { Name = "Notifications list" }).Locator(".bell-item.unread", new() { HasText = "rejected img0.jpg" });
        await item.ClickAsync();
        await anya.WaitForURLAsync($"**/images/{first.Id}");
        await anya.Locator(".work-banner.rework", new() { HasText = "loose box" }).WaitForAsync(Soon);
        await anya.Locator("vl-bell .badge").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached, Timeout = 10_000 });
        var bell = await (await _anya.GetAsync("/api/notifications")).Read<JsonElement>();
        Assert.Equal(0, bell.GetProperty("unread").GetInt32());
        Assert.True(_browser.Errors.IsEmpty, string.Join("\n", _browser.Errors));
    }

    [Fact]
    public async Task An_owner_sets_the_workflow_distributes_work_and_releases_a_lease_that_the_open_editor_renews()
    {
        var (project, images) = await Project("team", 4);
        var olga = await _browser.NewPageAsync(1280, 720);
        await olga.SignInAsync(_url, "olga", $"/projects/{project.Id}/work");

        // The workflow form: a refusal says the server's reason; a good one is saved.
        var settings = olga.Locator("form[aria-label='Workflow settings']");
        await settings.WaitForAsync(Soon);
        await settings.GetByLabel("Reject reasons").FillAsync("too dark\nToo Dark");
        await settings.GetByRole(AriaRole.Button, new() { Name = "Save workflow settings" }).ClickAsync();
        await Toast(olga, "the reasons repeat one another");
        await settings.GetByLabel("Reject reasons").FillAsync("too dark\nmissed object");
        await settings.GetByLabel("Lease (seconds)").FillAsync("15");
        await settings.GetByLabel("Allow self-review").CheckAsync();
        await settings.GetByRole(AriaRole.Button, new() { Name = "Save workflow settings" }).ClickAsync();
        await Toast(olga, "Workflow settings saved");
        var workflow = (await (await _olga.GetAsync($"/api/projects/{project.Id}")).Read<JsonElement>()).GetProperty("workflow");
        Assert.Equal((15, true), (workflow.GetProperty("leaseSeconds").GetInt32(), workflow.GetProperty("allowSelfReview").GetBoolean()));
        Assert.Equal(["too dark", "missed object"], workflow.GetProperty("rejectReasons").EnumerateArray().Select(r => r.GetString()));

        // Distribute 3 images to annotate among anya alone: the people table counts them.
        var distribute = olga.Locator("form[aria-label='Distribute work']");
        await distribute.GetByLabel("How many images").FillAsync("3");
        await distribute.GetByLabel("anya").CheckAsync();
        await distribute.GetByRole(AriaRole.Button, new() { Name = "Distribute" }).ClickAsync();
        await Toast(olga, "Assigned 3 image(s) to annotate: anya 3");
        await olga.Locator(".people tr[data-user='anya'] td:nth-child(3)", new() { HasText = "3" }).WaitForAsync(Soon);

        // anya takes her first assignment in the editor: the open editor keeps renewing her 15 s lease (every 5 s).
        var anya = await _browser.NewPageAsync(1280, 720);
        await anya.SignInAsync(_url, "anya", $"/projects/{project.Id}/work");
        await anya.Locator("section[aria-label='Assigned to me'] li").Nth(2).WaitForAsync(Soon);
        await anya.GetByRole(AriaRole.Button, new() { Name = "Start labeling" }).ClickAsync();
        await anya.WaitForURLAsync($"**/images/{images[0].Id}");
        await anya.WaitForCanvas("[data-ready='true'][data-lease-holder='anya']");
        var canvas = anya.Locator("canvas.base");
        foreach (var _ in Enumerable.Range(0, 2)) // two renewals in a row, each pushing the end further
        {
            string before = (await canvas.GetAttributeAsync("data-lease-expires"))!;
            await anya.WaitForFunctionAsync("before => Date.parse(document.querySelector('canvas.base').dataset.leaseExpires) > Date.parse(before)", before,
                new() { Timeout = 10_000 });
        }
        Assert.Equal("anya", (await Work(images[0].Id)).GetProperty("leaseHolder").GetString());

        // The owner sees who holds what, and releases it: anya's editor follows live.
        await olga.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        var lease = olga.Locator($".leases tr[data-image='{images[0].Id}']");
        await lease.Locator("td:nth-child(2)", new() { HasText = "anya" }).WaitForAsync(Soon);
        await lease.GetByRole(AriaRole.Button, new() { Name = "Release" }).ClickAsync();
        await Toast(olga, "anya's lease released");
        await anya.WaitForCanvas("[data-lease-holder='']");
        Assert.Equal(JsonValueKind.Null, (await Work(images[0].Id)).GetProperty("leaseHolder").ValueKind);
        // The only console error: the refused settings' 400.
        Assert.True(_browser.Errors.All(e => e.Contains("status of 400")), string.Join("\n", _browser.Errors));
    }
}
