using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Images;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Ground truth and quality figures on real data: coco128 imported as a project and, from its label files alone, as
/// ground truth; an annotator then drops, adds, shifts, relabels and jitters boxes on chosen images, submits, and
/// the report must give exactly the counts those perturbations make.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class QualityTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;

    public ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _owner = _app.Client("lead", admin: false);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private sealed record Box(Guid Id, Guid Label, double X, double Y, double W, double H);

    private static Box BoxOf(JsonElement a)
    {
        var g = a.GetProperty("geometry");
        return new Box(a.GetProperty("id").GetGuid(), a.GetProperty("labelId").GetGuid(), g.GetProperty("x").GetDouble(), g.GetProperty("y").GetDouble(),
            g.GetProperty("width").GetDouble(), g.GetProperty("height").GetDouble());
    }

    [Fact]
    public async Task Perturbed_submissions_score_exactly_against_coco128_ground_truth()
    {
        string root = SharedData.Require("datasets/coco128");
        var report = await _owner.ImportDataset("/api/projects/import?format=yolo&name=c128", HttpExtensions.ZipUpload(DatasetTests.YoloZip("coco128", "coco128.yaml")));
        var projectId = report.ProjectId;
        // Ground truth from the label files and data.yaml alone (no image files): matched by name.
        var labelsOnly = DatasetTests.Zip(DatasetTests.Folder(Path.Combine(root, "labels"), "labels/")
            .Append(("data.yaml", File.ReadAllBytes(SharedData.Require("datasets/coco128.yaml")))));
        var gtForm = HttpExtensions.ZipUpload(labelsOnly);
        var gt = await (await _owner.PostAsync($"/api/projects/{projectId}/ground-truth/import?format=yolo", gtForm)).Read<JsonElement>();
        Assert.Equal((126, report.AnnotationsCreated), (gt.GetProperty("imagesMatched").GetInt32(), gt.GetProperty("annotations").GetInt32()));

        var members = new ProjectMembers(_app, _owner);
        await members.HubPathAsync("/hubs/annotations", projectId, "ann", "annotator");
        await members.HubPathAsync("/hubs/annotations", projectId, "rev", "reviewer");
        var ann = _app.Client("ann", admin: false);
        var rev = _app.Client("rev", admin: false);
        await (await ann.GetAsync($"/api/images/{Guid.NewGuid()}/ground-truth")).Problem(404); // an unknown image
        var page = await (await _owner.GetAsync($"/api/projects/{projectId}/images?limit=1000")).Read<ImagePage>();
        var labels = (await (await _owner.GetAsync($"/api/projects/{projectId}/labels")).Read<List<JsonElement>>()).Select(l => l.GetProperty("id").GetGuid()).ToList();

        // Images whose boxes have a label no other box in the image has (so a perturbed box can only meet its own truth).
        var candidates = new List<(ImageDto Image, List<Box> Boxes, Box Unique)>();
        foreach (var image in page.Items.OrderBy(i => i.FileName))
        {
            var boxes = (await (await _owner.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<JsonElement>>()).Select(BoxOf).ToList();
            var unique = boxes.Where(b => boxes.Count(o => o.Label == b.Label) == 1 && b.W > 8 && b.H > 8 && b.X + 2 * b.W < image.Width).FirstOrDefault();
            if (boxes.Count >= 2 && unique is not null) candidates.Add((image, boxes, unique));
            if (candidates.Count == 7) break;
        }
        Assert.Equal(7, candidates.Count);
        // Annotators never see ground truth.
        await (await ann.GetAsync($"/api/images/{candidates[0].Image.Id}/ground-truth")).Problem(403);

        await using var live = await HubClient.ConnectAsync(_app.Server, await members.HubPathAsync("/hubs/live", projectId, "rev", "reviewer"));
        await live.InvokeAsync("WatchQuality", projectId);
        // Figures about people are for reviewers and owners: an annotator cannot watch them.
        await using (var annLive = await HubClient.ConnectAsync(_app.Server, await members.HubPathAsync("/hubs/live", projectId, "ann", "annotator")))
            Assert.Contains("403", await annLive.CallError("WatchQuality", projectId));

        long tp = 0, fp = 0, fn = 0;
        double iouSum = 0;
        Task Patch(Box b, object changes) => ann.PatchJson($"/api/images/{candidates.First(c => c.Boxes.Contains(b)).Image.Id}/annotations/{b.Id}", changes)
            .ContinueWith(t => t.Result.EnsureSuccessStatusCode());
        for (int k = 0; k < candidates.Count; k++)
        {
            var (image, boxes, u) = candidates[k];
            int n = boxes.Count;
            switch (k)
            {
                case 0: // dropped: one truth missed
                    (await ann.DeleteAsync($"/api/images/{image.Id}/annotations/{u.Id}?version=1")).EnsureSuccessStatusCode();
                    tp += n - 1; fn += 1; iouSum += n - 1;
                    break;
                case 1: // added: a 2×2 box where nothing is
                    (await ann.PostJson($"/api/images/{image.Id}/annotations", new { labelId = u.Label, kind = "box", geometry = new { x = 0, y = 0, width = 2, height = 2 } })).EnsureSuccessStatusCode();
                    tp += n; fp += 1; iouSum += n;
                    break;
                case 2: // shifted by its own width: no overlap with its truth
                    await Patch(u, new { version = 1, geometry = new { x = u.X + u.W, y = u.Y, width = u.W, height = u.H } });
                    tp += n - 1; fp += 1; fn += 1; iouSum += n - 1;
                    break;
                case 3: // relabelled to a label the image does not have: a miss, a false one, and a confusion
                    var other = labels.First(l => boxes.All(b => b.Label != l));
                    await Patch(u, new { version = 1, labelId = other });
                    tp += n - 1; fp += 1; fn += 1; iouSum += n - 1;
                    break;
                case 4: // jittered by one pixel: still a match, with IoU (w-1)/(w+1)
                    await Patch(u, new { version = 1, geometry = new { x = u.X + 1, y = u.Y, width = u.W, height = u.H } });
                    tp += n; iouSum += n - 1 + (u.W - 1) / (u.W + 1);
                    break;
                case 5: // shrunk to a quarter: IoU 0.25, below τ
                    await Patch(u, new { version = 1, geometry = new { x = u.X, y = u.Y, width = u.W / 2, height = u.H / 2 } });
                    tp += n - 1; fp += 1; fn += 1; iouSum += n - 1;
                    break;
                default: // untouched
                    tp += n; iouSum += n;
                    break;
            }
            (await ann.PostJson($"/api/images/{image.Id}/submit", new { })).EnsureSuccessStatusCode();
            var scored = await live.WaitFor("QualityScored", TimeSpan.FromSeconds(10), a => a[0].GetProperty("imageId").GetGuid() == image.Id);
            Assert.Equal("ann", scored[0].GetProperty("annotator").GetString());
            Assert.DoesNotContain("geometry", scored[0].GetRawText()); // figures only, never the truth's shapes
        }

        // A reviewer's later change does not move the annotator's figure: it is scored as submitted.
        var firstImage = candidates[6].Image.Id;
        (await rev.DeleteAsync($"/api/images/{firstImage}/annotations/{candidates[6].Boxes[0].Id}?version=1")).EnsureSuccessStatusCode();

        var byAnnotator = await (await rev.GetAsync($"/api/projects/{projectId}/quality?groupBy=annotator")).Read<JsonElement>();
        var row = byAnnotator.GetProperty("rows").EnumerateArray().Single();
        Assert.Equal(("ann", 7), (row.GetProperty("key").GetString(), row.GetProperty("images").GetInt32()));
        Assert.Equal((tp, fp, fn), (row.GetProperty("tp").GetInt64(), row.GetProperty("fp").GetInt64(), row.GetProperty("fn").GetInt64()));
        double p = (double)tp / (tp + fp), r = (double)tp / (tp + fn);
        Assert.Equal(p, row.GetProperty("precision").GetDouble(), 12);
        Assert.Equal(r, row.GetProperty("recall").GetDouble(), 12);
        Assert.Equal(2 * p * r / (p + r), row.GetProperty("f1").GetDouble(), 12);
        Assert.Equal((double)tp / (tp + fp + fn), row.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(iouSum / tp, row.GetProperty("meanIoU").GetDouble(), 9);
        var confusion = Assert.Single(row.GetProperty("confusions").EnumerateArray());
        Assert.Equal(1, confusion.GetProperty("count").GetInt32());

        var byImage = await (await rev.GetAsync($"/api/projects/{projectId}/quality?groupBy=image&iou=0.2")).Read<JsonElement>();
        var shrunk = byImage.GetProperty("rows").EnumerateArray().Single(x => x.GetProperty("key").GetString() == candidates[5].Image.Id.ToString());
        Assert.Equal((0L, 0L), (shrunk.GetProperty("fp").GetInt64(), shrunk.GetProperty("fn").GetInt64())); // at τ 0.2 the quarter box matches
        var byLabel = await (await rev.GetAsync($"/api/projects/{projectId}/quality?groupBy=label")).Read<JsonElement>();
        Assert.Equal(tp, byLabel.GetProperty("rows").EnumerateArray().Sum(x => x.GetProperty("tp").GetInt64()));
        await (await rev.GetAsync($"/api/projects/{projectId}/quality?groupBy=mood")).Problem(400);
        await (await rev.GetAsync($"/api/projects/{projectId}/quality?iou=0")).Problem(400);
        await (await ann.GetAsync($"/api/projects/{projectId}/quality")).Problem(403);
    }

    [Fact]
    public async Task Ground_truth_from_an_approved_image_and_its_removal()
    {
        var (project, image) = await _owner.ProjectWithImage("gt-approved", ["car"], 64, 48);
        (await _owner.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } })).EnsureSuccessStatusCode();
        var refused = await (await _owner.PostJson($"/api/images/{image.Id}/ground-truth/from-approved", new { })).Problem(409);
        Assert.Contains("only an approved image", refused.GetProperty("detail").GetString());
        (await _owner.PatchJson($"/api/projects/{project.Id}", new { workflow = new { reviewPercent = 0 } })).EnsureSuccessStatusCode();
        (await _owner.PostJson($"/api/images/{image.Id}/submit", new { })).EnsureSuccessStatusCode();
        var copied = await (await _owner.PostJson($"/api/images/{image.Id}/ground-truth/from-approved", new { })).Read<JsonElement>();
        Assert.Equal(1, copied.GetProperty("annotations").GetInt32());
        var summary = await (await _owner.GetAsync($"/api/projects/{project.Id}/ground-truth")).Read<JsonElement>();
        Assert.Equal((1, 1), (summary.GetProperty("images").GetInt32(), summary.GetProperty("annotations").GetInt32()));
        // The owner's own submission scores perfectly against it.
        var quality = await (await _owner.GetAsync($"/api/projects/{project.Id}/quality")).Read<JsonElement>();
        Assert.Equal(1.0, quality.GetProperty("rows")[0].GetProperty("f1").GetDouble());
        (await _owner.DeleteAsync($"/api/images/{image.Id}/ground-truth")).EnsureSuccessStatusCode();
        Assert.Empty(await (await _owner.GetAsync($"/api/images/{image.Id}/ground-truth")).Read<List<JsonElement>>());
        var bad = await (await _owner.PostAsync($"/api/projects/{project.Id}/ground-truth/import?format=voc", HttpExtensions.ZipUpload([1, 2]))).Problem(400);
        Assert.Contains("coco or yolo", bad.GetProperty("detail").GetString());
        var broken = await (await _owner.PostAsync($"/api/projects/{project.Id}/ground-truth/import?format=coco", HttpExtensions.ZipUpload(DatasetTests.Zip([("x.txt", [1])])))).Problem(400);
        Assert.Contains("Nothing was imported", broken.GetProperty("detail").GetString());
    }
}
