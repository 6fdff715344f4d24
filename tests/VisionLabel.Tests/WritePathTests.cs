using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VisionLabel.Imaging;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Every change to an image's annotations goes through the sequencer, whoever makes it: a pre-labeling re-run, a
/// dataset import, a label-delete cascade and an image delete reach everyone on the image as Applied ops in seq
/// order, Resume replays them, and every client converges on the server's state.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class WritePathTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string?> FastJobs = new()
    {
        ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200", ["VisionLabel:Jobs:ProgressInterval"] = "00:00:00.050", ["VisionLabel:Inference:Device"] = "cpu",
    };

    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _http = null!;
    private ProjectMembers _members = null!;

    public ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path, FastJobs);
        _http = _app.Client("rest-user", admin: false);
        _members = new ProjectMembers(_app, _http);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>An editor of the image: a member of its project (an annotator), not an admin.</summary>
    private Task<(HubClient Hub, ImageReplica Replica)> Connect(Guid imageId, string user, ImageReplica? replica = null, long? resumeFrom = null) =>
        ImageReplica.ConnectAsync(async () => await HubClient.ConnectAsync(_app.Server,
            await _members.HubPathAsync("/hubs/annotations", await ProjectOf(imageId), user)), imageId, replica, resumeFrom);

    private async Task<Guid> ProjectOf(Guid imageId) => (await (await _http.GetAsync($"/api/images/{imageId}")).Read<ImageDto>()).ProjectId;

    /// <summary>The server's state of the image and its current seq, read by a fresh client that joins it.</summary>
    private async Task<(Dictionary<Guid, string> State, long Seq)> ServerState(Guid imageId)
    {
        var (probe, view) = await Connect(imageId, "probe");
        await probe.DisposeAsync();
        var rest = await (await _http.GetAsync($"/api/images/{imageId}/annotations")).Read<List<JsonElement>>();
        var state = ImageReplica.Canonical(rest);
        Assert.Equal(state, view.Canonical()); // the snapshot and REST agree
        return (state, view.Seq);
    }

    private static async Task Converged(long seq, Dictionary<Guid, string> state, params ImageReplica[] replicas)
    {
        foreach (var r in replicas)
        {
            await r.WaitForSeq(seq);
            Assert.Equal(seq, r.Seq);
            Assert.Equal(state, r.Canonical());
        }
    }

    private async Task<JobDto> RunJob(Guid projectId, object request)
    {
        var live = await HubClient.ConnectAsync(_app.Server, await _members.HubPathAsync("/hubs/live", projectId, "watcher", "viewer"));
        var response = await _http.PostJson($"/api/projects/{projectId}/prelabel", request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.Read<JobDto>();
        await live.CallAsync("WatchJob", job.Id);
        // Watching first, then reading: the completion is either already visible or still to be announced.
        job = await (await _http.GetAsync($"/api/jobs/{job.Id}")).Read<JobDto>();
        if (job.Status != JobStatus.Completed)
            await live.WaitFor("JobProgress", TimeSpan.FromSeconds(120), a => a[0].GetProperty("status").GetString() == "completed");
        await live.DisposeAsync();
        return await (await _http.GetAsync($"/api/jobs/{job.Id}")).Read<JobDto>();
    }

    [Fact]
    public async Task A_prelabel_rerun_reaches_everyone_on_the_image_in_seq_order_and_resume_replays_it()
    {
        string modelFile = SharedData.Require("models/yolox_nano-416.onnx");
        var model = await (await _http.UploadModel("yolox_nano-416.onnx", File.ReadAllBytes(modelFile),
            File.ReadAllText(SharedData.Require("models/yolox_nano-416.coco_classes.txt")))).Read<ModelDto>();
        var project = await (await _http.PostJson("/api/projects", new { name = "rerun", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var files = Directory.GetFiles(SharedData.Coco128Images, "*.jpg").Order().Take(8).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        await _http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files));
        var first = await RunJob(project.Id, new { modelId = model.Id, confidence = 0.3 });
        Assert.Equal((8, 0), (first.Done, first.Failed));
        // The busiest image: a re-run there replaces several proposals.
        var page = await (await _http.GetAsync($"/api/projects/{project.Id}/images")).Read<ImagePage>();
        var counts = new Dictionary<Guid, int>();
        foreach (var i in page.Items) counts[i.Id] = (await (await _http.GetAsync($"/api/images/{i.Id}/annotations")).Read<List<JsonElement>>()).Count;
        var image = page.Items.MaxBy(i => counts[i.Id])!;
        Assert.True(counts[image.Id] >= 3, $"the busiest image has {counts[image.Id]} proposals");

        var (alice, aliceView) = await Connect(image.Id, "alice");
        var (bob, bobView) = await Connect(image.Id, "bob");
        var (afterFirst, seq1) = await ServerState(image.Id);
        Assert.Equal(counts[image.Id], afterFirst.Count);
        await Converged(seq1, afterFirst, aliceView, bobView);
        string author = $"model:{model.Name}";

        // Alice accepts one proposal: the re-run must keep it. Carol saw the first run, then drops off.
        var kept = afterFirst.Keys.Order().First();
        var ack = await alice.CallAsync("Submit", new { clientOpId = "accept-1", imageId = image.Id, type = "update", annotationId = kept, changes = new { state = "accepted" } });
        Assert.Equal(seq1 + 1, ack.GetProperty("seq").GetInt64());
        var (carol, carolView) = await Connect(image.Id, "carol");
        await carol.DisposeAsync();

        var second = await RunJob(project.Id, new { modelId = model.Id, confidence = 0.05, imageIds = new[] { image.Id } });
        Assert.Equal((1, 0), (second.Done, second.Failed));
        var (afterSecond, seq2) = await ServerState(image.Id);
        await Converged(seq2, afterSecond, aliceView, bobView);

        // What the re-run did, as both saw it: each untouched proposal deleted, then the new ones created, all by the model.
        var rerun = aliceView.Log.Where(e => e.Seq > seq1 + 1).ToList();
        Assert.Equal(seq2 - seq1 - 1, rerun.Count);
        Assert.Equal(rerun, bobView.Log.Where(e => e.Seq > seq1 + 1).ToList());
        Assert.All(rerun, e => Assert.Equal(author, e.Author));
        var deleted = rerun.Where(e => e.Type == "delete").Select(e => e.AnnotationId).ToHashSet();
        Assert.Equal(afterFirst.Keys.Where(k => k != kept).ToHashSet(), deleted);
        Assert.True(rerun.FindLastIndex(e => e.Type == "delete") < rerun.FindIndex(e => e.Type == "create"), "deletes come before creates: " + string.Join(",", rerun.Select(e => e.Type)));
        Assert.Contains(kept, afterSecond.Keys);
        Assert.True(afterSecond.Count > 1);

        // Carol comes back: Resume replays exactly what she missed, and she ends where everyone is.
        (carol, carolView) = await Connect(image.Id, "carol", carolView, carolView.Seq);
        await Converged(seq2, afterSecond, carolView);
        Assert.Equal(aliceView.Log.Where(e => e.Seq > seq1 + 1), carolView.Log.Where(e => e.Seq > seq1 + 1));
        await Task.WhenAll(alice.DisposeAsync().AsTask(), bob.DisposeAsync().AsTask(), carol.DisposeAsync().AsTask());
    }

    /// <summary>A two-image COCO dataset made here: one box and one polygon on the first image, one box on the second.</summary>
    private static (byte[] Zip, byte[] First) SmallCoco()
    {
        var first = ImageCodec.EncodeJpeg(TestImages.Quadrants(320, 240));
        var second = ImageCodec.EncodeJpeg(TestImages.Quadrants(200, 100));
        var coco = new JsonObject
        {
            ["images"] = new JsonArray(
                new JsonObject { ["id"] = 1, ["file_name"] = "first.jpg", ["width"] = 320, ["height"] = 240 },
                new JsonObject { ["id"] = 2, ["file_name"] = "second.jpg", ["width"] = 200, ["height"] = 100 }),
            ["categories"] = new JsonArray(new JsonObject { ["id"] = 1, ["name"] = "cat" }, new JsonObject { ["id"] = 2, ["name"] = "dog" }),
            ["annotations"] = new JsonArray(
                new JsonObject { ["id"] = 10, ["image_id"] = 1, ["category_id"] = 1, ["bbox"] = new JsonArray(10, 20, 30, 40), ["area"] = 1200, ["iscrowd"] = 0 },
                new JsonObject { ["id"] = 11, ["image_id"] = 1, ["category_id"] = 2, ["bbox"] = new JsonArray(100, 100, 50, 50), ["area"] = 1250, ["iscrowd"] = 0,
                    ["segmentation"] = new JsonArray(new JsonArray(100, 100, 150, 100, 150, 150)) },
                new JsonObject { ["id"] = 12, ["image_id"] = 2, ["category_id"] = 1, ["bbox"] = new JsonArray(5, 5, 20, 20), ["area"] = 400, ["iscrowd"] = 0 }),
        };
        return (DatasetTests.Zip([("annotations/instances.json", Encoding.UTF8.GetBytes(coco.ToJsonString())), ("images/first.jpg", first), ("images/second.jpg", second)]), first);
    }

    [Fact]
    public async Task A_dataset_import_into_an_existing_project_reaches_everyone_on_an_existing_image()
    {
        var (zip, firstBytes) = SmallCoco();
        var project = await (await _http.PostJson("/api/projects", new { name = "existing", labels = new[] { new { name = "cat" } } })).Read<ProjectDto>();
        var image = (await (await _http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(("first.jpg", firstBytes)))).Read<UploadSummary>()).Files[0].Image!;
        var (alice, aliceView) = await Connect(image.Id, "alice");
        var (bob, bobView) = await Connect(image.Id, "bob");
        var (carol, carolView) = await Connect(image.Id, "carol");
        await carol.DisposeAsync();

        var report = await _http.ImportDataset($"/api/projects/{project.Id}/import?format=coco", HttpExtensions.ZipUpload(zip));
        Assert.Equal((1, 1, 3), (report.ImagesCreated, report.ImagesAlreadyPresent, report.AnnotationsCreated));

        var (state, seq) = await ServerState(image.Id);
        Assert.Equal(2, seq);
        Assert.Equal(2, state.Count);
        await Converged(seq, state, aliceView, bobView);
        Assert.All(aliceView.Log, e => Assert.Equal(("import", "create"), (e.Author, e.Type)));
        (carol, carolView) = await Connect(image.Id, "carol", carolView, carolView.Seq);
        await Converged(seq, state, carolView);

        // The new image has its history too: its one annotation is op 1 of its log.
        var page = await (await _http.GetAsync($"/api/projects/{project.Id}/images")).Read<ImagePage>();
        var second = Assert.Single(page.Items, i => i.FileName == "second.jpg");
        var (secondState, secondSeq) = await ServerState(second.Id);
        Assert.Equal((1, 1L), (secondState.Count, secondSeq));
        await Task.WhenAll(alice.DisposeAsync().AsTask(), bob.DisposeAsync().AsTask(), carol.DisposeAsync().AsTask());
    }

    private static object Create(string clientOpId, Guid imageId, Guid labelId, double x) => new
    {
        clientOpId, imageId, type = "create", annotationId = Guid.CreateVersion7(),
        changes = new { labelId, kind = "box", geometry = new { x, y = 10, width = 20, height = 20 } },
    };

    [Fact]
    public async Task A_label_delete_removes_its_annotations_as_ops_everyone_receives()
    {
        var project = await (await _http.PostJson("/api/projects", new { name = "labels", labels = new[] { new { name = "a" }, new { name = "b" } } })).Read<ProjectDto>();
        Guid a = project.Labels[0].Id, b = project.Labels[1].Id;
        var images = (await (await _http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(
            ("one.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(300, 200))), ("two.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(301, 200))))))
            .Read<UploadSummary>()).Files.Select(f => f.Image!).ToList();
        var (alice, aliceView) = await Connect(images[0].Id, "alice");
        var (bob, bobView) = await Connect(images[0].Id, "bob");
        for (int i = 0; i < 3; i++) await alice.CallAsync("Submit", Create($"a{i}", images[0].Id, a, 10 + 30 * i));
        await bob.CallAsync("Submit", Create("b0", images[0].Id, b, 200));
        await _http.PostJson($"/api/images/{images[1].Id}/annotations", new { labelId = a, kind = "box", geometry = new { x = 1, y = 1, width = 5, height = 5 } });
        await Converged(4, (await ServerState(images[0].Id)).State, aliceView, bobView);
        var (carol, carolView) = await Connect(images[0].Id, "carol");
        await carol.DisposeAsync();

        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/projects/{project.Id}/labels/{a}?deleteAnnotations=true")).StatusCode);
        var (state, seq) = await ServerState(images[0].Id);
        Assert.Equal(7, seq);
        Assert.Single(state);
        await Converged(seq, state, aliceView, bobView);
        Assert.Equal(["delete", "delete", "delete"], aliceView.Log.Where(e => e.Seq > 4).Select(e => e.Type));
        Assert.All(aliceView.Log.Where(e => e.Seq > 4), e => Assert.Equal("rest-user", e.Author));
        (carol, carolView) = await Connect(images[0].Id, "carol", carolView, carolView.Seq);
        await Converged(seq, state, carolView);
        Assert.Empty(await (await _http.GetAsync($"/api/images/{images[1].Id}/annotations")).Read<List<JsonElement>>());
        await Task.WhenAll(alice.DisposeAsync().AsTask(), bob.DisposeAsync().AsTask(), carol.DisposeAsync().AsTask());
    }

    [Fact]
    public async Task An_image_delete_shows_its_annotations_going_then_the_image()
    {
        var project = await (await _http.PostJson("/api/projects", new { name = "gone", labels = new[] { new { name = "a" } } })).Read<ProjectDto>();
        var image = (await (await _http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(("one.jpg", ImageCodec.EncodeJpeg(TestImages.Quadrants(300, 200))))))
            .Read<UploadSummary>()).Files[0].Image!;
        var (alice, aliceView) = await Connect(image.Id, "alice");
        for (int i = 0; i < 2; i++) await alice.CallAsync("Submit", Create($"a{i}", image.Id, project.Labels[0].Id, 10 + 30 * i));
        Assert.Equal(HttpStatusCode.NoContent, (await _http.DeleteAsync($"/api/images/{image.Id}")).StatusCode);
        var gone = await alice.WaitFor("ImageDeleted", TimeSpan.FromSeconds(5));
        Assert.Equal(image.Id, gone[0].GetProperty("imageId").GetGuid());
        Assert.Equal(4, aliceView.Seq); // the deletes arrived before ImageDeleted
        Assert.Empty(aliceView.Annotations);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/images/{image.Id}")).StatusCode);
        await alice.DisposeAsync();
    }
}
