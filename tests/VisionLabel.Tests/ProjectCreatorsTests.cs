using System.Net;
using System.Text.Json;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>Who may create projects, an instance setting (issue 27): anyone signed in by default; with
/// VisionLabel:Projects:Creators=admins only admins, which the account says so the web app offers the form or not.</summary>
[Trait("Tier", Tiers.Api)]
public class ProjectCreatorsTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    [Theory]
    [InlineData(null, true)]
    [InlineData("anyone", true)]
    [InlineData("admins", false)]
    public async Task Only_admins_create_projects_when_the_instance_says_so(string? creators, bool anyone)
    {
        using var app = new VisionLabelApp(_data.Path, creators is null ? null : new Dictionary<string, string?> { ["VisionLabel:Projects:Creators"] = creators });
        using var admin = app.Client("root", admin: true);
        using var person = app.Client("olga", admin: false);
        Assert.Equal(anyone, (await (await person.GetAsync("/api/account")).Read<JsonElement>()).GetProperty("canCreateProjects").GetBoolean());
        Assert.True((await (await admin.GetAsync("/api/account")).Read<JsonElement>()).GetProperty("canCreateProjects").GetBoolean());

        var response = await person.PostJson("/api/projects", new { name = "mine", labels = new[] { new { name = "x" } } });
        if (anyone) Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        else Assert.Equal("Admins create projects", (await response.Problem(403)).GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.Created, (await admin.PostJson("/api/projects", new { name = "theirs", labels = new[] { new { name = "x" } } })).StatusCode);
    }

    [Fact]
    public void A_setting_that_is_neither_is_refused_at_start_by_its_key()
    {
        var e = Assert.ThrowsAny<Exception>(() => new VisionLabelApp(_data.Path, new Dictionary<string, string?> { ["VisionLabel:Projects:Creators"] = "everyone" }).Client());
        Assert.Contains("Creators", e.ToString());
    }
}
