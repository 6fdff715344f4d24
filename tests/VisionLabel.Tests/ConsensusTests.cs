using System.Net;
using System.Text.Json;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Consensus through the real routes: three annotators label one image independently (each a private copy, unseen by
/// the others), the third submission merges them by quorum, the agreement is the mean pairwise F1 worked out by hand
/// below, and an image they disagree on waits in the adjudication queue, not the review queue.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class ConsensusTests : IAsyncLifetime
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
        _project = await (await _owner.PostJson("/api/projects", new { name = "consensus", labels = new[] { new { name = "car" }, new { name = "truck" } } })).Read<ProjectDto>();
        _images = await _owner.UploadImagesAsync(_project.Id, 2);
        _members = new ProjectMembers(_app, _owner);
        (await _owner.WorkflowAsync(_project.Id, new { overlap = 3, quorum = 0.5, agreementThreshold = 0.8 })).EnsureSuccessStatusCode();
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

    private static async Task Label(HttpClient who, Guid image, params object[] boxes)
    {
        foreach (var box in boxes) (await who.PostJson($"/api/images/{image}/annotations", box)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Three_annotators_merge_by_quorum_and_disagreement_goes_to_adjudication()
    {
        var image = _images[0];
        var (alice, bob, carol, dave) = (await As("alice"), await As("bob"), await As("carol"), await As("dave"));
        var copies = new List<Guid>();
        foreach (var who in new[] { alice, bob, carol }) copies.Add((await who.NextIdAsync(_project.Id))!.Value);
        Assert.Equal(3, copies.Distinct().Count());
        Assert.DoesNotContain(image, copies);
        // The image has its three copies: the fourth annotator gets the other image's first.
        var forDave = (await dave.NextIdAsync(_project.Id))!.Value;
        var replicas = await (await _owner.GetAsync($"/api/images/{image}/replicas")).Read<JsonElement>();
        Assert.Equal(copies.Order(), replicas.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("imageId").GetGuid()).Order());
        Assert.DoesNotContain(forDave, copies);
        var other = await (await _owner.GetAsync($"/api/images/{_images[1]}/replicas")).Read<JsonElement>();
        Assert.Equal(forDave, Assert.Single(other.GetProperty("replicas").EnumerateArray()).GetProperty("imageId").GetGuid());
        // Independent: nobody sees another's copy.
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/api/images/{copies[0]}/annotations")).StatusCode);

        // alice: car A and a truck; bob: the car, a pixel to the right; carol: the car a pixel lower, and a small car of her own.
        await Label(alice, copies[0], Box(Car, 10, 10, 30, 30), Box(Truck, 60, 40, 20, 20));
        await Label(bob, copies[1], Box(Car, 11, 10, 30, 30));
        await Label(carol, copies[2], Box(Car, 10, 11, 30, 30), Box(Car, 80, 10, 10, 10));
        (await alice.WorkAsync(copies[0], "submit")).EnsureSuccessStatusCode();
        (await bob.WorkAsync(copies[1], "submit")).EnsureSuccessStatusCode();
        Assert.Equal("annotate", await _owner.StageAsync(image)); // two of three: nothing merged yet
        Assert.Empty(await (await _owner.GetAsync($"/api/images/{image}/annotations")).Read<List<JsonElement>>());
        (await carol.WorkAsync(copies[2], "submit")).EnsureSuccessStatusCode();

        // Pairwise F1 (τ 0.5): alice–bob TP1 FN1 → 2/3; alice–carol TP1 FP1 FN1 → 1/2; bob–carol TP1 FP1 → 2/3. Mean 0.611111.
        replicas = await (await _owner.GetAsync($"/api/images/{image}/replicas")).Read<JsonElement>();
        Assert.Equal(0.611111, replicas.GetProperty("agreement").GetDouble(), 6);
        Assert.True(replicas.GetProperty("needsAdjudication").GetBoolean());
        // Quorum ceil(3·0.5) = 2 votes: the car (3 votes) stays, alice's truck and carol's small car (1 each) go. The car kept
        // is the medoid: alice's (IoU 0.935 with each of the others; bob–carol 0.877).
        var merged = Assert.Single(await (await _owner.GetAsync($"/api/images/{image}/annotations")).Read<List<JsonElement>>());
        Assert.Equal(Car, merged.GetProperty("labelId").GetGuid());
        var g = merged.GetProperty("geometry");
        Assert.Equal((10.0, 10.0, 30.0, 30.0), (g.GetProperty("x").GetDouble(), g.GetProperty("y").GetDouble(), g.GetProperty("width").GetDouble(), g.GetProperty("height").GetDouble()));
        Assert.Equal(3, merged.GetProperty("attributes").GetProperty("votes").GetInt32());
        Assert.Equal("submitted", await _owner.StageAsync(image));
        var history = (await (await _owner.GetAsync($"/api/images/{image}/work")).Read<JsonElement>()).GetProperty("history");
        Assert.Contains(history.EnumerateArray(), e => e.GetProperty("kind").GetString() == "merged" && e.GetProperty("actor").GetString() == "consensus");

        // Below the threshold: the adjudication queue (reviewers), not the review queue.
        var rita = await As("rita", "reviewer");
        Assert.Null(await rita.NextIdAsync(_project.Id, "review"));
        Assert.Equal(HttpStatusCode.Forbidden, (await alice.PostJson($"/api/projects/{_project.Id}/queue/next", new { stage = "adjudicate" })).StatusCode);
        Assert.Equal(image, await rita.NextIdAsync(_project.Id, "adjudicate"));
        // The adjudicator sees each copy (read-only: submitted copies are final) and decides.
        Assert.Equal(HttpStatusCode.OK, (await rita.GetAsync($"/api/images/{copies[2]}/annotations")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await rita.PostJson($"/api/images/{copies[2]}/annotations", Box(Car, 1, 1, 5, 5))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await rita.WorkAsync(copies[2], "approve")).StatusCode);
        (await rita.WorkAsync(image, "approve")).EnsureSuccessStatusCode();
        Assert.Equal("approved", await _owner.StageAsync(image));
    }

    [Fact]
    public async Task Annotators_who_agree_send_the_merged_image_to_ordinary_review()
    {
        var people = new[] { await As("a1"), await As("a2"), await As("a3") };
        foreach (var who in people)
        {
            var copy = (await who.NextIdAsync(_project.Id))!.Value;
            await Label(who, copy, Box(Car, 20, 20, 40, 40));
            var state = await (await who.WorkAsync(copy, "submit")).Read<JsonElement>();
            Assert.False(state.TryGetProperty("feedback", out var f) && f.ValueKind != JsonValueKind.Null); // no ground truth: no feedback
        }
        var replicas = await (await _owner.GetAsync($"/api/images/{_images[0]}/replicas")).Read<JsonElement>();
        Assert.Equal(1.0, replicas.GetProperty("agreement").GetDouble());
        Assert.False(replicas.GetProperty("needsAdjudication").GetBoolean());
        var rita = await As("rita", "reviewer");
        Assert.Null(await rita.NextIdAsync(_project.Id, "adjudicate"));
        Assert.Equal(_images[0], await rita.NextIdAsync(_project.Id, "review"));
        // A copy is its owner's to submit: an owner cannot submit someone's copy for them.
        var fourth = await As("a4");
        var other = (await fourth.NextIdAsync(_project.Id))!.Value;
        Assert.Equal(HttpStatusCode.Forbidden, (await _owner.WorkAsync(other, "submit")).StatusCode);
    }
}

public sealed class ConsensusTestsOnPostgres : ConsensusTests
{
    protected override TestStorage Storage { get; } = TestStorage.Postgres();
}
