using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Data;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>Versioned guidelines: publishing, label cards with examples, a major version blocking the queue until
/// acknowledged, the version stamped on every op and annotation and on submissions (quality by version), images.</summary>
[Trait("Tier", Tiers.Api)]
public class GuidelinesTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private List<Guid> _images = null!;
    private ProjectMembers _members = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _owner = _app.Client("lead", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "guided", labels = new[] { new { name = "car" }, new { name = "truck" } } })).Read<ProjectDto>();
        _images = await _owner.UploadImagesAsync(_project.Id, 3);
        _members = new ProjectMembers(_app, _owner);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private Task<HttpResponseMessage> Publish(object body) => _owner.PostJson($"/api/projects/{_project.Id}/guidelines", body);

    [Fact]
    public async Task A_major_version_blocks_the_queue_until_acknowledged_and_every_op_records_its_version()
    {
        await _members.HubPathAsync("/hubs/annotations", _project.Id, "ann", "annotator");
        var ann = _app.Client("ann", admin: false);
        // Before any guidelines: nothing to acknowledge, ops unversioned.
        var example = await (await _owner.PostJson($"/api/images/{_images[0]}/annotations", new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 5, y = 5, width = 20, height = 10 } })).Read<JsonElement>();

        var v1 = await (await Publish(new
        {
            markdown = "# Cars\nBox every car, mirrors included.", changelog = "First version",
            cards = new[] { new { labelId = _project.Labels[0].Id, description = "A passenger car", positive = new[] { example.GetProperty("id").GetGuid() }, negative = Array.Empty<Guid>() } },
        })).Read<JsonElement>();
        Assert.Equal("1.0", v1.GetProperty("version").GetString());
        var card = v1.GetProperty("cards")[0];
        Assert.Equal((_images[0], 20.0), (card.GetProperty("positive")[0].GetProperty("imageId").GetGuid(), card.GetProperty("positive")[0].GetProperty("bounds")[2].GetDouble()));

        var refused = await (await ann.PostJson($"/api/projects/{_project.Id}/queue/next", new { stage = "annotate" })).Problem(409);
        Assert.Equal("Guidelines 1.0 not acknowledged", refused.GetProperty("title").GetString());
        Assert.Contains("guidelines/acknowledge", refused.GetProperty("detail").GetString());
        var mine = await (await ann.GetAsync($"/api/projects/{_project.Id}/guidelines")).Read<JsonElement>();
        Assert.True(mine.GetProperty("mustAcknowledge").GetBoolean());
        var acked = await (await ann.PostJson($"/api/projects/{_project.Id}/guidelines/acknowledge", new { version = "1.0" })).Read<JsonElement>();
        Assert.False(acked.GetProperty("mustAcknowledge").GetBoolean());
        var first = (await ann.NextIdAsync(_project.Id))!.Value;

        // A minor version does not block; a major one does again.
        (await Publish(new { markdown = "# Cars\nBox every car, mirrors included. Trucks are not cars.", changelog = "Trucks" })).EnsureSuccessStatusCode();
        Assert.Equal(first, await ann.NextIdAsync(_project.Id));
        var drawn = Guid.NewGuid();
        await using (var hub = await HubClient.ConnectAsync(_app.Server, await _members.HubPathAsync("/hubs/annotations", _project.Id, "ann", "annotator")))
        {
            await hub.CallAsync("JoinImage", first);
            var ack = await hub.CallAsync("Submit", new { clientOpId = "g-1", imageId = first, type = "create", annotationId = drawn,
                changes = new { labelId = _project.Labels[1].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } } });
            Assert.Equal(JsonValueKind.Number, ack.GetProperty("seq").ValueKind);
        }
        var major = await (await Publish(new { markdown = "# Vehicles\nNew taxonomy.", changelog = "Cars and trucks merged", major = true })).Read<JsonElement>();
        Assert.Equal("2.0", major.GetProperty("version").GetString());
        await (await ann.PostJson($"/api/projects/{_project.Id}/queue/next", new { stage = "annotate" })).Problem(409);

        using var scope = _app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
        var ops = await db.AnnotationOps.AsNoTracking().OrderBy(o => o.AppliedAt).Select(o => new { o.ClientOpId, o.GuidelineVersion }).ToListAsync(TestContext.Current.CancellationToken);
        Assert.Null(ops.Single(o => o.ClientOpId != "g-1").GuidelineVersion); // made before any guidelines
        Assert.Equal("1.1", ops.Single(o => o.ClientOpId == "g-1").GuidelineVersion);
        Assert.Equal("1.1", await db.Annotations.Where(a => a.Id == drawn).Select(a => a.GuidelineVersion).SingleAsync(TestContext.Current.CancellationToken));

        // Submissions carry the version too: quality is sliced by it.
        (await ann.PostJson($"/api/projects/{_project.Id}/guidelines/acknowledge", new { version = "2.0" })).EnsureSuccessStatusCode();
        (await _owner.PatchJson($"/api/projects/{_project.Id}", new { workflow = new { reviewPercent = 0 } })).EnsureSuccessStatusCode();
        (await _owner.PostJson($"/api/images/{first}/submit", new { })).EnsureSuccessStatusCode(); // the owner's, approved at once
        (await _owner.PostJson($"/api/images/{first}/ground-truth/from-approved", new { })).EnsureSuccessStatusCode();
        var byVersion = await (await _owner.GetAsync($"/api/projects/{_project.Id}/quality?groupBy=guideline-version")).Read<JsonElement>();
        Assert.Equal("2.0", byVersion.GetProperty("rows")[0].GetProperty("key").GetString());
    }

    [Fact]
    public async Task Publishing_is_checked_and_images_are_served_back()
    {
        await _members.HubPathAsync("/hubs/annotations", _project.Id, "ann", "annotator");
        var ann = _app.Client("ann", admin: false);
        await (await ann.PostJson($"/api/projects/{_project.Id}/guidelines", new { markdown = "x", changelog = "y" })).Problem(403);
        Assert.True((await (await Publish(new { markdown = "x", changelog = " " })).Problem(400)).GetProperty("errors").TryGetProperty("changelog", out _));
        var foreign = await (await Publish(new { markdown = "x", changelog = "y", cards = new[] { new { labelId = Guid.NewGuid(), description = "?" } } })).Problem(400);
        Assert.True(foreign.GetProperty("errors").TryGetProperty("cards[0].labelId", out _));
        Assert.True((await (await ann.PostJson($"/api/projects/{_project.Id}/guidelines/acknowledge", new { version = "9.0" })).Problem(400)).GetProperty("errors").TryGetProperty("version", out _));
        await (await ann.GetAsync($"/api/projects/{_project.Id}/guidelines/versions/1.0")).Problem(404);

        var png = TestImages.Png(TestImages.Quadrants(20, 10));
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(png);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(part, "file", "mirror.png");
        var stored = await (await _owner.PostAsync($"/api/projects/{_project.Id}/guidelines/images", form)).Read<JsonElement>();
        string url = stored.GetProperty("url").GetString()!;
        Assert.Equal(png, await (await ann.GetAsync(url)).Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", (await ann.GetAsync(url)).Content.Headers.ContentType?.MediaType);
        var notImage = new MultipartFormDataContent { { new ByteArrayContent("<svg onload=alert(1)>"u8.ToArray()), "file", "x.svg" } };
        await (await _owner.PostAsync($"/api/projects/{_project.Id}/guidelines/images", notImage)).Problem(400);
        await (await ann.GetAsync($"/api/projects/{_project.Id}/guidelines/images/..%2F..%2Fsecret")).Problem(404);
    }
}
