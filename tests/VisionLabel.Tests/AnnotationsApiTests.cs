using VisionLabel.Inference;
using System.Net;
using System.Text.Json;
using VisionLabel.Imaging;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

[Trait("Tier", Tiers.Api)]
public class AnnotationsApiTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _http = null!;
    private ProjectDto _project = null!;
    private ImageDto _image = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client("alice", admin: false);
        (_project, _image) = await _http.ProjectWithImage("ann", ["car", "dog"], 200, 100);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private string Url(Guid? id = null) => $"/api/images/{_image.Id}/annotations" + (id is null ? "" : $"/{id}");
    private Guid Car => _project.Labels[0].Id;
    private Guid Dog => _project.Labels[1].Id;

    [Fact]
    public async Task All_three_kinds_round_trip_and_survive_a_restart()
    {
        // A mask: a filled 30x20 rectangle at (50, 40), encoded column-major as COCO does.
        var mask = new byte[100 * 200];
        for (int x = 50; x < 80; x++) for (int y = 40; y < 60; y++) mask[x * 100 + y] = 1;
        var counts = CocoRle.FromMask(mask);

        var box = await (await _http.PostJson(Url(), new
        {
            labelId = Car, kind = "box", geometry = new { x = 10.5, y = 20.25, width = 30, height = 40 },
            attributes = new { occluded = true, note = "left lane" },
        })).Read<AnnotationDto>();
        var polygon = await (await _http.PostJson(Url(), new
        {
            labelId = Dog, kind = "polygon",
            geometry = new { rings = new[] { new double[] { 0, 0, 100, 0, 100, 50, 0, 50 }, new double[] { 150, 10, 190, 10, 170, 90 } } },
        })).Read<AnnotationDto>();
        var clientId = Guid.CreateVersion7();
        var rle = await (await _http.PostJson(Url(), new
        {
            id = clientId, labelId = Car, kind = "mask", geometry = new { size = new[] { 100, 200 }, counts = counts.ToArray() },
            source = new { type = "model", modelId = "yolo11n-seg", score = 0.87 },
        })).Read<AnnotationDto>();

        Assert.Equal(clientId, rle.Id);
        Assert.Equal((AnnotationState.Accepted, AnnotationSourceType.Human, "alice"), (box.State, box.Source.Type, box.CreatedBy));
        Assert.Equal((AnnotationState.Proposed, "yolo11n-seg", 0.87), (rle.State, rle.Source.ModelId, rle.Source.Score));
        Assert.Equal(CocoRle.Encode(counts), rle.Geometry.GetProperty("counts").GetString()); // stored compressed

        _app.Dispose();
        _app = new VisionLabelApp(_data.Path);
        _http = _app.Client("alice", admin: false);

        var all = await (await _http.GetAsync(Url())).Read<List<AnnotationDto>>();
        Assert.Equal(3, all.Count);
        var b = all.Single(a => a.Id == box.Id);
        Assert.Equal((10.5, 20.25, 30.0, 40.0), (b.Geometry.GetProperty("x").GetDouble(), b.Geometry.GetProperty("y").GetDouble(),
            b.Geometry.GetProperty("width").GetDouble(), b.Geometry.GetProperty("height").GetDouble()));
        Assert.True(b.Attributes.GetProperty("occluded").GetBoolean());
        var p = all.Single(a => a.Id == polygon.Id).Geometry.GetProperty("rings");
        Assert.Equal(2, p.GetArrayLength());
        Assert.Equal([150.0, 10, 190, 10, 170, 90], p[1].EnumerateArray().Select(v => v.GetDouble()));
        var m = all.Single(a => a.Id == clientId).Geometry;
        Assert.Equal(mask, CocoRle.ToMask(CocoRle.Decode(m.GetProperty("counts").GetString()!)!, 100, 200));

        // The image went from new to in-progress when a person drew on it.
        var image = await (await _http.GetAsync($"/api/images/{_image.Id}")).Read<ImageDto>();
        Assert.Equal(ImageStatus.InProgress, image.Status);
    }

    [Theory]
    [InlineData("box", "{\"x\":0,\"y\":0,\"width\":-5,\"height\":10}", "positive")]
    [InlineData("box", "{\"x\":190,\"y\":0,\"width\":50,\"height\":10}", "outside")]
    [InlineData("box", "{\"x\":\"NaN\",\"y\":0,\"width\":5,\"height\":10}", "finite numbers")]
    [InlineData("polygon", "{\"rings\":[[0,0,10,10]]}", "at least 3")]
    [InlineData("polygon", "{\"rings\":[[0,0,10,10,5]]}", "odd count")]
    [InlineData("polygon", "{\"rings\":[]}", "non-empty")]
    [InlineData("mask", "{\"size\":[100,100],\"counts\":\"0\"}", "does not match the image")]
    [InlineData("mask", "{\"size\":[100,200],\"counts\":[5,5]}", "cover 10 pixels")]
    [InlineData("mask", "{\"size\":[100,200],\"counts\":\"\\u0001\"}", "not a valid COCO RLE")]
    public async Task Bad_geometry_is_a_400_that_says_what_is_wrong(string kind, string geometry, string expected)
    {
        string body = $"{{\"labelId\":\"{Car}\",\"kind\":\"{kind}\",\"geometry\":{geometry}}}";
        var response = await _http.PostAsync(Url(), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.Problem(400);
        Assert.Contains(expected, problem.GetProperty("detail").GetString());
        Assert.Empty(await (await _http.GetAsync(Url())).Read<List<AnnotationDto>>());
    }

    [Fact]
    public async Task Unknown_kind_foreign_label_and_missing_image_are_client_errors()
    {
        var unknownKind = await _http.PostAsync(Url(), new StringContent($"{{\"labelId\":\"{Car}\",\"kind\":\"circle\",\"geometry\":{{}}}}",
            System.Text.Encoding.UTF8, "application/json"));
        await unknownKind.Problem(400);
        var otherProject = await (await _http.PostJson("/api/projects", new { name = "other", labels = new[] { new { name = "x" } } })).Read<ProjectDto>();
        var foreign = await (await _http.PostJson(Url(), new { labelId = otherProject.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 2, height = 2 } })).Problem(400);
        Assert.Contains("not a label of this image's project", foreign.GetProperty("detail").GetString());
        await (await _http.PostJson($"/api/images/{Guid.NewGuid()}/annotations", new { labelId = Car, kind = "box", geometry = new { x = 1, y = 1, width = 2, height = 2 } })).Problem(404);
    }

    private async Task<AnnotationDto> NewBox() =>
        await (await _http.PostJson(Url(), new { labelId = Car, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } })).Read<AnnotationDto>();

    [Fact]
    public async Task Patch_changes_only_what_it_names_and_bumps_the_version()
    {
        var a = await NewBox();
        var bob = _app.Client("bob");
        var updated = await (await bob.PatchJson(Url(a.Id), new { version = 1, labelId = Dog, state = "rejected" })).Read<AnnotationDto>();
        Assert.Equal((2, Dog, AnnotationState.Rejected, "bob", "alice"), (updated.Version, updated.LabelId, updated.State, updated.UpdatedBy, updated.CreatedBy));
        Assert.Equal(a.Geometry.GetRawText(), updated.Geometry.GetRawText());

        var reshaped = await (await bob.PatchJson(Url(a.Id), new { version = 2, kind = "polygon", geometry = new { rings = new[] { new double[] { 1, 1, 5, 1, 5, 5 } } } })).Read<AnnotationDto>();
        Assert.Equal((AnnotationKind.Polygon, 3), (reshaped.Kind, reshaped.Version));
        await (await bob.PatchJson(Url(a.Id), new { version = 3, kind = "box" })).Problem(400);
    }

    [Fact]
    public async Task Stale_version_is_a_409_that_carries_the_current_state()
    {
        var a = await NewBox();
        await (await _http.PatchJson(Url(a.Id), new { version = 1, attributes = new { by = "first" } })).Read<AnnotationDto>();
        var problem = await (await _http.PatchJson(Url(a.Id), new { version = 1, attributes = new { by = "second" } })).Problem(409);
        Assert.Equal(2, problem.GetProperty("currentVersion").GetInt32());
        Assert.Equal("first", problem.GetProperty("current").GetProperty("attributes").GetProperty("by").GetString());
        Assert.Contains("send version 2", problem.GetProperty("detail").GetString());

        await (await _http.DeleteAsync(Url(a.Id) + "?version=1")).Problem(409);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync(Url(a.Id) + "?version=2")).StatusCode);
        await (await _http.GetAsync(Url(a.Id))).Problem(404);
    }

    [Fact]
    public async Task Concurrent_writers_on_one_version_exactly_one_wins_and_no_write_is_lost_silently()
    {
        var a = await NewBox();
        const int writers = 12;
        var clients = Enumerable.Range(0, writers).Select(i => _app.Client($"user{i}")).ToArray();
        var responses = await Task.WhenAll(clients.Select((c, i) => c.PatchJson(Url(a.Id), new { version = 1, attributes = new { writer = i } })));

        var winners = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        Assert.Single(winners);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        var final = await (await _http.GetAsync(Url(a.Id))).Read<AnnotationDto>();
        var winner = await winners[0].Read<AnnotationDto>();
        Assert.Equal(2, final.Version);
        Assert.Equal(winner.Attributes.GetProperty("writer").GetInt32(), final.Attributes.GetProperty("writer").GetInt32());
    }
}
