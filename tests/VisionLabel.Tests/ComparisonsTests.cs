using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.ModelLoop;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Model comparison and preference (issue #25, docs/models-in-the-loop.md): two real YOLO models (a detector and a
/// segmenter) run on coco128 photos that have ground truth; a reviewer judges every pair blinded; the leaderboard's counts,
/// win rates and Bradley–Terry scores follow from the judgements the JSONL export gives back, and each model's figures
/// against the ground truth from its outputs. Bad input names its field; a disputed sample keeps the images the models
/// disagree on most.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class ComparisonsTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;

    public ValueTask InitializeAsync()
    {
        SharedData.Require("models/yolov8n-det-int8-640.onnx");
        var settings = new Dictionary<string, string?>(Storage.Settings() ?? [])
        {
            ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200", ["VisionLabel:Jobs:ProgressInterval"] = "00:00:00.050", ["VisionLabel:Inference:Device"] = "cpu",
        };
        _app = new VisionLabelApp(_data.Path, settings);
        _owner = _app.Client("olga", admin: false);
        return ValueTask.CompletedTask;
    }

    protected virtual TestStorage Storage { get; } = TestStorage.Sqlite();

    public virtual ValueTask DisposeAsync()
    {
        _owner?.Dispose();
        _app?.Dispose();
        Storage.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<ModelDto> Upload(string file) =>
        await (await _owner.UploadModel(file, File.ReadAllBytes(SharedData.Require($"models/{file}")))).Read<ModelDto>();

    private async Task<JsonElement> StartAndWait(Guid projectId, object request)
    {
        var response = await _owner.PostJson($"/api/projects/{projectId}/comparisons", request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var started = await response.Read<JsonElement>();
        Assert.Equal("running", started.GetProperty("status").GetString());
        var job = await _owner.WaitForJob(started.GetProperty("jobId").GetGuid());
        Assert.True(job.Status == VisionLabel.Server.Data.JobStatus.Completed, $"the comparison's job is {job.Status}: {job.LastError}");
        Assert.Equal(job.Total, job.Done);
        return await (await _owner.GetAsync($"/api/projects/{projectId}/comparisons/{started.GetProperty("id").GetGuid()}")).Read<JsonElement>();
    }

    [Fact]
    public async Task Two_models_judged_blind_give_a_leaderboard_and_an_export_that_agree()
    {
        var detector = await Upload("yolov8n-det-int8-640.onnx");
        var segmenter = await Upload("yolo11n-seg-int8-640.onnx");
        var project = await (await _owner.PostJson("/api/projects", new { name = "compare", labels = detector.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        string root = SharedData.Require("datasets/coco128");
        var names = Directory.GetFiles(Path.Combine(root, "images/train2017"), "*.jpg").Order().Take(6).ToList();
        (await _owner.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(names.Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray())))
            .EnsureSuccessStatusCode();
        var images = (await (await _owner.GetAsync($"/api/projects/{project.Id}/images?limit=10")).Read<ImagePage>()).Items;
        // Ground truth: coco128's label files for these photos (matched by name).
        var labels = names.Select(f => Path.GetFileNameWithoutExtension(f) + ".txt")
            .Select(t => ($"labels/train2017/{t}", File.ReadAllBytes(Path.Combine(root, "labels/train2017", t))))
            .Append(("data.yaml", File.ReadAllBytes(SharedData.Require("datasets/coco128.yaml"))));
        (await _owner.PostAsync($"/api/projects/{project.Id}/ground-truth/import?format=yolo", HttpExtensions.ZipUpload(DatasetTests.Zip(labels)))).EnsureSuccessStatusCode();

        var sample = images.OrderBy(i => i.FileName).Take(5).Select(i => i.Id).ToList();
        var report = await StartAndWait(project.Id, new { modelIds = new[] { detector.Id, segmenter.Id }, sampleSize = 4, imageIds = sample, seed = 7 });
        var comparison = report.GetProperty("comparison");
        Guid comparisonId = comparison.GetProperty("id").GetGuid();
        Assert.Equal(("ready", 4, 4, 0), (comparison.GetProperty("status").GetString(), comparison.GetProperty("images").GetInt32(),
            comparison.GetProperty("pairs").GetInt32(), comparison.GetProperty("judgements").GetInt32()));

        // Judged blind by two reviewers: the pairs come without model ids, and so do the answers to a judgement; every pair
        // once per judge, then 204. Each judge's order of A and B is their own, and the same each time they are shown the pair.
        var members = new ProjectMembers(_app, _owner);
        await members.HubPathAsync("/hubs/annotations", project.Id, "rita", "reviewer");
        await members.HubPathAsync("/hubs/annotations", project.Id, "vic", "reviewer");
        using var rita = _app.Client("rita", admin: false);
        using var vic = _app.Client("vic", admin: false);
        string[] choices = ["A", "B", "tie", "bothBad"];
        string[][] reasons = [["falsePositives"], ["missedObjects", "looseBoxes"], [], ["wrongLabels"]];
        var shown = new List<(string Judge, Guid Pair, Guid Image, string A, string B)>();
        string Ids(string raw) => raw.Contains(detector.Id.ToString()) || raw.Contains(segmenter.Id.ToString()) ? raw : "";
        foreach (var (judge, client) in new[] { ("rita", rita), ("vic", vic) })
            for (int k = 0; k < 4; k++)
            {
                var next = await client.GetAsync($"/api/projects/{project.Id}/comparisons/{comparisonId}/next");
                Assert.Equal(HttpStatusCode.OK, next.StatusCode);
                string raw = await next.Content.ReadAsStringAsync();
                Assert.Equal("", Ids(raw));
                var pair = JsonDocument.Parse(raw).RootElement;
                Assert.Equal((k, 4 - k), (pair.GetProperty("judged").GetInt32(), pair.GetProperty("remaining").GetInt32()));
                Guid pairId = pair.GetProperty("pairId").GetGuid();
                // Asked again, the same pair in the same order.
                Assert.Equal(raw, await client.GetStringAsync($"/api/projects/{project.Id}/comparisons/{comparisonId}/next"));
                shown.Add((judge, pairId, pair.GetProperty("imageId").GetGuid(), pair.GetProperty("a").GetRawText(), pair.GetProperty("b").GetRawText()));
                string choice = judge == "rita" ? choices[k] : "A";
                var judged = await client.PostJson($"/api/projects/{project.Id}/comparisons/{comparisonId}/pairs/{pairId}/judgement",
                    new { choice, reasons = judge == "rita" ? reasons[k] : [] });
                Assert.Equal(HttpStatusCode.Created, judged.StatusCode);
                Assert.Equal("", Ids(await judged.Content.ReadAsStringAsync()));
                if (k == 0 && judge == "rita")
                {
                    await (await rita.PostJson($"/api/projects/{project.Id}/comparisons/{comparisonId}/pairs/{pairId}/judgement", new { choice = "B" })).Problem(409);
                    var field = await (await rita.PostJson($"/api/projects/{project.Id}/comparisons/{comparisonId}/pairs/{pairId}/judgement", new { choice = "C" })).Problem(400);
                    Assert.True(field.GetProperty("errors").TryGetProperty("choice", out _));
                    field = await (await rita.PostJson($"/api/projects/{project.Id}/comparisons/{comparisonId}/pairs/{pairId}/judgement", new { choice = "A", reasons = new[] { "ugly" } })).Problem(400);
                    Assert.True(field.GetProperty("errors").TryGetProperty("reasons[0]", out _));
                    field = await (await rita.PostJson($"/api/projects/{project.Id}/comparisons/{comparisonId}/pairs/{pairId}/judgement", new { choice = "tie", reasons = new[] { "looseBoxes" } })).Problem(400);
                    Assert.True(field.GetProperty("errors").TryGetProperty("reasons", out _));
                    await (await rita.PostJson($"/api/projects/{project.Id}/comparisons/{comparisonId}/pairs/{Guid.NewGuid()}/judgement", new { choice = "A" })).Problem(404);
                }
            }
        Assert.Equal(HttpStatusCode.NoContent, (await rita.GetAsync($"/api/projects/{project.Id}/comparisons/{comparisonId}/next")).StatusCode);
        Assert.Equal(4, shown.Where(s => s.Judge == "rita").Select(s => s.Image).Distinct().Count()); // two models: one pair per image
        Assert.True(shown.Where(s => s.Judge == "vic").Select(s => s.Pair).ToHashSet().SetEquals(shown.Where(s => s.Judge == "rita").Select(s => s.Pair)));
        foreach (var v in shown.Where(s => s.Judge == "vic")) // the same two outputs, in either order
        {
            var r = shown.Single(s => s.Judge == "rita" && s.Pair == v.Pair);
            Assert.True(r.A == v.A && r.B == v.B || r.A == v.B && r.B == v.A, "vic was not shown rita's two outputs");
        }

        // The export (owners: it names the models): one line per judgement, with the model each judge saw as A and as B,
        // exactly the outputs they were shown on each side, the choice and the reasons.
        await (await rita.GetAsync($"/api/projects/{project.Id}/comparisons/{comparisonId}/export")).Problem(403);
        var export = await _owner.GetAsync($"/api/projects/{project.Id}/comparisons/{comparisonId}/export");
        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType?.MediaType);
        var lines = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(8, lines.Count);
        var judgedList = new List<Judged>();
        for (int k = 0; k < 8; k++)
        {
            var line = lines[k];
            var (judge, _, image, a, b) = shown[k];
            string choice = judge == "rita" ? choices[k] : "A";
            Assert.Equal(choice, line.GetProperty("choice").GetString());
            Assert.Equal(judge == "rita" ? reasons[k] : [], line.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!).ToArray());
            Assert.Equal((judge, image), (line.GetProperty("judge").GetString(), line.GetProperty("imageId").GetGuid()));
            Assert.Equal(images.Single(i => i.Id == image).FileName, line.GetProperty("fileName").GetString());
            Assert.Equal(JsonValueKind.Null, line.GetProperty("guidelineVersion").ValueKind);
            var models = new[] { line.GetProperty("modelA").GetGuid(), line.GetProperty("modelB").GetGuid() };
            Assert.Equal(new[] { detector.Id, segmenter.Id }.Order(), models.Order());
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(a), JsonNode.Parse(line.GetProperty("outputsA").GetRawText())), $"line {k}: outputsA is not what the judge saw as A");
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(b), JsonNode.Parse(line.GetProperty("outputsB").GetRawText())), $"line {k}: outputsB is not what the judge saw as B");
            // What each model's outputs are: the detector's boxes, the segmenter's masks.
            Assert.All(line.GetProperty("outputsA").EnumerateArray(), o => Assert.Equal(models[0] == detector.Id ? "box" : "mask", o.GetProperty("kind").GetString()));
            judgedList.Add(new Judged(models[0].ToString(), models[1].ToString(), choice switch { "A" => Preference.A, "B" => Preference.B, "tie" => Preference.Tie, _ => Preference.BothBad }));
        }

        // The leaderboard follows from those judgements: counts, win rate ((wins + ½ ties + ½ both bad) ÷ games), Bradley–Terry,
        // the reasons against each model (a loss's, both sides' of a both-bad).
        report = await (await _owner.GetAsync($"/api/projects/{project.Id}/comparisons/{comparisonId}")).Read<JsonElement>();
        var fit = BradleyTerry.Fit([detector.Id.ToString(), segmenter.Id.ToString()], judgedList);
        var rows = report.GetProperty("leaderboard").EnumerateArray().ToList();
        Assert.Equal(2, rows.Count);
        Assert.True(rows[0].GetProperty("score").GetDouble() >= rows[1].GetProperty("score").GetDouble());
        int truthShapes = 0;
        foreach (var image in shown.Select(s => s.Image).Distinct())
            truthShapes += (await (await _owner.GetAsync($"/api/images/{image}/ground-truth")).Read<List<JsonElement>>()).Count;
        foreach (var row in rows)
        {
            string id = row.GetProperty("modelId").GetString()!;
            int wins = judgedList.Count(j => j.Choice == Preference.A && j.ModelA == id || j.Choice == Preference.B && j.ModelB == id);
            int losses = judgedList.Count(j => j.Choice == Preference.A && j.ModelB == id || j.Choice == Preference.B && j.ModelA == id);
            Assert.Equal((8, wins, losses, 1, 1), (row.GetProperty("games").GetInt32(), row.GetProperty("wins").GetInt32(), row.GetProperty("losses").GetInt32(),
                row.GetProperty("ties").GetInt32(), row.GetProperty("bothBad").GetInt32()));
            Assert.Equal((wins + 1.0) / 8, row.GetProperty("winRate").GetDouble(), 6);
            Assert.Equal(fit[id], row.GetProperty("score").GetDouble(), 5);
            Assert.True(row.GetProperty("low").GetDouble() <= row.GetProperty("score").GetDouble() && row.GetProperty("score").GetDouble() <= row.GetProperty("high").GetDouble());
            var expectedAgainst = lines.SelectMany(l =>
            {
                string c = l.GetProperty("choice").GetString()!;
                bool against = c == "bothBad" || c == "A" && l.GetProperty("modelB").GetString() == id || c == "B" && l.GetProperty("modelA").GetString() == id;
                return against ? l.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()!) : [];
            }).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
            var against = row.GetProperty("reasonsAgainst").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            Assert.Equal(expectedAgainst.OrderBy(kv => kv.Key), against.OrderBy(kv => kv.Key));
            // Against the ground truth (coco128's labels of the 4 images): every truth shape is matched or missed once,
            // every output matched or a false positive (a mask against box truth by its bounding box).
            var gt = row.GetProperty("groundTruth");
            Assert.Equal(4, gt.GetProperty("images").GetInt32());
            Assert.Equal(truthShapes, gt.GetProperty("tp").GetInt64() + gt.GetProperty("fn").GetInt64());
            int outputs = lines.Where(l => l.GetProperty("judge").GetString() == "rita")
                .Sum(l => l.GetProperty("modelA").GetString() == id ? l.GetProperty("outputsA").GetArrayLength() : l.GetProperty("outputsB").GetArrayLength());
            Assert.Equal(outputs, gt.GetProperty("tp").GetInt64() + gt.GetProperty("fp").GetInt64());
            Assert.InRange(gt.GetProperty("f1").GetDouble(), 0.4, 1); // real models on real photos find most of it
        }
        Assert.Equal(8, report.GetProperty("recent").GetArrayLength());
    }

    [Fact]
    public async Task Bad_requests_name_their_field_and_a_disputed_sample_keeps_the_most_disputed()
    {
        var detector = await Upload("yolov8n-det-int8-640.onnx");
        var segmenter = await Upload("yolo11n-seg-int8-640.onnx");
        var project = await (await _owner.PostJson("/api/projects", new { name = "disputed", labels = detector.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var other = await (await _owner.PostJson("/api/projects", new { name = "other", labels = new[] { new { name = "zebra-crossing" } } })).Read<ProjectDto>();
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(6).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        (await _owner.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).EnsureSuccessStatusCode();
        (await _owner.PostAsync($"/api/projects/{other.Id}/images", HttpExtensions.Files(files[..1]))).EnsureSuccessStatusCode();
        var foreign = (await (await _owner.GetAsync($"/api/projects/{other.Id}/images?limit=1")).Read<ImagePage>()).Items[0].Id;

        async Task Refused(object body, string field)
        {
            var problem = await (await _owner.PostJson($"/api/projects/{project.Id}/comparisons", body)).Problem(400);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field}: {problem}");
        }
        await Refused(new { modelIds = new[] { detector.Id } }, "modelIds");
        await Refused(new { modelIds = new[] { detector.Id, detector.Id } }, "modelIds");
        await Refused(new { modelIds = new[] { detector.Id, Guid.NewGuid() } }, "modelIds[1]");
        await Refused(new { modelIds = new[] { detector.Id, segmenter.Id }, sample = "best" }, "sample");
        await Refused(new { modelIds = new[] { detector.Id, segmenter.Id }, sampleSize = 0 }, "sampleSize");
        await Refused(new { modelIds = new[] { detector.Id, segmenter.Id }, confidence = 1.5 }, "confidence");
        await Refused(new { modelIds = new[] { detector.Id, segmenter.Id }, confidence = 0.01 }, "confidence");
        await Refused(new { modelIds = new[] { detector.Id, segmenter.Id }, imageIds = new[] { foreign } }, "imageIds");
        // A project whose labels no class of the model maps to.
        var refused = await (await _owner.PostJson($"/api/projects/{other.Id}/comparisons", new { modelIds = new[] { detector.Id, segmenter.Id } })).Problem(400);
        Assert.True(refused.GetProperty("errors").TryGetProperty("modelIds[0]", out _));

        // Disputed: the models run on 3 × 2 = all 6 photos; the 2 they disagree on most are kept, with how much.
        var report = await StartAndWait(project.Id, new { modelIds = new[] { detector.Id, segmenter.Id }, sampleSize = 2, sample = "disputed", seed = 3 });
        var comparison = report.GetProperty("comparison");
        Assert.Equal(("disputed", 2, 2), (comparison.GetProperty("sample").GetString(), comparison.GetProperty("images").GetInt32(), comparison.GetProperty("pairs").GetInt32()));
        Assert.Equal(6, comparison.GetProperty("total").GetInt32()); // the models ran on all 6
        Guid comparisonId = comparison.GetProperty("id").GetGuid();
        // The same models on all six at random give each photo's disagreement (the models run the same way every time):
        // the disputed sample is the two highest.
        var all = (await StartAndWait(project.Id, new { modelIds = new[] { detector.Id, segmenter.Id }, sampleSize = 6 })).GetProperty("comparison").GetProperty("id").GetGuid();
        using (var scope = _app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            var every = await db.ComparisonImages.Where(i => i.ComparisonId == all).ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(6, every.Count);
            Assert.Contains(every, i => i.Disagreement > 0); // the two models do not agree everywhere
            var kept = await db.ComparisonImages.Where(i => i.ComparisonId == comparisonId).ToListAsync(TestContext.Current.CancellationToken);
            Assert.Equal(every.OrderByDescending(i => i.Disagreement).ThenBy(i => i.ImageId).Take(2).Select(i => (i.ImageId, i.Disagreement)),
                kept.OrderByDescending(i => i.Disagreement).ThenBy(i => i.ImageId).Select(i => (i.ImageId, i.Disagreement)));
        }
        // Not found from another project; judging refused to a viewer-level caller is the matrix test's.
        await (await _owner.GetAsync($"/api/projects/{other.Id}/comparisons/{comparisonId}")).Problem(404);
        var list = await (await _owner.GetAsync($"/api/projects/{project.Id}/comparisons")).Read<List<JsonElement>>();
        Assert.Equal([all, comparisonId], list.Select(c => c.GetProperty("id").GetGuid()));
    }
}

public sealed class ComparisonsTestsOnPostgres : ComparisonsTests
{
    protected override TestStorage Storage { get; } = TestStorage.Postgres();
}
