using System.Diagnostics;
using System.Net;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Shapes;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The bulk annotations route (issue 26, docs/large-images.md): thousands of boxes, polygons and masks in one request go
/// through the write path as ops (numbered, in the op log, received live by an editor on the image), all stored or none:
/// one bad shape is named by its index and nothing is kept; the image's stage and the caller's role still apply.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class BulkAnnotationsTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private ImageDto _image = null!;

    protected virtual TestStorage Storage { get; } = TestStorage.Sqlite();

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path, Storage.Settings());
        _owner = _app.Client("olga", admin: false);
        (_project, _image) = await _owner.ProjectWithImage("bulk", ["tree", "house"], 4000, 3000);
    }

    public ValueTask DisposeAsync()
    {
        _owner?.Dispose();
        _app?.Dispose();
        Storage.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private string Url => $"/api/images/{_image.Id}/annotations/bulk";

    /// <summary>Boxes on a grid, every third a triangle, every tenth a 4×4 mask: kinds mixed as a large image's would be.</summary>
    private object[] Shapes(int count, int offset = 0) => Enumerable.Range(offset, count).Select(i =>
    {
        double x = i % 400 * 10, y = i / 400 % 300 * 10;
        Guid label = _project.Labels[i % 2].Id;
        if (i % 10 == 0)
        {
            var square = Enumerable.Repeat((byte)1, 16).ToArray();
            return (object)new { labelId = label, kind = "mask", geometry = new { size = new[] { 3000, 4000 }, counts = CocoRle.Encode(CocoRle.FromWindow(square, (int)x, (int)y, 4, 4, 4000, 3000)) } };
        }
        if (i % 3 == 0) return new { labelId = label, kind = "polygon", geometry = new { rings = new[] { new[] { x, y, x + 8, y, x + 4, y + 8 } } } };
        return new { labelId = label, kind = "box", geometry = new { x, y, width = 8.0, height = 8.0 } };
    }).ToArray();

    [Fact]
    public async Task Thousands_of_mixed_shapes_go_through_the_write_path_in_one_request()
    {
        // An editor on the image receives them live.
        await using var hub = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "olga", admin: false));
        await hub.CallAsync("JoinImage", _image.Id);
        int received = 0;
        var all = new TaskCompletionSource();
        hub.OnMessage = (target, _) => { if (target == "Applied" && Interlocked.Increment(ref received) == 2500) all.TrySetResult(); };

        var clock = Stopwatch.StartNew();
        var response = await _owner.PostJson(Url, new { annotations = Shapes(2500) });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Read<BulkCreated>();
        TestContext.Current.SendDiagnosticMessage($"2,500 shapes in one bulk request: {clock.ElapsedMilliseconds} ms");
        Assert.Equal(2500, created.Created);
        Assert.Equal(2500, created.Ids.Distinct().Count());
        Assert.Equal(created.FirstSeq + 2499, created.LastSeq);

        var stored = await (await _owner.GetAsync($"/api/images/{_image.Id}/annotations")).Read<List<AnnotationDto>>();
        Assert.Equal(created.Ids.Order(), stored.Select(a => a.Id).Order());
        Assert.Equal((250, 750, 1500), (stored.Count(a => a.Kind == VisionLabel.Server.Data.AnnotationKind.Mask),
            stored.Count(a => a.Kind == VisionLabel.Server.Data.AnnotationKind.Polygon), stored.Count(a => a.Kind == VisionLabel.Server.Data.AnnotationKind.Box)));
        Assert.All(stored, a => Assert.Equal("olga", a.CreatedBy));
        await all.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task One_bad_shape_is_named_by_its_index_and_nothing_is_stored()
    {
        var other = await (await _owner.PostJson("/api/projects", new { name = "other", labels = new[] { new { name = "x" } } })).Read<ProjectDto>();
        var shapes = Shapes(20);
        shapes[7] = new { labelId = other.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 } }; // another project's label
        var problem = await (await _owner.PostJson(Url, new { annotations = shapes })).Problem(400);
        Assert.True(problem.GetProperty("errors").EnumerateObject().Single().Name.StartsWith("annotations[7]", StringComparison.Ordinal), problem.ToString());
        shapes[7] = new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 3990, y = 1, width = 50, height = 5 } }; // off the image
        problem = await (await _owner.PostJson(Url, new { annotations = shapes })).Problem(400);
        Assert.StartsWith("annotations[7]", problem.GetProperty("errors").EnumerateObject().Single().Name);
        Assert.Empty(await (await _owner.GetAsync($"/api/images/{_image.Id}/annotations")).Read<List<AnnotationDto>>());

        await (await _owner.PostJson(Url, new { annotations = Array.Empty<object>() })).Problem(400);
        var tooMany = await (await _owner.PostJson(Url, new { annotations = Enumerable.Repeat(new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 } }, AnnotationsApi.MaxBulk + 1) })).Problem(400);
        Assert.True(tooMany.GetProperty("errors").TryGetProperty("annotations", out _), tooMany.ToString());
        await (await _owner.PostJson($"/api/images/{Guid.NewGuid()}/annotations/bulk", new { annotations = Shapes(2) })).Problem(404);

        // A submitted image is read-only to its annotator: the stage refuses the whole batch.
        var members = new ProjectMembers(_app, _owner);
        await members.HubPathAsync("/hubs/annotations", _project.Id, "ann", "annotator");
        using var ann = _app.Client("ann", admin: false);
        (await _owner.PatchJson($"/api/projects/{_project.Id}", new { workflow = new { allowSelfReview = true } })).EnsureSuccessStatusCode();
        (await _owner.PostJson($"/api/images/{_image.Id}/submit", new { })).EnsureSuccessStatusCode();
        await (await ann.PostJson(Url, new { annotations = Shapes(3) })).Problem(409);
    }
}

/// <summary>The same on PostgreSQL (one transaction for the whole batch, rolled back when a shape is refused).</summary>
public sealed class BulkAnnotationsTestsOnPostgres : BulkAnnotationsTests
{
    protected override TestStorage Storage { get; } = TestStorage.Postgres();
}
