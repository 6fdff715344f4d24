using System.IO.Compression;
using System.Net;
using System.Text.Json;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Issue 27's archive: an archived image keeps its annotations and leaves the grid (unless asked for), the queue, exports
/// and the counts until it is unarchived; an archived project leaves the project list and its queue closes. Owners only.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class ArchiveTests : IDisposable
{
    private readonly TempDirectory _data = new();
    private readonly VisionLabelApp _app;
    private readonly HttpClient _owner, _annotator;

    public ArchiveTests()
    {
        _app = new VisionLabelApp(_data.Path);
        _owner = _app.Client("olga");
        _annotator = _app.Client("ann", admin: false);
    }

    public void Dispose()
    {
        _owner.Dispose();
        _annotator.Dispose();
        _app.Dispose();
        _data.Dispose();
    }

    [Fact]
    public async Task Archived_images_leave_the_grid_queue_exports_and_counts_until_unarchived()
    {
        var project = await (await _owner.PostJson("/api/projects", new { name = "yard", labels = new[] { new { name = "tree" } } })).Read<ProjectDto>();
        (await _owner.PostJson($"/api/projects/{project.Id}/members", new { user = "ann", role = "annotator" })).EnsureSuccessStatusCode();
        var ids = await _owner.UploadImagesAsync(project.Id, 2);
        (await _owner.PostJson($"/api/images/{ids[0]}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 } })).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.Forbidden, (await _annotator.PostAsync($"/api/images/{ids[0]}/archive", null)).StatusCode);
        var archived = await (await _owner.PostAsync($"/api/images/{ids[0]}/archive", null)).Read<ImageDto>();
        Assert.NotNull(archived.ArchivedAt);
        var again = await (await _owner.PostAsync($"/api/images/{ids[0]}/archive", null)).Read<ImageDto>();
        Assert.Equal(archived.ArchivedAt, again.ArchivedAt); // the first time is kept

        async Task<List<Guid>> Grid(string query = "") =>
            (await (await _owner.GetAsync($"/api/projects/{project.Id}/images{query}")).Read<ImagePage>()).Items.Select(i => i.Id).ToList();
        Assert.Equal([ids[1]], await Grid());
        Assert.Equal([ids[0]], await Grid("?archived=true"));
        var stats = (await (await _owner.GetAsync("/api/projects/stats")).Read<List<ProjectStatsDto>>()).Single(s => s.ProjectId == project.Id);
        Assert.Equal(1, stats.Total);
        // Still there by id, with its annotation: archived, not deleted.
        Assert.Equal(HttpStatusCode.OK, (await _owner.GetAsync($"/api/images/{ids[0]}")).StatusCode);
        Assert.Single(await (await _owner.GetAsync($"/api/images/{ids[0]}/annotations")).Read<List<JsonElement>>());

        // The queue hands out the other image only; an export leaves the archived one (and its annotation) out.
        Assert.Equal(ids[1], await _annotator.NextIdAsync(project.Id));
        Assert.Null(await _owner.NextIdAsync(project.Id));
        var zip = await (await _owner.GetAsync($"/api/projects/{project.Id}/export?format=coco&scope=all")).Content.ReadAsByteArrayAsync();
        using (var archive = new ZipArchive(new MemoryStream(zip)))
        using (var coco = JsonDocument.Parse(archive.GetEntry("annotations/instances.json")!.Open()))
            Assert.Equal(0, coco.RootElement.GetProperty("annotations").GetArrayLength());

        // Nor is it handed out by distributing work.
        var distributed = await (await _owner.PostJson($"/api/projects/{project.Id}/assignments/distribute", new { stage = "annotate", count = 10, people = new[] { "ann" } })).Read<JsonElement>();
        Assert.Equal(1, distributed.GetProperty("assigned").GetProperty("ann").GetInt32()); // ids[1] only: the archived one is not given out

        var back = await (await _owner.PostAsync($"/api/images/{ids[0]}/unarchive", null)).Read<ImageDto>();
        Assert.Null(back.ArchivedAt);
        Assert.Equal(ids.Order(), (await Grid()).Order());
        Assert.Equal(ids[0], await _owner.NextIdAsync(project.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await _owner.PostAsync($"/api/images/{Guid.NewGuid()}/archive", null)).StatusCode);
    }

    [Fact]
    public async Task An_archived_project_leaves_the_list_and_its_queue_closes_until_unarchived()
    {
        var project = await (await _owner.PostJson("/api/projects", new { name = "old", labels = new[] { new { name = "x" } } })).Read<ProjectDto>();
        (await _owner.PostJson($"/api/projects/{project.Id}/members", new { user = "ann", role = "annotator" })).EnsureSuccessStatusCode();
        await _owner.UploadImagesAsync(project.Id, 1);
        Assert.Equal(HttpStatusCode.Forbidden, (await _annotator.PostAsync($"/api/projects/{project.Id}/archive", null)).StatusCode);
        Assert.NotNull((await (await _owner.PostAsync($"/api/projects/{project.Id}/archive", null)).Read<ProjectDto>()).ArchivedAt);

        async Task<List<string>> Names(HttpClient who, string query = "") => (await (await who.GetAsync($"/api/projects{query}")).Read<List<ProjectDto>>()).Select(p => p.Name).ToList();
        Assert.DoesNotContain("old", await Names(_owner));
        Assert.DoesNotContain("old", await Names(_annotator));
        Assert.Equal(["old"], await Names(_annotator, "?archived=true"));
        Assert.Equal(HttpStatusCode.OK, (await _annotator.GetAsync($"/api/projects/{project.Id}")).StatusCode); // still readable by its members
        var closed = await (await _annotator.PostJson($"/api/projects/{project.Id}/queue/next", new { stage = "annotate" })).Problem(409);
        Assert.Equal("Project archived", closed.GetProperty("title").GetString());

        Assert.Null((await (await _owner.PostAsync($"/api/projects/{project.Id}/unarchive", null)).Read<ProjectDto>()).ArchivedAt);
        Assert.Contains("old", await Names(_annotator));
        Assert.NotNull(await _annotator.NextIdAsync(project.Id));
    }
}
