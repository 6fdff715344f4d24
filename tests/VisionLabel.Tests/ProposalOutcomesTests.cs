using System.Net;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.ModelLoop;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Proposal outcomes (issue #25, docs/models-in-the-loop.md): a real YOLO model pre-labels coco128 photos; over the hub a
/// person accepts, moves, relabels, rejects and deletes proposals, accepts one and undoes it, leaves one, and draws boxes
/// by hand. The counts per label and per score band are exactly what was done to which proposal; a re-run that replaces
/// untouched proposals supersedes them (counted nowhere). The recommended threshold is pinned on a hand-worked case.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class ProposalOutcomesTests : IAsyncLifetime
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

    /// <summary>SQLite by default; the "…OnPostgres" subclass runs the same on PostgreSQL.</summary>
    protected virtual TestStorage Storage { get; } = TestStorage.Sqlite();

    public virtual ValueTask DisposeAsync()
    {
        _owner?.Dispose(); // null when the shared data is missing and the test was skipped
        _app?.Dispose();
        Storage.Dispose(); // after the server: it drops its PostgreSQL database
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<List<AnnotationDto>> Annotations(Guid image) =>
        await (await _owner.GetAsync($"/api/images/{image}/annotations")).Read<List<AnnotationDto>>();

    private async Task Prelabel(Guid projectId, Guid modelId, string existing)
    {
        var response = await _owner.PostJson($"/api/projects/{projectId}/prelabel", new { modelId, existingProposals = existing });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var job = await _owner.WaitForJob((await response.Read<JobDto>()).Id);
        Assert.Equal(VisionLabel.Server.Data.JobStatus.Completed, job.Status);
    }

    [Fact]
    public async Task Outcome_counts_are_exact_after_scripted_changes_over_the_hub()
    {
        var model = await (await _owner.UploadModel("yolov8n-det-int8-640.onnx", File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")))).Read<ModelDto>();
        var project = await (await _owner.PostJson("/api/projects", new { name = "outcomes", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        // Photos with many objects (coco128's first four: bowls, broccoli, a giraffe, people and more).
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(4).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        (await _owner.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).EnsureSuccessStatusCode();
        var images = (await (await _owner.GetAsync($"/api/projects/{project.Id}/images?limit=10")).Read<ImagePage>()).Items.Select(i => i.Id).ToList();
        await Prelabel(project.Id, model.Id, "keep");

        var proposals = new List<AnnotationDto>();
        foreach (var image in images) proposals.AddRange(await Annotations(image));
        Assert.True(proposals.Count >= 8, $"the model proposed only {proposals.Count} objects");
        Assert.All(proposals, p => Assert.Equal((AnnotationSourceType.Model, model.Id.ToString(), AnnotationState.Proposed), (p.Source.Type, p.Source.ModelId, p.State)));
        var person = project.Labels.Single(l => l.Name == "person").Id;
        var car = project.Labels.Single(l => l.Name == "car").Id;

        // The script, over the hub as the project's owner: what each proposal (by index) should end as.
        var expected = new Dictionary<Guid, string>();
        await using var hub = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "olga", admin: false));
        int n = 0;
        async Task Op(AnnotationDto a, string type, object? changes = null)
        {
            await hub.CallAsync("JoinImage", a.ImageId);
            var ack = await hub.CallAsync("Submit", new { clientOpId = $"op{n++}", imageId = a.ImageId, type, annotationId = a.Id, changes });
            Assert.True(ack.GetProperty("seq").ValueKind == JsonValueKind.Number, ack.ToString());
        }
        static object Moved(AnnotationDto a) => new
        {
            x = a.Geometry.GetProperty("x").GetDouble() + 3, y = a.Geometry.GetProperty("y").GetDouble() + 2,
            width = a.Geometry.GetProperty("width").GetDouble() - 4, height = a.Geometry.GetProperty("height").GetDouble() - 4,
        };
        var p = proposals;
        await Op(p[0], "update", new { state = "accepted" }); expected[p[0].Id] = "acceptedUnchanged";
        await Op(p[1], "update", new { geometry = Moved(p[1]), state = "accepted" }); expected[p[1].Id] = "edited";
        Guid OtherThan(AnnotationDto a) => a.LabelId == car ? person : car;
        await Op(p[2], "update", new { labelId = OtherThan(p[2]), state = "accepted" }); expected[p[2].Id] = "relabeled";
        await Op(p[3], "update", new { labelId = OtherThan(p[3]) }); expected[p[3].Id] = "relabeled"; // still proposed: relabeled all the same
        await Op(p[4], "update", new { state = "rejected" }); expected[p[4].Id] = "rejected";
        await Op(p[5], "delete"); expected[p[5].Id] = "rejected";
        await Op(p[6], "update", new { state = "accepted" });
        await hub.CallAsync("Undo", p[6].ImageId); expected[p[6].Id] = "pending"; // the undo puts it back
        await Op(p[7], "update", new { geometry = Moved(p[7]) }); // moved, then moved back exactly: unchanged
        await Op(p[7], "update", new { geometry = p[7].Geometry, state = "accepted" }); expected[p[7].Id] = "acceptedUnchanged";
        foreach (var rest in p.Skip(8)) expected[rest.Id] = "pending";
        // Hand-drawn: two people and a car on the first image.
        foreach (var (label, x) in new[] { (person, 10.0), (person, 60.0), (car, 110.0) })
        {
            await hub.CallAsync("JoinImage", images[0]);
            await hub.CallAsync("Submit", new { clientOpId = $"hand{x}", imageId = images[0], type = "create", annotationId = Guid.NewGuid(),
                changes = new { labelId = label, kind = "box", geometry = new { x, y = 10, width = 30, height = 40 } } });
        }

        var byLabel = await (await _owner.GetAsync($"/api/projects/{project.Id}/models/{model.Id}/outcomes?groupBy=label")).Read<OutcomeReport>();
        foreach (var label in p.Select(a => a.LabelId).Append(person).Append(car).Distinct())
        {
            var ours = p.Where(a => a.LabelId == label).Select(a => expected[a.Id]).ToList();
            long missed = label == person ? 2 : label == car ? 1 : 0;
            var row = byLabel.Rows.Single(r => r.LabelId == label);
            Assert.Equal((ours.Count(o => o == "acceptedUnchanged"), ours.Count(o => o == "edited"), ours.Count(o => o == "relabeled"), ours.Count(o => o == "rejected"),
                ours.Count(o => o == "pending"), missed), ((int)row.AcceptedUnchanged, (int)row.Edited, (int)row.Relabeled, (int)row.Rejected, (int)row.Pending, row.Missed));
        }
        Assert.Equal((2L, 1L, 2L, 2L, (long)p.Count - 7, 3L), (byLabel.Totals.AcceptedUnchanged, byLabel.Totals.Edited, byLabel.Totals.Relabeled, byLabel.Totals.Rejected,
            byLabel.Totals.Pending, byLabel.Totals.Missed));
        Assert.Equal(model.Name, byLabel.ModelName);

        // Per score band: each proposal in the band of its score (0.1 wide), the same totals.
        var byBand = await (await _owner.GetAsync($"/api/projects/{project.Id}/models/{model.Id}/outcomes?groupBy=scoreBand")).Read<OutcomeReport>();
        foreach (var band in p.GroupBy(a => Math.Floor(a.Source.Score!.Value * 10) / 10))
        {
            var row = byBand.Rows.Single(r => r.ScoreBand is { } b && Math.Abs(b - band.Key) < 1e-9);
            Assert.Equal(band.Count(), (int)(row.AcceptedUnchanged + row.Edited + row.Relabeled + row.Rejected + row.Pending));
            Assert.Equal(band.Count(a => expected[a.Id] == "rejected"), (int)row.Rejected);
        }
        Assert.Equal(p.Count, (int)byBand.Rows.Sum(r => r.AcceptedUnchanged + r.Edited + r.Relabeled + r.Rejected + r.Pending));

        // A re-run that replaces untouched proposals: those are superseded (counted nowhere), the new ones pending.
        await Prelabel(project.Id, model.Id, "replace");
        var after = await (await _owner.GetAsync($"/api/projects/{project.Id}/models/{model.Id}/outcomes")).Read<OutcomeReport>();
        var nowProposed = new List<AnnotationDto>();
        foreach (var image in images) nowProposed.AddRange((await Annotations(image)).Where(a => a.State == AnnotationState.Proposed && a.Source.Type == AnnotationSourceType.Model));
        // Still proposed now: p[3] (relabeled, version > 1, kept), p[6] (touched: kept) and the re-run's new ones.
        Assert.Equal(nowProposed.Count(a => expected.GetValueOrDefault(a.Id) is null or "pending"), (int)after.Totals.Pending);
        Assert.Equal((2L, 1L, 2L, 2L), (after.Totals.AcceptedUnchanged, after.Totals.Edited, after.Totals.Relabeled, after.Totals.Rejected));

        // The people figures: olga settled 7 proposals (the undone one is pending again), 2 of them accepted unchanged.
        var olga = (await (await _owner.GetAsync($"/api/projects/{project.Id}/analytics/people")).Read<JsonElement>()).GetProperty("people").EnumerateArray()
            .Single(x => x.GetProperty("user").GetString() == "olga");
        Assert.Equal((7, 0.285714), (olga.GetProperty("proposalsDecided").GetInt32(), olga.GetProperty("proposalsAcceptedUnchanged").GetDouble()));

        // Bad input: a grouping that is not one, a model with no proposals here.
        var bad = await (await _owner.GetAsync($"/api/projects/{project.Id}/models/{model.Id}/outcomes?groupBy=person")).Problem(400);
        Assert.True(bad.GetProperty("errors").TryGetProperty("groupBy", out _));
        await (await _owner.GetAsync($"/api/projects/{project.Id}/models/{Guid.NewGuid()}/outcomes")).Problem(404);
        var listed = await (await _owner.GetAsync($"/api/projects/{project.Id}/models/outcomes")).Read<List<ModelWithProposals>>();
        Assert.Equal(model.Id.ToString(), Assert.Single(listed).ModelId);
    }

    [Fact]
    public void The_recommended_threshold_maximises_f1_over_kept_wrong_and_missed()
    {
        // Kept at 0.9, 0.8, 0.4; wrong at 0.7, 0.3; one missed; pending ignored. Lowering the threshold step by step:
        // 0.9: 2·1/(2+0+3) = 0.4; 0.8: 4/6 = 0.667; 0.7: 4/7 = 0.571; 0.4: 6/8 = 0.75; 0.3: 6/9 = 0.667 → 0.4, P 3/4, R 3/4.
        var advice = ProposalOutcomes.Advise(Guid.Empty, "car", [
            (0.9, ProposalOutcomeKind.AcceptedUnchanged), (0.8, ProposalOutcomeKind.Edited), (0.4, ProposalOutcomeKind.AcceptedUnchanged),
            (0.7, ProposalOutcomeKind.Rejected), (0.3, ProposalOutcomeKind.Relabeled), (0.95, ProposalOutcomeKind.Pending)], missed: 1);
        Assert.Equal((0.4, 0.75, 0.75, 0.75, 3, 2), (advice.Threshold!.Value, advice.F1!.Value, advice.Precision!.Value, advice.Recall!.Value, advice.Kept, advice.Wrong));
        // Nothing kept: no advice.
        Assert.Null(ProposalOutcomes.Advise(Guid.Empty, "car", [(0.5, ProposalOutcomeKind.Rejected)], 0).Threshold);
        // Time saved: hand images 60 s / 3 objects and 40 s / 2 → 20 s each; this model's 30 s / 3 and 10 s / 2 → 8 s each;
        // another model's image is left out → 5 × (20 − 8) = 60 s.
        var saved = ProposalOutcomes.Estimate([(60, 3, true, false), (40, 2, true, false), (30, 3, false, true), (10, 2, false, true), (500, 1, false, false)]);
        Assert.Equal((20.0, 8.0, 5L, 60.0), (saved.HandSecondsPerObject!.Value, saved.ModelSecondsPerObject!.Value, saved.ModelObjects, saved.SavedSeconds!.Value));
        Assert.Null(ProposalOutcomes.Estimate([(60, 3, true, false)]).SavedSeconds); // nothing measured with the model
        // Bands of 0.1, the last taking 1.0.
        Assert.Equal([0.0, 0.2, 0.5, 0.9, 0.9], new double?[] { 0.05, 0.2, 0.55, 0.99, 1.0 }.Select(s => ProposalOutcomes.Band(s)!.Value));
    }
}

/// <summary>The outcomes on PostgreSQL, where the write path groups ops from several callers into one commit.</summary>
public sealed class ProposalOutcomesTestsOnPostgres : ProposalOutcomesTests
{
    protected override TestStorage Storage { get; } = TestStorage.Postgres();
}
