using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.ModelLoop;
using VisionLabel.Server.ModelLoop.Predictions;
using VisionLabel.Server.Projects;
using VisionLabel.Shapes;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Predictions import (issue 27, docs/models-in-the-loop.md): a COCO results file or a zip of YOLO txt files with scores
/// becomes proposals through the write path (received live by an editor on the image, stored proposed with source
/// model:NAME and the scores, coordinates as given, counted in the model outcomes); bad rows are refused one by one while
/// the good ones land; unreadable bodies and bad parameters are 400s naming the field; only owners may import.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class PredictionsImportTests : IAsyncLifetime
{
    private const int Width = 640, Height = 480;
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
        (_project, _image) = await _owner.ProjectWithImage("predictions", ["cat", "dog"], Width, Height); // no COCO ids: cat is 1, dog 2; YOLO classes 0, 1
    }

    public ValueTask DisposeAsync()
    {
        _owner?.Dispose();
        _app?.Dispose();
        Storage.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private string Url(string query) => $"/api/projects/{_project.Id}/predictions?{query}";

    private async Task<List<AnnotationDto>> Annotations(Guid imageId) =>
        await (await _owner.GetAsync($"/api/images/{imageId}/annotations")).Read<List<AnnotationDto>>();

    /// <summary>An editor on the image: completes once it has received <paramref name="count"/> Applied ops (their payloads kept).</summary>
    private async Task<(HubClient Hub, Task<List<JsonElement>> Applied)> Editor(Guid imageId, int count)
    {
        var hub = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "olga", admin: false));
        await hub.CallAsync("JoinImage", imageId);
        var applied = new List<JsonElement>();
        var all = new TaskCompletionSource<List<JsonElement>>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.OnMessage = (target, payload) =>
        {
            if (target != "Applied") return;
            lock (applied) { applied.Add(payload[0].Clone()); if (applied.Count == count) all.TrySetResult([.. applied]); }
        };
        return (hub, all.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
    }

    private static MultipartFormDataContent ZipPart(byte[] zip, string name = "predictions.zip")
    {
        var form = new MultipartFormDataContent();
        var part = new ByteArrayContent(zip);
        part.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
        form.Add(part, "file", name);
        return form;
    }

    private static string Rle(int x, int y, int w, int h) =>
        CocoRle.Encode(CocoRle.FromWindow(Enumerable.Repeat((byte)1, w * h).ToArray(), x, y, w, h, Width, Height));

    [Fact]
    public async Task Coco_results_appear_live_in_an_open_editor_as_proposals_of_the_model()
    {
        var (hub, applied) = await Editor(_image.Id, 3);
        await using var _ = hub;
        var results = new object[]
        {
            new { file_name = "scene.jpg", category_id = 1, bbox = new[] { 10.5, 20.25, 100, 50.75 }, score = 0.91 },
            new { file_name = "scene.jpg", category_id = 2, segmentation = new[] { new[] { 100, 100, 200.5, 100, 150, 180.25 } }, score = 0.42 },
            new { file_name = "scene.jpg", category_id = 1, segmentation = new { size = new[] { Height, Width }, counts = Rle(300, 200, 20, 10) }, score = 0.3 },
        };
        var report = await (await _owner.PostJson(Url("format=coco&model=detector-x"), results)).Read<PredictionsReport>();
        Assert.Equal((3, 3, 1, 0, 0), (report.Rows, report.Created, report.Images, report.Replaced, report.RefusedCount));

        // Live: the editor received the three creates, authored by the model.
        var ops = await applied;
        Assert.All(ops, op => Assert.Equal("model:detector-x", op.GetProperty("authorId").GetString()));
        Assert.All(ops, op => Assert.Equal("detector-x", op.GetProperty("op").GetProperty("changes").GetProperty("source").GetProperty("modelId").GetString()));

        var stored = await Annotations(_image.Id);
        Assert.Equal(3, stored.Count);
        Assert.All(stored, a => Assert.Equal((AnnotationState.Proposed, AnnotationSourceType.Model, "detector-x"), (a.State, a.Source.Type, a.Source.ModelId)));
        var box = stored.Single(a => a.Kind == AnnotationKind.Box);
        Assert.Equal((0.91, _project.Labels[0].Id), (box.Source.Score, box.LabelId));
        Assert.Equal((10.5, 20.25, 100.0, 50.75), (box.Geometry.GetProperty("x").GetDouble(), box.Geometry.GetProperty("y").GetDouble(),
            box.Geometry.GetProperty("width").GetDouble(), box.Geometry.GetProperty("height").GetDouble()));
        var polygon = stored.Single(a => a.Kind == AnnotationKind.Polygon);
        Assert.Equal((0.42, _project.Labels[1].Id), (polygon.Source.Score, polygon.LabelId));
        Assert.Equal([100, 100, 200.5, 100, 150, 180.25], polygon.Geometry.GetProperty("rings")[0].EnumerateArray().Select(v => v.GetDouble()));
        var mask = stored.Single(a => a.Kind == AnnotationKind.Mask);
        Assert.Equal(0.3, mask.Source.Score);
        Assert.Equal(Rle(300, 200, 20, 10), mask.Geometry.GetProperty("counts").GetString());

        // Counted in the model outcomes under its name, though no model of that name is registered.
        var models = await (await _owner.GetAsync($"/api/projects/{_project.Id}/models/outcomes")).Read<List<ModelWithProposals>>();
        Assert.Equal(3, models.Single(m => m.ModelId == "detector-x").Proposals);
        var outcomes = await (await _owner.GetAsync($"/api/projects/{_project.Id}/models/detector-x/outcomes")).Read<OutcomeReport>();
        Assert.Equal(3, outcomes.Totals.Pending);
        // The image moved to prelabeled, as pre-labeling moves it.
        Assert.Equal(ImageStatus.Prelabeled, (await (await _owner.GetAsync($"/api/images/{_image.Id}")).Read<ImageDto>()).Status);

        // Importing again replaces the model's untouched proposals: never doubled.
        var again = await (await _owner.PostJson(Url("format=coco&model=detector-x"), results)).Read<PredictionsReport>();
        Assert.Equal((3, 3), (again.Created, again.Replaced));
        Assert.Equal(3, (await Annotations(_image.Id)).Count);
        outcomes = await (await _owner.GetAsync($"/api/projects/{_project.Id}/models/detector-x/outcomes")).Read<OutcomeReport>();
        Assert.Equal(3, outcomes.Totals.Pending); // the replaced ones are superseded: counted nowhere
    }

    [Fact]
    public async Task Coco_image_ids_and_the_object_form_with_named_categories()
    {
        // An image imported from a COCO dataset keeps its COCO id (42); results name it by that id.
        var coco = """{"images": [{"id": 42, "file_name": "b.jpg"}], "categories": [], "annotations": []}""";
        var imported = await _owner.ImportDataset($"/api/projects/{_project.Id}/import?format=coco", HttpExtensions.ZipUpload(DatasetTests.Zip(
            [("annotations/instances.json", Encoding.UTF8.GetBytes(coco)), ("images/b.jpg", VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(320, 240)))])));
        Assert.Equal(1, imported.ImagesCreated);
        var page = JsonDocument.Parse(await (await _owner.GetAsync($"/api/projects/{_project.Id}/images?limit=10")).Content.ReadAsStringAsync()).RootElement;
        var b = page.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("fileName").GetString() == "b.jpg").GetProperty("id").GetGuid();

        // The object form: its categories name labels (category 7 is "dog", whatever the project numbers it).
        var body = new
        {
            annotations = new object[]
            {
                new { image_id = 42, category_id = 7, bbox = new[] { 1, 2, 30, 40 }, score = 0.5 },
                new { image_id = _image.Id.ToString(), category_id = 3, bbox = new[] { 5, 5, 10, 10 }, score = 0.25 }, // an image's own id
                new { image_id = 42, category_id = 8, bbox = new[] { 1, 2, 30, 40 }, score = 0.5 }, // "bird" names no label
            },
            categories = new object[] { new { id = 7, name = "dog" }, new { id = 3, name = "Cat" }, new { id = 8, name = "bird" } },
        };
        var report = await (await _owner.PostJson(Url("format=coco&model=named"), body)).Read<PredictionsReport>();
        Assert.Equal((2, 2), (report.Created, report.Images));
        Assert.Equal(("category_id", 2), (report.Refused.Single().Field, report.Refused.Single().Row));
        var onB = Assert.Single(await Annotations(b));
        Assert.Equal((_project.Labels[1].Id, 0.5), (onB.LabelId, onB.Source.Score));
        Assert.Equal(_project.Labels[0].Id, Assert.Single(await Annotations(_image.Id)).LabelId); // "Cat" matched the label cat, ignoring case
    }

    [Fact]
    public async Task Yolo_txt_files_with_scores_boxes_and_segments_appear_live()
    {
        var (hub, applied) = await Editor(_image.Id, 2);
        await using var _ = hub;
        string scene = "0 0.5 0.5 0.25 0.5 0.9\n" + // a box, centre and size, score 0.9
                       "1 0.1 0.1 0.3 0.1 0.2 0.3 0.75\n" + // a segment: three points and the score
                       "\n" +
                       "7 0.5 0.5 0.1 0.1 0.5\n" + // no label has class 7
                       "0 0.5 0.5 0.1 0.1\n" + // no score
                       "0 0.5 0.5 0.1 0.1 high\n" +
                       "0 0.95 0.5 0.2 0.1 0.5\n"; // sticks out of the image on the right
        var zip = DatasetTests.Zip([("labels/scene.txt", Encoding.UTF8.GetBytes(scene)), ("labels/missing.txt", "0 0.5 0.5 0.1 0.1 0.5\n"u8.ToArray())]);
        var report = await (await _owner.PostAsync(Url("format=yolo&model=yolo11n-finetuned"), ZipPart(zip))).Read<PredictionsReport>();
        Assert.Equal((7, 2, 1), (report.Rows, report.Created, report.Images));
        // Rows count over the files in name order: labels/missing.txt first.
        Assert.Equal([(0, "file"), (3, "class"), (4, "score"), (5, "score"), (6, "coordinates")], report.Refused.Select(r => (r.Row, r.Field)));
        Assert.Equal("labels/scene.txt line 4", report.Refused[1].Where);

        Assert.Equal(2, (await applied).Count);
        var stored = await Annotations(_image.Id);
        var box = stored.Single(a => a.Kind == AnnotationKind.Box);
        Assert.Equal((0.9, _project.Labels[0].Id, "yolo11n-finetuned", AnnotationState.Proposed), (box.Source.Score, box.LabelId, box.Source.ModelId, box.State));
        Assert.Equal((240.0, 120.0, 160.0, 240.0), (box.Geometry.GetProperty("x").GetDouble(), box.Geometry.GetProperty("y").GetDouble(),
            box.Geometry.GetProperty("width").GetDouble(), box.Geometry.GetProperty("height").GetDouble()));
        var polygon = stored.Single(a => a.Kind == AnnotationKind.Polygon);
        Assert.Equal((0.75, _project.Labels[1].Id), (polygon.Source.Score, polygon.LabelId));
        Assert.Equal([64, 48, 192, 48, 128, 144], polygon.Geometry.GetProperty("rings")[0].EnumerateArray().Select(v => Math.Round(v.GetDouble(), 6)));

        // A data.yaml in the zip names the classes: labels are matched by name, not by the project's class order.
        var named = DatasetTests.Zip([("data.yaml", "names: [dog, cat]\n"u8.ToArray()), ("predict/labels/scene.txt", "0 0.5 0.5 0.1 0.1 0.6\n"u8.ToArray()),
            ("classes.txt", "dog\ncat\n"u8.ToArray())]);
        var byName = await (await _owner.PostAsync(Url("format=yolo&model=named-yolo"), ZipPart(named))).Read<PredictionsReport>();
        Assert.Equal((1, 1, 0), (byName.Rows, byName.Created, byName.RefusedCount));
        Assert.Equal(_project.Labels[1].Id, (await Annotations(_image.Id)).Single(a => a.Source.ModelId == "named-yolo").LabelId);
    }

    [Fact]
    public async Task Bad_rows_are_refused_row_by_row_while_the_good_ones_land()
    {
        var (other, otherImage) = await _owner.ProjectWithImage("someone else's", ["cat"], 100, 100);
        var results = new object[]
        {
            new { file_name = "scene.jpg", category_id = 1, bbox = new[] { 10, 10, 50, 50 }, score = 0.8 },
            new { file_name = "nope.jpg", category_id = 1, bbox = new[] { 10, 10, 50, 50 }, score = 0.8 },
            new { file_name = "scene.jpg", category_id = 99, bbox = new[] { 10, 10, 50, 50 }, score = 0.8 },
            new { file_name = "scene.jpg", category_id = 1, bbox = new[] { 600, 10, 100, 50 }, score = 0.8 },
            new { file_name = "scene.jpg", category_id = 1, bbox = new[] { 10, 10, -5, 50 }, score = 0.8 },
            new { file_name = "scene.jpg", category_id = 1, bbox = new[] { 10, 10, 50, 50 }, score = (object)"high" },
            new { file_name = "scene.jpg", category_id = 1, bbox = new[] { 10, 10, 50, 50 }, score = (object)1.5 },
            new { image_id = otherImage.Id.ToString(), category_id = 1, bbox = new[] { 10, 10, 50, 50 }, score = 0.8 },
            new { image_id = 12345, category_id = 1, bbox = new[] { 10, 10, 50, 50 }, score = 0.8 },
            new { file_name = "scene.jpg", category_id = 2, segmentation = new[] { new[] { 1, 1, 700, 1, 5, 5 } }, score = 0.8 },
            new { file_name = "scene.jpg", category_id = 2, bbox = new[] { 100, 100, 20, 20 } }, // no score: a proposal without one
        };
        var report = await (await _owner.PostJson(Url("format=coco&model=m"), results)).Read<PredictionsReport>();
        Assert.Equal((11, 2, 1, 9), (report.Rows, report.Created, report.Images, report.RefusedCount));
        Assert.Equal([(1, "file_name"), (2, "category_id"), (3, "bbox"), (4, "bbox"), (5, "score"), (6, "score"), (7, "image_id"), (8, "image_id"), (9, "segmentation")],
            report.Refused.Select(r => (r.Row, r.Field)));
        Assert.Contains("outside", report.Refused[2].Problem);
        Assert.Contains("not an image of this project", report.Refused[6].Problem);
        Assert.All(report.Refused, r => Assert.False(string.IsNullOrWhiteSpace(r.Problem)));
        Assert.Equal(2, (await Annotations(_image.Id)).Count);
        Assert.Empty(await Annotations(otherImage.Id)); // another project's image is never written
        Assert.Null((await Annotations(_image.Id)).Single(a => a.LabelId == _project.Labels[1].Id).Source.Score);
        _ = other;
    }

    [Fact]
    public async Task One_image_takes_at_most_the_per_image_cap_the_rest_refused_by_row()
    {
        int cap = PredictionsImport.MaxPerImage;
        var results = Enumerable.Range(0, cap + 2).Select(i => new { file_name = "scene.jpg", category_id = 1 + i % 2, bbox = new[] { i % 600, i / 600 % 450, 8, 8 }, score = 0.5 }).ToArray();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = await (await _owner.PostJson(Url("format=coco&model=dense"), results)).Read<PredictionsReport>();
        TestContext.Current.SendDiagnosticMessage($"{cap + 2:N0} predictions on one image: {clock.ElapsedMilliseconds} ms");
        Assert.Equal((cap, 1, 2), (report.Created, report.Images, report.RefusedCount));
        Assert.Equal([(cap, "file_name"), (cap + 1, "file_name")], report.Refused.Select(r => (r.Row, r.Field)));
        Assert.Equal(cap, (await Annotations(_image.Id)).Count);
    }

    [Fact]
    public async Task Unreadable_bodies_and_bad_parameters_are_400s_naming_the_field_and_only_owners_import()
    {
        var good = new object[] { new { file_name = "scene.jpg", category_id = 1, bbox = new[] { 1, 1, 5, 5 }, score = 0.5 } };
        async Task Refused(HttpResponseMessage response, string field)
        {
            var problem = await response.Problem(400);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        }
        await Refused(await _owner.PostJson(Url("format=coco"), good), "model");
        await Refused(await _owner.PostJson(Url("format=coco&model=" + new string('m', 101)), good), "model");
        await Refused(await _owner.PostJson(Url("format=coco&model=a%0Ab"), good), "model");
        await Refused(await _owner.PostJson(Url("model=m"), good), "format");
        await Refused(await _owner.PostJson(Url("format=voc&model=m"), good), "format");
        await Refused(await _owner.PostAsync(Url("format=coco&model=m"), new StringContent("not json{", Encoding.UTF8, "application/json")), "body");
        await Refused(await _owner.PostAsync(Url("format=coco&model=m"), new StringContent("42", Encoding.UTF8, "application/json")), "body");
        await Refused(await _owner.PostJson(Url("format=coco&model=m"), new { results = good }), "annotations");
        await Refused(await _owner.PostAsync(Url("format=coco&model=m"), ZipPart("{\"oops"u8.ToArray(), "results.json")), "file");
        await Refused(await _owner.PostJson(Url("format=yolo&model=m"), good), "file"); // YOLO is a zip
        await Refused(await _owner.PostAsync(Url("format=yolo&model=m"), ZipPart("not a zip"u8.ToArray())), "file");
        await Refused(await _owner.PostAsync(Url("format=yolo&model=m"), ZipPart(DatasetTests.Zip([("../escape.txt", "0 0.5 0.5 0.1 0.1 0.5\n"u8.ToArray())]))), "file");
        await Refused(await _owner.PostAsync(Url("format=yolo&model=m"), ZipPart(DatasetTests.Zip([("bomb.txt", new byte[4 << 20])], CompressionLevel.SmallestSize))), "file");
        await Refused(await _owner.PostAsync(Url("format=yolo&model=m"), ZipPart(DatasetTests.Zip([("readme.md", "hi"u8.ToArray())]))), "file");
        Assert.Empty(await Annotations(_image.Id)); // nothing of any of them was written

        // Annotators and reviewers cannot import (the owner can: the same body lands).
        var members = new ProjectMembers(_app, _owner);
        foreach (var role in new[] { "annotator", "reviewer" })
        {
            await members.HubPathAsync("/hubs/annotations", _project.Id, role, role);
            using var member = _app.Client(role, admin: false);
            await (await member.PostJson(Url("format=coco&model=m"), good)).Problem(403);
        }
        Assert.Equal(1, (await (await _owner.PostJson(Url("format=coco&model=m"), good)).Read<PredictionsReport>()).Created);
    }
}

/// <summary>
/// The same on PostgreSQL (its lookups in chunks, the per-image transactions). Named so that the
/// FullyQualifiedName~PredictionsImportTests filter runs the SQLite tests alone; tests/run (which starts a PostgreSQL)
/// runs both.
/// </summary>
public sealed class PredictionsImportOnPostgresTests : PredictionsImportTests
{
    protected override TestStorage Storage { get; } = TestStorage.Postgres();
}
