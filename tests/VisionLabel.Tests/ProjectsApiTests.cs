using System.Net;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Api)]
public class ProjectsApiTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly VisionLabelApp _app;
    private readonly HttpClient _http;

    public ProjectsApiTests()
    {
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client("project-owner", admin: false);
    }

    public void Dispose()
    {
        _app.Dispose();
        _data.Dispose();
    }

    [Fact]
    public async Task Health_reports_the_embedded_defaults()
    {
        var health = await (await _http.GetAsync("/health")).Read<Dictionary<string, System.Text.Json.JsonElement>>();
        Assert.Equal("healthy", health["status"].ToString());
        Assert.Equal("sqlite", health["database"].ToString());
        Assert.Equal("local", health["storage"].ToString());
        Assert.True(health["storageReachable"].GetBoolean());
    }

    [Fact]
    public async Task OpenApi_document_describes_the_api()
    {
        string doc = await _http.GetStringAsync("/openapi/v1.json");
        Assert.Contains("/api/projects/{projectId}/images", doc);
        Assert.Contains("/api/images/{imageId}/annotations/{annotationId}", doc);
    }

    [Fact]
    public async Task The_web_apps_copy_of_the_OpenAPI_document_is_up_to_date()
    {
        // The browser app's API types are generated from web/openapi.json; an API change must come with a new copy.
        string live = VisionLabel.Server.Web.OpenApiCommand.Normalize(await _http.GetStringAsync("/openapi/v1.json"));
        string committed = await File.ReadAllTextAsync(Path.Combine(SharedData.RepositoryRoot, "web", "openapi.json"));
        Assert.True(live == committed,
            "web/openapi.json is out of date: run `dotnet src/VisionLabel.Server/bin/Release/net10.0/VisionLabel.Server.dll openapi --out web/openapi.json` and commit it");
    }

    [Fact]
    public async Task Stats_count_every_projects_images_by_status()
    {
        var (a, image) = await _http.ProjectWithImage("stats-a", ["x"], 64, 48);
        await _http.PostAsync($"/api/projects/{a.Id}/images", HttpExtensions.Files(("2.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(65, 48)))));
        // Approved without review: the project's review sample is 0%.
        (await _http.PatchJson($"/api/projects/{a.Id}", new { workflow = new { reviewPercent = 0 } })).EnsureSuccessStatusCode();
        await (await _http.PostJson($"/api/images/{image.Id}/submit", new { })).Read<System.Text.Json.JsonElement>();
        var empty = await (await _http.PostJson("/api/projects", new { name = "stats-b" })).Read<ProjectDto>();
        var stats = await (await _http.GetAsync("/api/projects/stats")).Read<List<ProjectStatsDto>>();
        var forA = Assert.Single(stats, s => s.ProjectId == a.Id);
        Assert.Equal((2, 1, 1, 0), (forA.Total, forA.ByStatus["approved"], forA.ByStatus["new"], forA.ByStatus["in-progress"]));
        Assert.Equal(0, Assert.Single(stats, s => s.ProjectId == empty.Id).Total);
    }

    [Fact]
    public async Task Project_and_label_crud()
    {
        var created = await (await _http.PostJson("/api/projects", new
        {
            name = "Street scenes", description = "dashcam",
            labels = new object[] { new { name = "car" }, new { name = "person", color = "#00FF00" } },
        })).Read<ProjectDto>();
        Assert.Equal(["car", "person"], created.Labels.Select(l => l.Name));
        Assert.Equal("#00ff00", created.Labels[1].Color);
        Assert.Matches("^#[0-9a-f]{6}$", created.Labels[0].Color);

        var bike = await (await _http.PostJson($"/api/projects/{created.Id}/labels", new { name = "bicycle", color = "#123456" })).Read<LabelDto>();
        Assert.Equal(2, bike.Order);
        var renamed = await (await _http.PatchJson($"/api/projects/{created.Id}/labels/{bike.Id}", new { name = "bike", order = 0 })).Read<LabelDto>();
        Assert.Equal(("bike", 0), (renamed.Name, renamed.Order));

        await (await _http.PostJson($"/api/projects/{created.Id}/labels", new { name = "bike" })).Problem(409);
        await (await _http.PostJson($"/api/projects/{created.Id}/labels", new { name = "x", color = "red" })).Problem(400);

        var patched = await (await _http.PatchJson($"/api/projects/{created.Id}", new { name = "Streets" })).Read<ProjectDto>();
        Assert.Equal("Streets", patched.Name);
        var listed = await (await _http.GetAsync("/api/projects")).Read<List<ProjectDto>>();
        Assert.Equal(["bike", "car", "person"], Assert.Single(listed).Labels.Select(l => l.Name));

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/projects/{created.Id}/labels/{bike.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/projects/{created.Id}")).StatusCode);
        var gone = await (await _http.GetAsync($"/api/projects/{created.Id}")).Problem(404);
        Assert.Contains(created.Id.ToString(), gone.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Duplicate_project_name_is_a_conflict()
    {
        await (await _http.PostJson("/api/projects", new { name = "A" })).Read<ProjectDto>();
        var problem = await (await _http.PostJson("/api/projects", new { name = "A" })).Problem(409);
        Assert.Contains("already exists", problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("{\"name\": ")]                       // malformed JSON
    [InlineData("{\"description\": \"no name\"}")]   // required field missing
    [InlineData("{\"name\": \"  \"}")]                // blank name
    [InlineData("{\"name\": \"ok\", \"labels\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}")] // duplicate label
    public async Task Bad_project_bodies_get_problem_details_not_500(string body)
    {
        var response = await _http.PostAsync("/api/projects", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.InRange((int)response.StatusCode, 400, 499);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
