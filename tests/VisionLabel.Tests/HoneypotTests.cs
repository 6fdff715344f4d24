using System.Net;
using System.Text.Json;
using VisionLabel.Server.Images;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Honeypots and onboarding through the real routes: ground-truth images handed out as private copies that look like
/// any image, feedback on submit that scores the work without revealing the truth (the response and every hub message
/// the annotator receives are checked), copies invisible to other annotators, and onboarding gating real work.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class HoneypotTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private List<Guid> _images = null!;
    private ProjectMembers _members = null!;
    private Guid Car => _project.Labels.Single(l => l.Name == "car").Id;
    private Guid Truck => _project.Labels.Single(l => l.Name == "truck").Id;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path, Storage.Settings());
        _owner = _app.Client("lead", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "honeypots", labels = new[] { new { name = "car" }, new { name = "truck" } } })).Read<ProjectDto>();
        _images = await _owner.UploadImagesAsync(_project.Id, 4);
        _members = new ProjectMembers(_app, _owner);
    }

    /// <summary>SQLite by default; the "…OnPostgres" subclass runs the same on PostgreSQL.</summary>
    protected virtual TestStorage Storage { get; } = TestStorage.Sqlite();

    public virtual ValueTask DisposeAsync()
    {
        _app.Dispose();
        Storage.Dispose(); // after the server: it drops its PostgreSQL database
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<HttpClient> As(string user, string role = "annotator")
    {
        await _members.HubPathAsync("/hubs/annotations", _project.Id, user, role);
        return _app.Client(user, admin: false);
    }

    private static object Box(Guid label, double x, double y, double w, double h) => new { labelId = label, kind = "box", geometry = new { x, y, width = w, height = h } };

    /// <summary>Ground truth on an image, made the way an owner makes it: label, approve (review sample 0), copy the approved annotations.</summary>
    private async Task TruthAsync(Guid image, params object[] boxes)
    {
        foreach (var box in boxes) (await _owner.PostJson($"/api/images/{image}/annotations", box)).EnsureSuccessStatusCode();
        (await _owner.WorkflowAsync(_project.Id, new { reviewPercent = 0 })).EnsureSuccessStatusCode();
        (await _owner.WorkAsync(image, "submit")).EnsureSuccessStatusCode();
        (await _owner.PostJson($"/api/images/{image}/ground-truth/from-approved", new { })).EnsureSuccessStatusCode();
        (await _owner.WorkflowAsync(_project.Id, new { reviewPercent = 100 })).EnsureSuccessStatusCode();
    }

    private async Task<string> FileNameAsync(HttpClient client, Guid image) => (await (await client.GetAsync($"/api/images/{image}")).Read<ImageDto>()).FileName;

    [Fact]
    public async Task A_honeypot_is_scored_on_submit_with_hints_and_never_reveals_the_truth()
    {
        var truthImage = _images[0];
        // Odd coordinates, so any leak of them would show in what the annotator receives.
        await TruthAsync(truthImage, Box(Car, 10.25, 10.75, 30.5, 30.5), Box(Truck, 61.5, 43.25, 21.75, 19.5));
        var truthIds = (await (await _owner.GetAsync($"/api/images/{truthImage}/ground-truth")).Read<List<JsonElement>>()).Select(g => g.GetProperty("id").GetGuid().ToString()).ToList();
        Assert.Equal(2, truthIds.Count);
        (await _owner.WorkflowAsync(_project.Id, new { honeypotPercent = 100 })).EnsureSuccessStatusCode();

        var alice = await As("alice");
        await using var aliceHub = await HubClient.ConnectAsync(_app.Server, await _members.HubPathAsync("/hubs/annotations", _project.Id, "alice"));
        var lease = (await alice.NextAsync(_project.Id))!.Value;
        var copy = lease.GetProperty("imageId").GetGuid();
        Assert.NotEqual(truthImage, copy);
        Assert.Equal("annotate", lease.GetProperty("stage").GetString());
        Assert.Equal(await FileNameAsync(_owner, truthImage), await FileNameAsync(alice, copy)); // it looks like any image
        await aliceHub.CallAsync("JoinImage", copy);
        // The truth itself is not for annotators, on the image or its copy.
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync($"/api/images/{copy}/ground-truth")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync($"/api/images/{truthImage}/ground-truth")).StatusCode);

        // Her answer: the car exactly, the truck labelled car (a confusion), and an extra truck nowhere near anything.
        (await alice.PostJson($"/api/images/{copy}/annotations", Box(Car, 10.25, 10.75, 30.5, 30.5))).EnsureSuccessStatusCode();
        (await alice.PostJson($"/api/images/{copy}/annotations", Box(Car, 62, 44, 21, 19))).EnsureSuccessStatusCode();
        (await alice.PostJson($"/api/images/{copy}/annotations", Box(Truck, 100, 2, 20, 20))).EnsureSuccessStatusCode();
        // Another annotator can neither see her copy nor work on it.
        var bob = await As("bob");
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/images/{copy}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/images/{copy}/annotations")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostJson($"/api/images/{copy}/annotations", Box(Car, 1, 1, 5, 5))).StatusCode);
        await using (var bobHub = await HubClient.ConnectAsync(_app.Server, await _members.HubPathAsync("/hubs/annotations", _project.Id, "bob")))
            Assert.Contains("404", await bobHub.CallError("JoinImage", copy));

        var submitted = await (await alice.WorkAsync(copy, "submit")).Read<JsonElement>();
        Assert.Equal("approved", submitted.GetProperty("stage").GetString()); // a copy is final: nobody reviews it
        var feedback = submitted.GetProperty("feedback");
        // TP 1 (car), FP 2 (the car on the truck, the extra truck), FN 1 (the truck): P 1/3, R 1/2, F1 0.4.
        Assert.Equal(0.4, feedback.GetProperty("f1").GetDouble(), 6);
        Assert.Equal(0.8, feedback.GetProperty("threshold").GetDouble());
        Assert.False(feedback.GetProperty("passed").GetBoolean());
        var hints = feedback.GetProperty("hints").EnumerateArray().Select(h => h.GetString()!).ToList();
        Assert.Equal(["confused truck/car × 1 (labelled car where it is truck)", "extra objects: 1 × truck"], hints);

        // Nothing she received names a truth shape or its coordinates: not the answer, not a hub message.
        await aliceHub.WaitFor("WorkChanged", TimeSpan.FromSeconds(10), m => m[0].GetProperty("stage").GetString() == "approved");
        var seen = submitted.GetRawText() + string.Join("\n", aliceHub.Received.Select(m => string.Join(",", m.Arguments.Select(a => a.GetRawText()))));
        foreach (var id in truthIds) Assert.DoesNotContain(id, seen, StringComparison.OrdinalIgnoreCase);
        foreach (var value in new[] { "61.5", "43.25", "21.75", "19.5" }) Assert.DoesNotContain(value, seen); // the truck's box
        Assert.DoesNotContain("ground", seen, StringComparison.OrdinalIgnoreCase);

        // The figure counts in the quality report, as the image it copies.
        var byImage = await (await _owner.GetAsync($"/api/projects/{_project.Id}/quality?groupBy=image&annotator=alice")).Read<JsonElement>(); // the owner's own submission of it (the truth) counts too, without the filter
        var row = byImage.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == truthImage.ToString());
        Assert.Equal((1, 2, 1), (row.GetProperty("tp").GetInt64(), row.GetProperty("fp").GetInt64(), row.GetProperty("fn").GetInt64()));
        var replicas = await (await _owner.GetAsync($"/api/images/{truthImage}/replicas")).Read<JsonElement>();
        var only = Assert.Single(replicas.GetProperty("replicas").EnumerateArray());
        Assert.Equal(("honeypot", "alice", 0.4), (only.GetProperty("kind").GetString(), only.GetProperty("owner").GetString(), only.GetProperty("f1").GetDouble()));
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.GetAsync($"/api/images/{truthImage}/replicas")).StatusCode);
        // Copies are not images of the project: lists and counts show the four uploaded.
        Assert.Equal(4, (await (await _owner.GetAsync($"/api/projects/{_project.Id}/images")).Read<ImagePage>()).Total);

        // No unseen honeypot left for her: ordinary work, and never the ground-truth image itself in the clear.
        var next = await alice.NextIdAsync(_project.Id);
        Assert.NotNull(next);
        Assert.Contains(next!.Value, _images.Skip(1));
    }

    [Fact]
    public async Task Onboarding_hands_out_honeypots_until_passed_and_refuses_when_none_is_left()
    {
        await TruthAsync(_images[0], Box(Car, 10, 10, 30, 30));
        await TruthAsync(_images[1], Box(Truck, 20, 20, 40, 30));
        var answers = new Dictionary<string, object>
        {
            [await FileNameAsync(_owner, _images[0])] = Box(Car, 10, 10, 30, 30),
            [await FileNameAsync(_owner, _images[1])] = Box(Truck, 20, 20, 40, 30),
        };
        (await _owner.WorkflowAsync(_project.Id, new { onboardingImages = 1 })).EnsureSuccessStatusCode();

        // Alice misses the first (an empty answer: F1 0), gets the other, answers it right, and passes (the last 1 at F1 1).
        var alice = await As("alice");
        var first = (await alice.NextIdAsync(_project.Id))!.Value;
        Assert.DoesNotContain(first, _images);
        var failed = await (await alice.WorkAsync(first, "submit")).Read<JsonElement>();
        Assert.Equal(0.0, failed.GetProperty("feedback").GetProperty("f1").GetDouble());
        Assert.Contains(failed.GetProperty("feedback").GetProperty("hints").EnumerateArray(), h => h.GetString()!.StartsWith("missed objects: 1 × "));
        var state = await (await alice.GetAsync($"/api/projects/{_project.Id}/onboarding")).Read<JsonElement>();
        Assert.False(state.GetProperty("passed").GetBoolean());
        var second = (await alice.NextIdAsync(_project.Id))!.Value;
        Assert.NotEqual(first, second);
        Assert.DoesNotContain(second, _images);
        (await alice.PostJson($"/api/images/{second}/annotations", answers[await FileNameAsync(alice, second)])).EnsureSuccessStatusCode();
        var passed = await (await alice.WorkAsync(second, "submit")).Read<JsonElement>();
        Assert.True(passed.GetProperty("feedback").GetProperty("passed").GetBoolean());
        Assert.True((await (await alice.GetAsync($"/api/projects/{_project.Id}/onboarding")).Read<JsonElement>()).GetProperty("passed").GetBoolean());
        var real = (await alice.NextIdAsync(_project.Id))!.Value;
        Assert.Contains(real, _images.Skip(2)); // real work, never a ground-truth image in the clear

        // Bob fails both: no honeypot is left to pass with, and the queue says so rather than handing out real work.
        var bob = await As("bob");
        for (int i = 0; i < 2; i++) (await bob.WorkAsync((await bob.NextIdAsync(_project.Id))!.Value, "submit")).EnsureSuccessStatusCode();
        var refused = await (await bob.PostJson($"/api/projects/{_project.Id}/queue/next", new { stage = "annotate" })).Problem(409);
        Assert.Equal("Onboarding not passed", refused.GetProperty("title").GetString());
        Assert.Contains("0.00, below the project's 0.80", refused.GetProperty("detail").GetString());
        // An owner lowering the bar lets him through.
        (await _owner.WorkflowAsync(_project.Id, new { agreementThreshold = 0 })).EnsureSuccessStatusCode();
        Assert.Contains((await bob.NextIdAsync(_project.Id))!.Value, _images.Skip(2));
    }

    [Fact]
    public async Task Ground_truth_is_exported_only_on_request_and_only_to_reviewers()
    {
        await TruthAsync(_images[0], Box(Car, 10.25, 10.75, 30.5, 30.5), Box(Truck, 61.5, 43.25, 21.75, 19.5));
        // The owner moves the image's own annotations afterwards: the default export has those, the truth export the truth.
        var annotations = await (await _owner.GetAsync($"/api/images/{_images[0]}/annotations")).Read<List<JsonElement>>();
        (await _owner.WorkAsync(_images[0], "reopen")).EnsureSuccessStatusCode();
        (await _owner.DeleteAsync($"/api/images/{_images[0]}/annotations/{annotations[0].GetProperty("id").GetGuid()}")).EnsureSuccessStatusCode();

        var response = await _owner.GetAsync($"/api/projects/{_project.Id}/export?format=coco&scope=ground-truth&includeImages=false");
        response.EnsureSuccessStatusCode();
        Assert.Equal("honeypots-coco-ground-truth.zip", response.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
        using var zip = new System.IO.Compression.ZipArchive(await response.Content.ReadAsStreamAsync(), System.IO.Compression.ZipArchiveMode.Read);
        using var coco = JsonDocument.Parse(zip.GetEntry("annotations/instances.json")!.Open());
        var image = Assert.Single(coco.RootElement.GetProperty("images").EnumerateArray());
        Assert.Equal(await FileNameAsync(_owner, _images[0]), image.GetProperty("file_name").GetString());
        var boxes = coco.RootElement.GetProperty("annotations").EnumerateArray().Select(a => a.GetProperty("bbox").EnumerateArray().Select(v => v.GetDouble()).ToArray())
            .OrderBy(b => b[0]).ToList(); // the truth's order is not the point
        Assert.Equal([[10.25, 10.75, 30.5, 30.5], [61.5, 43.25, 21.75, 19.5]], boxes);

        var alice = await As("alice");
        var refused = await (await alice.GetAsync($"/api/projects/{_project.Id}/export?format=coco&scope=ground-truth")).Problem(403);
        Assert.Contains("reviewer role", refused.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/projects/{_project.Id}/export?format=coco&includeImages=false")).StatusCode);
    }

    [Fact]
    public async Task Quality_settings_are_validated_and_shown()
    {
        foreach (var (body, field) in new (object, string)[]
                 {
                     (new { honeypotPercent = 101 }, "workflow.honeypotPercent"), (new { overlap = 0 }, "workflow.overlap"),
                     (new { overlap = 11 }, "workflow.overlap"), (new { quorum = 0.0 }, "workflow.quorum"),
                     (new { agreementThreshold = 1.5 }, "workflow.agreementThreshold"), (new { onboardingImages = -1 }, "workflow.onboardingImages"),
                 })
        {
            var problem = await (await _owner.WorkflowAsync(_project.Id, body)).Problem(400);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{field} named in {problem}");
        }
        (await _owner.WorkflowAsync(_project.Id, new { honeypotPercent = 10, overlap = 3, quorum = 0.6, agreementThreshold = 0.7, onboardingImages = 5 })).EnsureSuccessStatusCode();
        var workflow = (await (await _owner.GetAsync($"/api/projects/{_project.Id}")).Read<JsonElement>()).GetProperty("workflow");
        Assert.Equal((10, 3, 0.6, 0.7, 5), (workflow.GetProperty("honeypotPercent").GetInt32(), workflow.GetProperty("overlap").GetInt32(),
            workflow.GetProperty("quorum").GetDouble(), workflow.GetProperty("agreementThreshold").GetDouble(), workflow.GetProperty("onboardingImages").GetInt32()));
    }
}

public sealed class HoneypotTestsOnPostgres : HoneypotTests
{
    protected override TestStorage Storage { get; } = TestStorage.Postgres();
}
