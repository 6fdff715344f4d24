using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>Sign-in, sessions, tokens and memberships through the HTTP API and the hubs, as a browser or a script uses them.</summary>
[Trait("Tier", Tiers.Api)]
public class AccountsTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly VisionLabelApp _app;

    public AccountsTests()
    {
        _app = new VisionLabelApp(_data.Path, new Dictionary<string, string?> { ["VisionLabel:Accounts:SignInAttemptsPerMinute"] = "8" });
    }

    public void Dispose()
    {
        _app.Dispose();
        _data.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A browser: cookies kept, requests sent from the server's own origin.</summary>
    private HttpClient Browser() => _app.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { HandleCookies = true });

    private async Task SignIn(HttpClient browser, string user, string password = TestAccounts.Password, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await browser.PostAsJsonAsync("/api/account/signin", new { userName = user, password }, Ct);
        Assert.True(response.StatusCode == expected, $"sign-in {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Ct)}");
    }

    /// <summary>GET /api/account, then the XSRF-TOKEN cookie's value as the header the web app sends.</summary>
    private static async Task<string> Antiforgery(HttpClient browser)
    {
        var response = await browser.GetAsync("/api/account", Ct);
        response.EnsureSuccessStatusCode();
        string cookie = response.Headers.GetValues("Set-Cookie").First(c => c.StartsWith("XSRF-TOKEN=", StringComparison.Ordinal));
        return Uri.UnescapeDataString(cookie["XSRF-TOKEN=".Length..cookie.IndexOf(';')]);
    }

    [Fact]
    public async Task A_cookie_session_reads_freely_but_changes_need_the_antiforgery_header_from_this_origin()
    {
        _app.Token("carla", admin: false); // the account
        using var browser = Browser();
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/projects", Ct)).StatusCode);
        await SignIn(browser, "carla");
        var me = await (await browser.GetAsync("/api/account", Ct)).Read<AccountDto>();
        Assert.Equal(("carla", false), (me.UserName, me.IsAdmin));
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/projects", Ct)).StatusCode);

        var refused = await (await browser.PostJson("/api/projects", new { name = "no-header" })).Problem(400);
        Assert.Contains("X-XSRF-TOKEN", refused.GetProperty("detail").GetString());
        string xsrf = await Antiforgery(browser);
        using var forged = new HttpRequestMessage(HttpMethod.Post, "/api/projects") { Content = JsonContent.Create(new { name = "forged" }) };
        forged.Headers.Add(AccessMiddleware.AntiforgeryHeader, xsrf);
        forged.Headers.Add("Origin", "https://evil.example");
        await (await browser.SendAsync(forged, Ct)).Problem(403);
        using var crossSiteRead = new HttpRequestMessage(HttpMethod.Get, "/api/projects");
        crossSiteRead.Headers.Add("Origin", "https://evil.example");
        await (await browser.SendAsync(crossSiteRead, Ct)).Problem(403); // a cross-site page cannot read with the cookie either

        browser.DefaultRequestHeaders.Add(AccessMiddleware.AntiforgeryHeader, xsrf);
        var project = await (await browser.PostJson("/api/projects", new { name = "carla's" })).Read<ProjectDto>();
        var members = await (await browser.GetAsync($"/api/projects/{project.Id}/members", Ct)).Read<List<MemberDto>>();
        Assert.Equal(("carla", ProjectRole.Owner), (members.Single().UserName, members.Single().Role)); // whoever creates it owns it

        Assert.Equal(HttpStatusCode.NoContent, (await browser.PostAsync("/api/account/signout", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/projects", Ct)).StatusCode);
    }

    [Fact]
    public async Task Wrong_passwords_lock_the_account_and_sign_in_attempts_are_rate_limited()
    {
        _app.Token("dave", admin: false);
        using var browser = Browser();
        for (int i = 0; i < 4; i++)
        {
            var wrong = await (await browser.PostAsJsonAsync("/api/account/signin", new { userName = "dave", password = "not-his-password" }, Ct)).Problem(401);
            Assert.Equal("Wrong user name or password", wrong.GetProperty("title").GetString());
        }
        // An unknown name gets the very same answer as a wrong password.
        var unknown = await (await browser.PostAsJsonAsync("/api/account/signin", new { userName = "nobody", password = "whatever-it-is" }, Ct)).Problem(401);
        Assert.Equal("Wrong user name or password", unknown.GetProperty("title").GetString());
        var locked = await (await browser.PostAsJsonAsync("/api/account/signin", new { userName = "dave", password = "not-his-password" }, Ct)).Problem(429);
        Assert.Equal("Account locked", locked.GetProperty("title").GetString());
        // Locked: even the right password is refused for now.
        Assert.Equal("Account locked", (await (await browser.PostAsJsonAsync("/api/account/signin", new { userName = "dave", password = TestAccounts.Password }, Ct)).Problem(429)).GetProperty("title").GetString());
        // The 9th attempt this minute from this address is refused before any password is checked.
        await browser.PostAsJsonAsync("/api/account/signin", new { userName = "dave", password = TestAccounts.Password }, Ct);
        var limited = await browser.PostAsJsonAsync("/api/account/signin", new { userName = "dave", password = TestAccounts.Password }, Ct);
        Assert.Equal("Too many sign-in attempts", (await limited.Problem(429)).GetProperty("title").GetString());
        Assert.True(limited.Headers.RetryAfter is not null);
    }

    [Fact]
    public async Task Changing_the_password_ends_the_other_sessions_and_keeps_this_one()
    {
        _app.Token("erin", admin: false);
        using var laptop = Browser();
        using var phone = Browser();
        await SignIn(laptop, "erin");
        await SignIn(phone, "erin");
        laptop.DefaultRequestHeaders.Add(AccessMiddleware.AntiforgeryHeader, await Antiforgery(laptop));
        var mismatch = await (await laptop.PostJson("/api/account/password", new { currentPassword = "wrong-one-entirely", newPassword = "a-new-long-password" })).Problem(400);
        Assert.True(mismatch.GetProperty("errors").TryGetProperty("currentPassword", out _));
        await (await laptop.PostJson("/api/account/password", new { currentPassword = TestAccounts.Password, newPassword = "short" })).Problem(400);
        Assert.Equal(HttpStatusCode.NoContent, (await laptop.PostJson("/api/account/password", new { currentPassword = TestAccounts.Password, newPassword = "a-new-long-password" })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await laptop.GetAsync("/api/projects", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await phone.GetAsync("/api/projects", Ct)).StatusCode);
        await SignIn(phone, "erin", expected: HttpStatusCode.Unauthorized);
        await SignIn(phone, "erin", "a-new-long-password");
    }

    [Fact]
    public async Task A_read_token_cannot_write_and_a_revoked_or_disabled_one_is_refused_at_once()
    {
        using var admin = _app.Client("fran");
        var created = await (await admin.PostJson("/api/account/tokens", new { name = "pipeline", scope = "read", expiresInDays = 30 })).Read<CreatedTokenDto>();
        Assert.StartsWith(PersonalAccessTokens.Prefix, created.Token);
        Assert.Equal((TokenScope.Read, "pipeline"), (created.Info.Scope, created.Info.Name));
        Assert.InRange(created.Info.ExpiresAt!.Value, DateTime.UtcNow.AddDays(29), DateTime.UtcNow.AddDays(31));
        // Listed without the secret.
        string list = await admin.GetStringAsync("/api/account/tokens", Ct);
        Assert.DoesNotContain(created.Token, list);

        using var reader = _app.CreateClient();
        reader.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.Token);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("/api/projects", Ct)).StatusCode);
        var refused = await (await reader.PostJson("/api/projects", new { name = "by-a-read-token" })).Problem(403);
        Assert.Equal("Read-only token", refused.GetProperty("title").GetString());
        await (await reader.PostJson("/api/account/tokens", new { name = "escalate", scope = "write" })).Problem(403);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/account/tokens/{created.Info.Id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await reader.GetAsync("/api/projects", Ct)).StatusCode);
        await (await admin.DeleteAsync($"/api/account/tokens/{created.Info.Id}", Ct)).Problem(404); // revoked already

        // An admin disables an account: its tokens stop working on the next request.
        using var worker = _app.Client("gus", admin: false);
        Assert.Equal(HttpStatusCode.OK, (await worker.GetAsync("/api/projects", Ct)).StatusCode);
        var users = await (await admin.GetAsync("/api/users", Ct)).Read<List<UserDto>>();
        var gus = users.Single(u => u.UserName == "gus");
        Assert.True((await (await admin.PatchJson($"/api/users/{gus.Id}", new { disabled = true })).Read<UserDto>()).Disabled);
        Assert.Equal(HttpStatusCode.Unauthorized, (await worker.GetAsync("/api/projects", Ct)).StatusCode);
        await (await admin.PatchJson($"/api/users/{users.Single(u => u.UserName == "fran").Id}", new { disabled = true })).Problem(400); // not yourself
    }

    [Fact]
    public async Task Owners_manage_members_and_a_removed_member_is_disconnected_at_once()
    {
        using var owner = _app.Client("hana", admin: false);
        using var ivan = _app.Client("ivan", admin: false);
        var (project, image) = await owner.ProjectWithImage("team", ["cat"], 64, 48);

        // Not a member: the project does not exist as far as ivan can tell.
        var hidden = await (await ivan.GetAsync($"/api/projects/{project.Id}", Ct)).Problem(404);
        var missing = await (await ivan.GetAsync($"/api/projects/{Guid.NewGuid()}", Ct)).Problem(404);
        Assert.Equal(missing.GetProperty("title").GetString(), hidden.GetProperty("title").GetString());
        Assert.DoesNotContain((await (await ivan.GetAsync("/api/projects", Ct)).Read<List<ProjectDto>>()), p => p.Id == project.Id);

        await (await owner.PostJson($"/api/projects/{project.Id}/members", new { user = "nobody-here", role = "viewer" })).Problem(400);
        await (await owner.PostJson($"/api/projects/{project.Id}/members", new { user = "ivan", role = "boss" })).Problem(400);
        var member = await (await owner.PostJson($"/api/projects/{project.Id}/members", new { user = "ivan", role = "viewer" })).Read<MemberDto>();
        await (await owner.PostJson($"/api/projects/{project.Id}/members", new { user = "ivan", role = "viewer" })).Problem(409);
        Assert.Equal(HttpStatusCode.OK, (await ivan.GetAsync($"/api/projects/{project.Id}", Ct)).StatusCode);
        var asViewer = await (await ivan.PostJson($"/api/images/{image.Id}/annotations",
            new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 } })).Problem(403);
        Assert.Contains("annotator", asViewer.GetProperty("detail").GetString());

        await (await owner.PatchJson($"/api/projects/{project.Id}/members/{member.UserId}", new { role = "annotator" })).Read<MemberDto>();
        ivan.DefaultRequestHeaders.Add("X-VisionLabel-User", "mallory"); // the name a client claims counts for nothing
        var box = await (await ivan.PostJson($"/api/images/{image.Id}/annotations",
            new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 } })).Read<AnnotationDto>();
        Assert.Equal("ivan", box.CreatedBy); // the account, whatever a client might claim

        // The last owner stays.
        var hana = (await (await owner.GetAsync($"/api/projects/{project.Id}/members", Ct)).Read<List<MemberDto>>()).Single(m => m.UserName == "hana");
        await (await owner.DeleteAsync($"/api/projects/{project.Id}/members/{hana.UserId}", Ct)).Problem(409);

        // Removed while editing live: the connection is closed now, and a new one cannot join.
        await using var hub = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "ivan", admin: false));
        var snapshot = await hub.CallAsync("JoinImage", image.Id);
        Assert.Single(snapshot.GetProperty("annotations").EnumerateArray());
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/projects/{project.Id}/members/{member.UserId}", Ct)).StatusCode);
        await hub.Closed.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await using var again = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "ivan", admin: false));
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => again.CallAsync("JoinImage", image.Id));
        Assert.Contains("404", refused.Message);
        await (await ivan.GetAsync($"/api/images/{image.Id}", Ct)).Problem(404);
    }

    [Fact]
    public async Task The_first_admin_comes_from_the_one_time_setup_link()
    {
        using var browser = Browser();
        string secret = _app.Services.GetRequiredService<SetupLink>().Issue(); // the one serve printed at its start
        Assert.True((await (await browser.GetAsync("/api/setup", Ct)).Read<SetupStatus>()).Required);
        await (await browser.PostJson("/api/setup", new { token = "guess", userName = "boss", password = "long-enough-password" })).Problem(403);
        await (await browser.PostJson("/api/setup", new { token = secret, userName = "boss", password = "short" })).Problem(400); // the link still works after a bad password
        var admin = await (await browser.PostJson("/api/setup", new { token = secret, userName = "boss", password = "long-enough-password" })).Read<AccountDto>();
        Assert.True(admin.IsAdmin);
        Assert.Equal("boss", (await (await browser.GetAsync("/api/account", Ct)).Read<AccountDto>()).UserName); // signed in
        await (await browser.PostJson("/api/setup", new { token = secret, userName = "boss2", password = "long-enough-password" })).Problem(409);
        Assert.False((await (await browser.GetAsync("/api/setup", Ct)).Read<SetupStatus>()).Required);
    }
}
