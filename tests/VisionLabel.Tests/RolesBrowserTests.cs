using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Accounts and roles in a real browser against the server as a user runs it: signing in, projects one belongs to and
/// one does not, members managed on the project page, a viewer's editor without editing tools (and the server refusing
/// an op crafted with the viewer's own session), and a reviewer approving while the annotator watches.
/// </summary>
[Trait("Tier", Tiers.Browser)]
public class RolesBrowserTests : IAsyncLifetime
{
    private ServedApp _app = null!;
    private Browser _browser = null!;
    private string _url = "";
    /// <summary>olga's API client: she owns the projects (not an admin, so roles are what they are).</summary>
    private HttpClient _olga = null!;

    public async ValueTask InitializeAsync()
    {
        _app = await ServedApp.StartAsync();
        (_browser, _url) = (_app.Browser, _app.Url);
        var tokens = await _app.TokensAsync(false, "olga", "vera", "anya", "rita");
        _olga = _app.Client(tokens["olga"]);
    }

    public async ValueTask DisposeAsync()
    {
        _olga?.Dispose();
        if (_app is not null) await _app.DisposeAsync();
    }

    private async Task<ImageDto> ProjectWith(string name, params (string User, string Role)[] members)
    {
        var (project, image) = await _olga.ProjectWithImage(name, ["cat", "dog"], 320, 240);
        foreach (var (user, role) in members)
            await (await _olga.PostJson($"/api/projects/{project.Id}/members", new { user, role })).Read<MemberDto>();
        await _olga.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 20, y = 20, width = 60, height = 40 } });
        return image;
    }

    [Fact]
    public async Task Sign_in_open_a_project_of_yours_be_refused_one_that_is_not_and_manage_members()
    {
        var mine = await ProjectWith("veras-project", ("vera", "viewer"));
        var theirs = await ProjectWith("olgas-only");

        var vera = await _browser.NewPageAsync();
        await vera.GotoAsync($"{_url}/projects/{mine.ProjectId}"); // a deep link while signed out goes to sign-in, and back after
        await vera.WaitForURLAsync("**/signin?return=**");
        await vera.Locator("input[autocomplete=username]").FillAsync("vera");
        await vera.Locator("input[autocomplete=current-password]").FillAsync("wrong password here");
        await vera.Locator("form button[type=submit]").ClickAsync();
        await vera.GetByRole(AriaRole.Alert).GetByText("Wrong user name or password").WaitForAsync();
        await vera.Locator("input[autocomplete=current-password]").FillAsync(TestAccounts.Password);
        await vera.Locator("form button[type=submit]").ClickAsync();
        await vera.WaitForURLAsync($"**/projects/{mine.ProjectId}");
        await vera.GetByText("you are a viewer").WaitForAsync();
        Assert.Equal(0, await vera.Locator("input[type=file]").CountAsync()); // owners' actions (uploads, models, imports) are not offered

        await vera.GotoAsync($"{_url}/");
        await vera.GetByText("veras-project").WaitForAsync();
        Assert.Equal(0, await vera.GetByText("olgas-only").CountAsync());
        await vera.GotoAsync($"{_url}/projects/{theirs.ProjectId}");
        await vera.GetByRole(AriaRole.Alert).GetByText($"No project has id {theirs.ProjectId}").WaitForAsync();

        // The owner adds vera to the other project on its page, as an annotator, then makes her a reviewer.
        var olga = await _browser.NewPageAsync();
        await olga.SignInAsync(_url, "olga", $"/projects/{theirs.ProjectId}");
        var add = olga.Locator("form[aria-label='Add a member']");
        await olga.GetByText("Members (1)").WaitForAsync();
        if (!await add.IsVisibleAsync()) await olga.Locator("details.members summary").ClickAsync(); // open for an owner on their own
        await add.Locator("input[name=user]").FillAsync("vera");
        await add.Locator("select[name=role]").SelectOptionAsync("annotator");
        await add.Locator("button[type=submit]").ClickAsync();
        await olga.GetByText("vera added").WaitForAsync();
        await olga.Locator("select[aria-label='role of vera']").SelectOptionAsync("reviewer");
        await olga.GetByText("vera is now reviewer").WaitForAsync();
        var members = await (await _olga.GetAsync($"/api/projects/{theirs.ProjectId}/members")).Read<List<MemberDto>>();
        Assert.Equal(VisionLabel.Server.Accounts.ProjectRole.Reviewer, members.Single(m => m.UserName == "vera").Role);

        await vera.ReloadAsync();
        await vera.GetByText("you are a reviewer").WaitForAsync();
        // The only console errors: the 401 of the signed-out deep link and the 404s of the project that is not hers.
        Assert.True(_browser.Errors.All(e => e.Contains("401") || e.Contains("404")), string.Join("\n", _browser.Errors));
    }

    [Fact]
    public async Task A_viewer_sees_no_editing_tools_and_an_op_crafted_with_their_session_is_refused()
    {
        var image = await ProjectWith("viewing", ("vera", "viewer"));
        var page = await _browser.NewPageAsync();
        await page.SignInAsync(_url, "vera", $"/images/{image.Id}");
        await page.Locator("canvas.base[data-role='viewer'][data-seq='1']").WaitForAsync();
        await page.GetByText("viewer · read only").WaitForAsync();
        foreach (var tool in new[] { "Box", "Polygon", "Brush", "Eraser", "Comment", "Undo", "Approve", "Submit", "Reject", "Reopen", "Release" })
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = tool, Exact = false }).CountAsync());
        await page.Locator(".stage").FocusAsync();
        await page.Keyboard.PressAsync("b"); // the shortcut says why instead of switching tools
        await page.GetByText("Read only: you are a viewer in this project").WaitForAsync();

        // The same person's session, used by hand: the server refuses the op, whatever the page offers.
        var cookies = await page.Context.CookiesAsync();
        var hub = new HubConnectionBuilder()
            .WithUrl($"{_url}/hubs/annotations", o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
                foreach (var c in cookies) o.Cookies.Add(new System.Net.Cookie(c.Name, c.Value, c.Path, c.Domain));
            }).Build();
        await hub.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            var error = await Assert.ThrowsAsync<Microsoft.AspNetCore.SignalR.HubException>(() => hub.InvokeAsync<object>("Submit",
                new { clientOpId = "crafted-1", imageId = image.Id, type = "delete", annotationId = Guid.NewGuid() }, TestContext.Current.CancellationToken));
            Assert.Contains("403 Annotator role required", error.Message);
        }
        finally { await hub.DisposeAsync(); }
        // And over REST from the page itself, with the antiforgery header the app would send.
        int status = await page.EvaluateAsync<int>(@"async id => {
            const xsrf = decodeURIComponent(document.cookie.split('; ').find(c => c.startsWith('XSRF-TOKEN=')).slice(11));
            const r = await fetch(`/api/images/${id}`, { method: 'DELETE', headers: { 'X-XSRF-TOKEN': xsrf } });
            return r.status; }", image.Id.ToString());
        Assert.Equal(403, status);
        Assert.Single(await (await _olga.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<System.Text.Json.JsonElement>>());
    }

    [Fact]
    public async Task A_reviewer_approves_live_while_the_annotator_watches()
    {
        var image = await ProjectWith("review", ("anya", "annotator"), ("rita", "reviewer"));
        var anya = await _browser.NewPageAsync();
        var rita = await _browser.NewPageAsync();
        await anya.SignInAsync(_url, "anya", $"/images/{image.Id}");
        await rita.SignInAsync(_url, "rita", $"/images/{image.Id}");
        await anya.Locator("canvas.base[data-role='annotator'][data-seq='1']").WaitForAsync();
        await rita.Locator("canvas.base[data-role='reviewer'][data-seq='1']").WaitForAsync();
        Assert.Equal(0, await anya.GetByRole(AriaRole.Button, new() { Name = "Approve and next" }).CountAsync()); // annotators submit; reviewers approve

        // anya submits; nothing else is hers to annotate, so she is back on My work, which says so.
        await anya.GetByRole(AriaRole.Button, new() { Name = "Submit and next" }).ClickAsync();
        await anya.WaitForURLAsync($"**/projects/{image.ProjectId}/work?done=annotate");
        await anya.Locator("p.notice", new() { HasText = "Nothing left for you to annotate" }).WaitForAsync();
        await rita.Locator("canvas.base[data-status='submitted']").WaitForAsync();
        await rita.GetByText("anya set the image to submitted").WaitForAsync();

        // Back on the image it is read only for her: tools disabled, and a banner that says why and what would allow a change.
        await anya.GoBackAsync();
        await anya.Locator("canvas.base[data-ready='true'][data-status='submitted'][data-read-only='true']").WaitForAsync();
        await anya.Locator(".work-banner", new() { HasText = "waits for review; a reviewer can reject it for rework" }).WaitForAsync();
        Assert.True(await anya.GetByRole(AriaRole.Button, new() { Name = "Box B" }).IsDisabledAsync());
        await anya.Locator(".stage").FocusAsync();
        await anya.Keyboard.PressAsync("b");
        await anya.Locator(".toast", new() { HasText = "Read only: the image is submitted" }).WaitForAsync();

        // rita approves: anya watches it happen.
        await rita.GetByRole(AriaRole.Button, new() { Name = "Approve and next" }).ClickAsync();
        await rita.WaitForURLAsync($"**/projects/{image.ProjectId}/work?done=review");
        await anya.Locator("canvas.base[data-status='approved'][data-stage='approved']").WaitForAsync();
        await anya.GetByText("rita set the image to approved").WaitForAsync();
        await anya.Locator(".work-banner", new() { HasText = "approved and done; an owner can reopen it" }).WaitForAsync();
        var stored = await (await _olga.GetAsync($"/api/images/{image.Id}")).Read<ImageDto>();
        Assert.Equal(VisionLabel.Server.Data.ImageStatus.Approved, stored.Status);
    }

    [Fact]
    public async Task A_fresh_server_is_set_up_in_the_browser_from_the_link_it_prints()
    {
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        var link = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = await ServeCommandTests.Serve(url, data.Path, line => { if (line.Contains("/setup?token=")) link.TrySetResult(line.Trim()); });
        try
        {
            var page = await _browser.NewPageAsync();
            await page.GotoAsync(await link.Task.WaitAsync(TimeSpan.FromSeconds(30)));
            var form = page.Locator("form[aria-label='Create the first admin']");
            await form.Locator("input[name=username]").FillAsync("founder");
            await form.Locator("input[name=password]").FillAsync("a-long-first-password");
            await form.Locator("input[name=confirm]").FillAsync("a-long-first-password");
            await form.Locator("button[type=submit]").ClickAsync();
            await page.WaitForURLAsync($"{url}/");
            await page.GetByText("founder").First.WaitForAsync(); // signed in, on the project list
            await page.Locator("header a.chip", new() { HasText = "admin" }).WaitForAsync();

            // The link is spent: opening it again cannot make a second admin.
            var again = await _browser.NewPageAsync();
            await again.GotoAsync(await link.Task);
            var second = again.Locator("form[aria-label='Create the first admin']");
            await second.Locator("input[name=username]").FillAsync("intruder");
            await second.Locator("input[name=password]").FillAsync("another-long-password");
            await second.Locator("input[name=confirm]").FillAsync("another-long-password");
            await second.Locator("button[type=submit]").ClickAsync();
            await again.GetByRole(AriaRole.Alert).GetByText("Already set up").WaitForAsync();
        }
        finally { if (!server.HasExited) server.Kill(entireProcessTree: true); }
    }
}
