using System.Text.Json;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Honeypots, onboarding and consensus in the browser (docs/quality.md), as project members (not admins) at 1280×720:
/// the owner turns them on in My work's workflow form (a bad quorum is refused beside its field); an annotator sees
/// her onboarding, gets a honeypot, submits it wrong and reads the feedback dialog's hints, and is sent back to My work
/// with the queue's refusal; the owner finds the truth questioned on the Quality page and the copies in the editor.
/// A reviewer takes a merged image whose annotators disagreed with Adjudicate next, reads the Consensus panel, opens a
/// copy from it, and approves the merged result.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class QualityControlBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    /// <summary>olga owns the projects; anya and bob annotate, rita reviews.</summary>
    private Dictionary<string, HttpClient> _as = null!;
    private HttpClient Olga => _as["olga"];

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        (_browser, _url) = (_app.Browser, _app.Url);
        var tokens = await _app.TokensAsync(false, "olga", "anya", "bob", "rita");
        _as = tokens.ToDictionary(t => t.Key, t => _app.Client(t.Value));
    }

    public async ValueTask DisposeAsync()
    {
        if (_as is not null) foreach (var client in _as.Values) client.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private static readonly LocatorWaitForOptions Soon = new() { Timeout = 10_000 };
    private static Task Toast(IPage page, string text) => page.Locator(".toast", new() { HasText = text }).WaitForAsync(Soon);

    /// <summary>A project of olga's (labels car, truck) with <paramref name="count"/> 320×240 images (by file name) and these members.</summary>
    private async Task<(ProjectDto Project, Dictionary<string, Guid> Images)> Project(string name, int count, params (string User, string Role)[] members)
    {
        var project = await (await Olga.PostJson("/api/projects", new { name, labels = new[] { new { name = "car" }, new { name = "truck" } } })).Read<ProjectDto>();
        var files = Enumerable.Range(0, count).Select(i => ($"img{i}.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(320, 240 + i)))).ToArray();
        (await Olga.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).EnsureSuccessStatusCode();
        foreach (var (user, role) in members)
            (await Olga.PostJson($"/api/projects/{project.Id}/members", new { user, role })).EnsureSuccessStatusCode();
        var images = (await (await Olga.GetAsync($"/api/projects/{project.Id}/images?limit=100")).Read<ImagePage>()).Items.ToDictionary(i => i.FileName, i => i.Id);
        return (project, images);
    }

    private static object Box(Guid label, double x, double y, double w, double h) => new { labelId = label, kind = "box", geometry = new { x, y, width = w, height = h } };

    /// <summary>Ground truth as an owner makes it (HoneypotTests.TruthAsync): label, approve (review sample 0), copy the approved annotations.</summary>
    private async Task TruthAsync(Guid projectId, Guid image, params object[] boxes)
    {
        foreach (var box in boxes) (await Olga.PostJson($"/api/images/{image}/annotations", box)).EnsureSuccessStatusCode();
        (await Olga.WorkflowAsync(projectId, new { reviewPercent = 0 })).EnsureSuccessStatusCode();
        (await Olga.WorkAsync(image, "submit")).EnsureSuccessStatusCode();
        (await Olga.PostJson($"/api/images/{image}/ground-truth/from-approved", new { })).EnsureSuccessStatusCode();
        (await Olga.WorkflowAsync(projectId, new { reviewPercent = 100 })).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task An_annotator_fails_an_onboarding_honeypot_reads_its_hints_and_the_owner_sees_the_truth_questioned()
    {
        var (project, images) = await Project("honeypots", 3, ("anya", "annotator"), ("bob", "annotator"));
        var car = project.Labels.Single(l => l.Name == "car").Id;
        var truth = images["img0.jpg"];
        await TruthAsync(project.Id, truth, Box(car, 40, 40, 160, 120));

        // The owner turns honeypots and onboarding on in My work: a quorum of 0 is refused beside its field as it is typed.
        var olga = await _browser.NewPageAsync(1280, 720);
        await olga.SignInAsync(_url, "olga", $"/projects/{project.Id}/work");
        var settings = olga.Locator("form[aria-label='Workflow settings']");
        await settings.WaitForAsync(Soon);
        await settings.GetByLabel("Quorum").FillAsync("0");
        await settings.Locator("#wf-quorum-error", new() { HasText = "is a share above 0 and at most 1, not 0" }).WaitForAsync(Soon);
        Assert.Equal("true", await settings.GetByLabel("Quorum").GetAttributeAsync("aria-invalid"));
        await settings.GetByLabel("Quorum").FillAsync("0.5");
        await settings.Locator("#wf-quorum-error").WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = 10_000 });
        await settings.GetByLabel("Honeypot %").FillAsync("100");
        await settings.GetByLabel("Onboarding images").FillAsync("1");
        await settings.GetByRole(AriaRole.Button, new() { Name = "Save workflow settings" }).ClickAsync();
        await Toast(olga, "Workflow settings saved");
        var workflow = (await (await Olga.GetAsync($"/api/projects/{project.Id}")).Read<JsonElement>()).GetProperty("workflow");
        Assert.Equal((100, 1, 0.5), (workflow.GetProperty("honeypotPercent").GetInt32(), workflow.GetProperty("onboardingImages").GetInt32(), workflow.GetProperty("quorum").GetDouble()));

        // The annotator sees her onboarding, and Start labeling gives her a honeypot: a private copy of the truth image.
        var anya = await _browser.NewPageAsync(1280, 720);
        await anya.SignInAsync(_url, "anya", $"/projects/{project.Id}/work");
        var onboarding = anya.Locator("section[aria-label='Onboarding']");
        await onboarding.Locator(".onboarding-figures", new() { HasText = "0 of 1 honeypot(s) done" }).WaitForAsync(Soon);
        Assert.Contains("not passed yet", await onboarding.InnerTextAsync());
        await anya.GetByRole(AriaRole.Button, new() { Name = "Start labeling" }).ClickAsync();
        await anya.WaitForURLAsync(u => u.Contains("/images/") && !images.Values.Any(id => u.Contains(id.ToString())));
        await anya.WaitForCanvas("[data-ready='true'][data-stage='annotate'][data-lease-holder='anya']");
        Assert.Equal(0, await anya.Locator("section[aria-label='Consensus']").CountAsync()); // copies are not for annotators

        // She boxes a car where there is none and submits: the dialog says the score and the hints before anything else.
        await anya.Keyboard.PressAsync("b");
        await anya.Drag((220, 170), (310, 230));
        await anya.WaitForCanvas("[data-seq='1'][data-pending='0']");
        await anya.Keyboard.PressAsync("Control+Enter");
        var dialog = anya.GetByRole(AriaRole.Dialog, new() { Name = "Honeypot: F1 0.00 — below the bar 0.80" });
        await dialog.WaitForAsync(Soon);
        Assert.Equal(["missed objects: 1 × car", "extra objects: 1 × car"], await dialog.GetByRole(AriaRole.Listitem).AllInnerTextsAsync());
        Assert.Equal("Continue to the next image", await anya.EvaluateAsync<string>("() => document.activeElement.textContent"));
        var box = (await dialog.BoundingBoxAsync())!;
        Assert.True(box.Y >= 0 && box.Y + box.Height <= 720 && box.X >= 0 && box.X + box.Width <= 1280, $"the dialog is off screen: {box.X},{box.Y} {box.Width}×{box.Height}");
        Assert.Contains("/images/", anya.Url); // nothing moves on until she has read it

        // Enter closes it and asks for the next image: none is left to onboard with, and My work says why.
        await anya.Keyboard.PressAsync("Enter");
        await anya.WaitForURLAsync($"**/projects/{project.Id}/work");
        await onboarding.Locator(".onboarding-refused", new() { HasText = "0.00, below the project's 0.80" }).WaitForAsync(Soon);
        await onboarding.Locator(".onboarding-figures", new() { HasText = "1 of 1 honeypot(s) done" }).WaitForAsync(Soon);
        Assert.Contains("mean F1 0.00", await onboarding.Locator(".onboarding-figures").InnerTextAsync());

        // bob misses the car too (an empty answer): two of the three scored submissions of img0 missed it (olga's matched).
        var bob = _as["bob"];
        (await bob.WorkAsync((await bob.NextIdAsync(project.Id))!.Value, "submit")).EnsureSuccessStatusCode();

        // The owner's Quality page questions the truth; its row opens the image, whose Consensus panel lists both copies.
        await olga.GotoAsync($"{_url}/projects/{project.Id}/quality");
        var flags = olga.Locator("section[aria-label='Ground truth under question']");
        var row = flags.Locator($"tr[data-image='{truth}']");
        await row.Locator("td[data-col='missed']", new() { HasText = "2" }).WaitForAsync(Soon);
        Assert.Equal(["car", "3", "2", "67%"], (await row.Locator("td").AllInnerTextsAsync()).Select(t => t.Trim()));
        await row.GetByRole(AriaRole.Link, new() { Name = "img0.jpg" }).ClickAsync();
        await olga.WaitForURLAsync($"**/images/{truth}");
        await olga.WaitForCanvas("[data-ready='true']");
        var consensus = olga.Locator("section[aria-label='Consensus']");
        await consensus.Locator("li[data-owner='bob']", new() { HasText = "F1 0.00" }).WaitForAsync(Soon);
        Assert.Contains("honeypot", await consensus.Locator("li[data-owner='anya']").InnerTextAsync());
        // The only console error: the queue's 409 (onboarding not passed).
        Assert.True(_browser.Errors.Count == 1 && _browser.Errors.All(e => e.Contains("status of 409")), string.Join("\n", _browser.Errors));
    }

    [Fact]
    public async Task A_reviewer_adjudicates_a_merged_image_from_the_consensus_panel()
    {
        var (project, images) = await Project("consensus", 1, ("anya", "annotator"), ("bob", "annotator"), ("rita", "reviewer"));
        var car = project.Labels.Single(l => l.Name == "car").Id;
        var image = images["img0.jpg"];
        (await Olga.WorkflowAsync(project.Id, new { overlap = 2, quorum = 0.5, agreementThreshold = 0.8 })).EnsureSuccessStatusCode();
        // anya and bob each box a car, far apart: agreement 0, and the merged image (both boxes, one vote each of two) waits for adjudication.
        var copies = new Dictionary<string, Guid>();
        foreach (var (who, x) in new[] { ("anya", 10.0), ("bob", 200.0) })
        {
            var copy = (await _as[who].NextIdAsync(project.Id))!.Value;
            (await _as[who].PostJson($"/api/images/{copy}/annotations", Box(car, x, 10, 60, 60))).EnsureSuccessStatusCode();
            (await _as[who].WorkAsync(copy, "submit")).EnsureSuccessStatusCode();
            copies[who] = copy;
        }

        // The reviewer: Adjudicate next opens the merged image; the Consensus panel says why it is hers.
        var rita = await _browser.NewPageAsync(1280, 720);
        await rita.SignInAsync(_url, "rita", $"/projects/{project.Id}/work");
        await rita.GetByRole(AriaRole.Button, new() { Name = "Adjudicate next" }).ClickAsync();
        await rita.WaitForURLAsync($"**/images/{image}");
        await rita.WaitForCanvas("[data-ready='true'][data-status='submitted'][data-shapes='2'][data-lease-holder='rita']");
        var consensus = rita.Locator("section[aria-label='Consensus']");
        await consensus.Locator(".adjudicate-chip", new() { HasText = "needs adjudication" }).WaitForAsync(Soon);
        Assert.Contains("Agreement 0.00 (0%)", await consensus.Locator(".agreement").InnerTextAsync());
        foreach (var who in new[] { "anya", "bob" })
            Assert.Contains("1 shape(s)", await consensus.Locator($"li[data-owner='{who}']").InnerTextAsync());

        // A copy opens from the panel, read-only, with the way back.
        await consensus.GetByRole(AriaRole.Link, new() { Name = "Open anya's consensus share" }).ClickAsync();
        await rita.WaitForURLAsync($"**/images/{copies["anya"]}?copyOf={image}");
        await rita.WaitForCanvas("[data-ready='true'][data-status='approved'][data-shapes='1'][data-read-only='true']");
        await consensus.GetByRole(AriaRole.Link, new() { Name = "← the image it copies" }).ClickAsync();
        await rita.WaitForURLAsync($"**/images/{image}");
        await rita.WaitForCanvas("[data-ready='true'][data-lease-holder='rita']");

        // Approve and next goes on with the adjudication queue: nothing else waits there.
        await consensus.Locator(".agreement").WaitForAsync(Soon);
        await rita.GetByRole(AriaRole.Button, new() { Name = "Approve and next" }).ClickAsync();
        await rita.WaitForURLAsync($"**/projects/{project.Id}/work?done=adjudicate");
        await rita.Locator("p.notice", new() { HasText = "Nothing left for you to adjudicate" }).WaitForAsync(Soon);
        Assert.Equal("approved", await Olga.StageAsync(image));
        Assert.True(_browser.Errors.IsEmpty, string.Join("\n", _browser.Errors));
    }
}
