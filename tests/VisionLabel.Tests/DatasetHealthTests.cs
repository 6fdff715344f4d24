using System.Net;
using System.Text.Json;
using VisionLabel.Server.Data;
using VisionLabel.Server.Datasets;
using VisionLabel.Server.Images;
using VisionLabel.Server.Jobs;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Dataset health on coco128 (docs/analytics.md): copies of three of its photos planted as people make them (resized,
/// re-encoded at low quality, slightly cropped, brightened) are all found as near-duplicates of their photo, no two
/// different coco128 photos are, a copy in the other export split is reported as a leak, and the class counts are the
/// project's accepted annotations by split.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class DatasetHealthTests : IAsyncLifetime
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

    private async Task<JsonElement> RunAsync(Guid projectId, object body)
    {
        var members = new ProjectMembers(_app, _owner);
        await using var live = await HubClient.ConnectAsync(_app.Server, await members.HubPathAsync("/hubs/live", projectId, "watcher", "viewer"));
        var response = await _owner.PostJson($"/api/projects/{projectId}/health", body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await response.Read<JobDto>();
        await live.CallAsync("WatchJob", job.Id);
        job = await (await _owner.GetAsync($"/api/jobs/{job.Id}")).Read<JobDto>();
        if (job.Status != JobStatus.Completed)
            await live.WaitFor("JobProgress", TimeSpan.FromSeconds(120), a => a[0].GetProperty("status").GetString() is "completed" or "dead");
        var health = await (await _owner.GetAsync($"/api/projects/{projectId}/health")).Read<JsonElement>();
        Assert.Equal("done", health.GetProperty("status").GetString());
        return health;
    }

    [Fact]
    public async Task Planted_near_duplicates_are_found_and_a_copy_across_splits_is_a_leak()
    {
        SharedData.Require("datasets/coco128");
        var report = await _owner.ImportDataset("/api/projects/import?format=yolo&name=health", HttpExtensions.ZipUpload(DatasetTests.YoloZip("coco128", "coco128.yaml")));
        var projectId = report.ProjectId;
        // The import started a health run of its own.
        Assert.Contains((await (await _owner.GetAsync($"/api/projects/{projectId}/health")).Read<JsonElement>()).GetProperty("status").GetString(), new[] { "running", "done" });
        var originals = (await (await _owner.GetAsync($"/api/projects/{projectId}/images?limit=1000")).Read<ImagePage>()).Items;
        var family = originals.ToDictionary(i => i.Id, i => i.FileName); // image → the photo it shows
        var photos = Directory.GetFiles(SharedData.Coco128Images).Order().ToList();
        foreach (var photo in new[] { photos[3], photos[50], photos[111] })
        {
            var copies = PerceptualHashTests.Copies(File.ReadAllBytes(photo)).Select(c => ($"{Path.GetFileNameWithoutExtension(photo)}-{c.How.Replace(' ', '-')}.jpg", c.Jpeg)).ToArray();
            var upload = await (await _owner.PostAsync($"/api/projects/{projectId}/images", HttpExtensions.Files(copies))).Read<UploadSummary>();
            Assert.Equal(4, upload.Created);
            foreach (var f in upload.Files) family[f.Image!.Id] = Path.GetFileName(photo);
        }

        // A seed whose val split (half) puts some planted copy on the other side of its photo: that pair is a leak.
        string NameOf(Guid id) => family[id];
        var originalOf = originals.ToDictionary(i => i.FileName, i => i.Id);
        int seed = Enumerable.Range(0, 100).First(s => family.Any(f => f.Key != originalOf[f.Value]
            && ExportSplit.Of(f.Key, 0.5, s) != ExportSplit.Of(originalOf[f.Value], 0.5, s)));
        var health = await RunAsync(projectId, new { val = 0.5, seed });

        var pairs = health.GetProperty("nearDuplicates").EnumerateArray()
            .Select(p => (A: p.GetProperty("imageA").GetGuid(), B: p.GetProperty("imageB").GetGuid(), D: p.GetProperty("distance").GetInt32())).ToList();
        // Every copy is found with its photo, and nothing pairs two different photos.
        foreach (var (copy, photo) in family.Where(f => f.Key != originalOf[f.Value]))
            Assert.Contains(pairs, p => (p.A == copy && p.B == originalOf[photo]) || (p.B == copy && p.A == originalOf[photo]));
        Assert.All(pairs, p => Assert.Equal(NameOf(p.A), NameOf(p.B)));
        Assert.All(pairs, p => Assert.InRange(p.D, 0, 10));
        // Leaks: exactly the near-duplicate pairs whose images the export (val 0.5, this seed) puts in different splits.
        var leaks = health.GetProperty("leaks").EnumerateArray().Select(l => (l.GetProperty("imageA").GetGuid(), l.GetProperty("imageB").GetGuid())).ToHashSet();
        var expected = pairs.Where(p => ExportSplit.Of(p.A, 0.5, seed) != ExportSplit.Of(p.B, 0.5, seed)).Select(p => (p.A, p.B)).ToHashSet();
        Assert.NotEmpty(expected);
        Assert.Equal(expected, leaks);

        // Class counts: the imported (accepted) annotations, each in its image's split.
        var counts = health.GetProperty("classCounts").EnumerateArray().ToList();
        Assert.Equal(report.AnnotationsCreated, counts.Sum(c => c.GetProperty("count").GetInt64()));
        Assert.Equal(report.AnnotationsCreated, health.GetProperty("annotations").GetInt64());
        Assert.Equal(originals.Count + 12, health.GetProperty("images").GetInt32());
        Assert.Contains(counts, c => c.GetProperty("split").GetString() == "val");
        Assert.Equal(0, health.GetProperty("unhashed").GetInt32());
        // The twelve copies have no objects; the objects-per-image figures add up to every image.
        Assert.Equal(originals.Count + 12, health.GetProperty("objectsPerImage").EnumerateArray().Sum(o => o.GetProperty("images").GetInt32()));
        Assert.NotEmpty(health.GetProperty("heatmaps").EnumerateArray());

        // An annotator may not run it or read it; bad input names its field.
        var members = new ProjectMembers(_app, _owner);
        await members.HubPathAsync("/hubs/annotations", projectId, "ann", "annotator");
        Assert.Equal(HttpStatusCode.Forbidden, (await _app.Client("ann", admin: false).GetAsync($"/api/projects/{projectId}/health")).StatusCode);
        var bad = await (await _owner.PostJson($"/api/projects/{projectId}/health", new { val = 1.0 })).Problem(400);
        Assert.True(bad.GetProperty("errors").TryGetProperty("val", out _));
    }
}
