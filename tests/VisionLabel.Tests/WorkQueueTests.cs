using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Data;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Work;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The pull queue over HTTP on the embedded default (SQLite, one process): leases, their expiry (on a clock the test
/// moves), rework first to its annotator, assignments and caps, the priorities. Several processes on PostgreSQL:
/// WorkQueueClusterTests.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class WorkQueueTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private readonly TestClock _clock = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private List<Guid> _images = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path, services: s => s.AddSingleton<TimeProvider>(_clock));
        _owner = _app.Client("lead", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "queue", labels = new[] { new { name = "a" } } })).Read<ProjectDto>();
        _images = await _owner.UploadImagesAsync(_project.Id, 12);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private readonly ConcurrentDictionary<string, HttpClient> _clients = new();

    /// <summary>An API client of a project member (added by the owner on first use).</summary>
    private async Task<HttpClient> As(string user, string role = "annotator")
    {
        if (_clients.TryGetValue(user, out var existing)) return existing;
        _app.Token(user, admin: false);
        (await _owner.PostJson($"/api/projects/{_project.Id}/members", new { user, role })).EnsureSuccessStatusCode();
        return _clients[user] = _app.Client(user, admin: false);
    }

    private static async Task<Guid> Submitted(HttpClient client, Guid id)
    {
        (await client.WorkAsync(id, "submit")).EnsureSuccessStatusCode();
        return id;
    }

    private static StringContent JsonContent(object body) =>
        new(JsonSerializer.Serialize(body, VisionLabelApp.Json), System.Text.Encoding.UTF8, "application/json");

    [Fact]
    public async Task Concurrent_annotators_each_get_different_images_until_204()
    {
        var people = new List<HttpClient>();
        for (int i = 0; i < 4; i++) people.Add(await As($"annotator{i}"));
        var leased = new ConcurrentBag<Guid>();
        await Task.WhenAll(people.Select(client => Task.Run(async () =>
        {
            while (await client.NextIdAsync(_project.Id) is { } id)
            {
                leased.Add(id);
                (await client.WorkAsync(id, "submit")).EnsureSuccessStatusCode();
            }
        })));
        Assert.Equal(_images.Order(), leased.Order()); // each image exactly once
        foreach (var client in people) Assert.Null(await client.NextIdAsync(_project.Id));
        var overview = await (await _owner.GetAsync($"/api/projects/{_project.Id}/work")).Read<WorkOverviewDto>();
        Assert.Equal((0, 12, 0), (overview.Counts.Annotate, overview.Counts.Submitted, overview.Leases.Count));
        Assert.Equal(12, overview.People.Where(p => p.User.StartsWith("annotator")).Sum(p => p.Submitted));
    }

    [Fact]
    public async Task Asking_again_answers_the_image_you_hold_and_release_gives_it_to_the_next()
    {
        var alice = await As("alice");
        var bob = await As("bob");
        var first = await alice.NextAsync(_project.Id);
        Assert.Equal((_images[0], "annotate", false), (first!.Value.GetProperty("imageId").GetGuid(), first.Value.GetProperty("stage").GetString(), first.Value.GetProperty("rework").GetBoolean()));
        Assert.Equal(_images[0], await alice.NextIdAsync(_project.Id)); // no hoarding: the same one, renewed
        Assert.Equal(_images[1], await bob.NextIdAsync(_project.Id));

        var released = await (await alice.PostJson($"/api/images/{_images[0]}/lease/release", new { })).Read<JsonElement>();
        Assert.Equal(JsonValueKind.Null, released.GetProperty("leaseHolder").ValueKind);
        var carol = await As("carol");
        Assert.Equal(_images[0], await carol.NextIdAsync(_project.Id));
        // Someone else's lease: released only by them or an owner.
        var refused = await (await alice.PostJson($"/api/images/{_images[0]}/lease/release", new { })).Problem(403);
        Assert.Contains("carol holds this image", refused.GetProperty("detail").GetString());
        (await _owner.PostJson($"/api/images/{_images[0]}/lease/release", new { })).EnsureSuccessStatusCode();
        Assert.Equal(_images[0], await alice.NextIdAsync(_project.Id));
    }

    [Fact]
    public async Task An_expired_lease_hands_the_image_to_the_next_caller_and_its_holder_can_no_longer_submit()
    {
        (await _owner.WorkflowAsync(_project.Id, new { leaseSeconds = 10 })).EnsureSuccessStatusCode();
        var alice = await As("alice");
        var bob = await As("bob");
        var lease = await alice.NextAsync(_project.Id);
        var expires = lease!.Value.GetProperty("leaseExpiresAt").GetDateTime().ToUniversalTime();
        Assert.InRange((expires - _clock.GetUtcNow().UtcDateTime).TotalSeconds, 9, 10.1);
        Assert.Equal(_images[1], await bob.NextIdAsync(_project.Id)); // held: bob gets the next one
        var submitted = await bob.WorkAsync(_images[0], "submit");
        Assert.Contains("alice is working on this image", (await submitted.Problem(409)).GetProperty("detail").GetString());

        _clock.Advance(TimeSpan.FromSeconds(11));
        var carol = await As("carol");
        Assert.Equal(_images[0], await carol.NextIdAsync(_project.Id));
        var late = await (await alice.WorkAsync(_images[0], "submit")).Problem(409);
        Assert.Equal("Leased by carol", late.GetProperty("title").GetString());
        (await carol.WorkAsync(_images[0], "submit")).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task A_heartbeat_keeps_the_lease()
    {
        (await _owner.WorkflowAsync(_project.Id, new { leaseSeconds = 10 })).EnsureSuccessStatusCode();
        var alice = await As("alice");
        var id = (await alice.NextIdAsync(_project.Id))!.Value;
        await using var hub = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/annotations", "alice", admin: false));
        for (int beat = 0; beat < 3; beat++)
        {
            _clock.Advance(TimeSpan.FromSeconds(8));
            var state = await hub.CallAsync("RenewLease", id);
            Assert.Equal("alice", state.GetProperty("leaseHolder").GetString());
        }
        var bob = await As("bob");
        Assert.Equal(_images[1], await bob.NextIdAsync(_project.Id)); // 24 s after the lease began, still alice's
        Assert.Contains("409 RenewLease: No lease", await hub.CallError("RenewLease", _images[2]));
    }

    [Fact]
    public async Task A_rejected_image_is_its_annotators_next_and_nobody_elses()
    {
        var alice = await As("alice");
        var carol = await As("carol");
        var reviewer = await As("rita", "reviewer");
        var id = (await alice.NextIdAsync(_project.Id))!.Value;
        (await alice.WorkAsync(id, "submit")).EnsureSuccessStatusCode();
        Assert.Equal(id, await reviewer.NextIdAsync(_project.Id, "review"));
        var rejected = await (await reviewer.WorkAsync(id, "reject", new { reason = "Loose box", comment = "tighten the left edge" })).Read<JsonElement>();
        Assert.Equal(("rejected", 1), (rejected.GetProperty("stage").GetString(), rejected.GetProperty("reworkRounds").GetInt32()));
        Assert.Equal(("loose box", "tighten the left edge"), (rejected.GetProperty("lastRejection").GetProperty("reason").GetString(), rejected.GetProperty("lastRejection").GetProperty("comment").GetString()));

        for (int i = 0; i < 3; i++) Assert.NotEqual(id, await Submitted(carol, (await carol.NextIdAsync(_project.Id))!.Value));
        var again = await alice.NextAsync(_project.Id);
        Assert.Equal((id, true), (again!.Value.GetProperty("imageId").GetGuid(), again.Value.GetProperty("rework").GetBoolean()));
        Assert.Equal("rework", await alice.StageAsync(id));
        var mine = await (await alice.GetAsync($"/api/projects/{_project.Id}/queue/mine")).Read<MyWorkDto>();
        Assert.Equal(id, Assert.Single(mine.Rework).ImageId);
        (await alice.WorkAsync(id, "submit")).EnsureSuccessStatusCode();
        var overview = await (await _owner.GetAsync($"/api/projects/{_project.Id}/work")).Read<WorkOverviewDto>();
        Assert.Equal(1, overview.People.Single(p => p.User == "alice").ReworkRounds);
        Assert.Equal(1, overview.People.Single(p => p.User == "rita").Reviewed);
    }

    [Fact]
    public async Task Reviewers_never_receive_their_own_work_unless_the_project_allows_it()
    {
        var rita = await As("rita", "reviewer");
        var id = (await rita.NextIdAsync(_project.Id))!.Value; // reviewers annotate too
        (await rita.WorkAsync(id, "submit")).EnsureSuccessStatusCode();
        Assert.Null(await rita.NextIdAsync(_project.Id, "review"));
        var own = await (await rita.WorkAsync(id, "approve")).Problem(403);
        Assert.Equal("Own work", own.GetProperty("title").GetString());
        (await _owner.WorkflowAsync(_project.Id, new { allowSelfReview = true })).EnsureSuccessStatusCode();
        Assert.Equal(id, await rita.NextIdAsync(_project.Id, "review"));
        Assert.Equal("approved", (await (await rita.WorkAsync(id, "approve")).Read<JsonElement>()).GetProperty("stage").GetString());
        // Annotators have no review queue.
        var alice = await As("alice");
        Assert.Contains("reviewer role", (await (await alice.PostJson($"/api/projects/{_project.Id}/queue/next", new { stage = "review" })).Problem(403)).GetProperty("detail").GetString());
        Assert.True((await (await alice.PostJson($"/api/projects/{_project.Id}/queue/next", new { stage = "later" })).Problem(400)).GetProperty("errors").TryGetProperty("stage", out _));
    }

    [Fact]
    public async Task Assignments_come_first_and_distribute_spreads_evenly_within_the_cap()
    {
        var alice = await As("alice");
        var carol = await As("carol");
        (await _owner.PutAsync($"/api/projects/{_project.Id}/assignments", JsonContent(new { stage = "annotate", imageIds = new[] { _images[5] }, assignee = "alice" })))
            .EnsureSuccessStatusCode();
        Assert.Equal(_images[5], await alice.NextIdAsync(_project.Id));
        Assert.Equal(_images[0], await carol.NextIdAsync(_project.Id)); // not alice's assignment
        var result = await (await _owner.PostJson($"/api/projects/{_project.Id}/assignments/distribute",
            new { stage = "annotate", count = 6, people = new[] { "alice", "carol" } })).Read<AssignmentResult>();
        Assert.Equal((3, 3, 0), (result.Assigned["alice"], result.Assigned["carol"], result.Unassigned));
        var mine = await (await alice.GetAsync($"/api/projects/{_project.Id}/queue/mine")).Read<MyWorkDto>();
        Assert.Equal(4, mine.Assigned.Count); // the one she holds and three more

        (await _owner.WorkflowAsync(_project.Id, new { maxPerAnnotator = 4 })).EnsureSuccessStatusCode();
        var capped = await (await _owner.PostJson($"/api/projects/{_project.Id}/assignments/distribute",
            new { stage = "annotate", count = 2, people = new[] { "alice" } })).Read<AssignmentResult>();
        Assert.Equal((0, 2), (capped.Assigned["alice"], capped.Unassigned)); // alice has 4 of 4

        var wrongRole = await (await _owner.PutAsync($"/api/projects/{_project.Id}/assignments", JsonContent(new { stage = "review", imageIds = new[] { _images[0] }, assignee = "alice" }))).Problem(400);
        Assert.Contains("annotator", wrongRole.GetProperty("errors").GetProperty("assignee")[0].GetString());
        var stranger = await (await _owner.PutAsync($"/api/projects/{_project.Id}/assignments", JsonContent(new { stage = "annotate", imageIds = new[] { Guid.NewGuid() }, assignee = "alice" }))).Problem(400);
        Assert.True(stranger.GetProperty("errors").TryGetProperty("imageIds", out _));
        await (await alice.PutAsync($"/api/projects/{_project.Id}/assignments", JsonContent(new { stage = "annotate", imageIds = new[] { _images[0] }, assignee = "alice" }))).Problem(403);
    }

    [Fact]
    public async Task At_the_cap_an_annotator_gets_no_more_unassigned_work()
    {
        (await _owner.WorkflowAsync(_project.Id, new { maxPerAnnotator = 2 })).EnsureSuccessStatusCode();
        var alice = await As("alice");
        for (int i = 0; i < 2; i++) await Submitted(alice, (await alice.NextIdAsync(_project.Id))!.Value);
        Assert.Null(await alice.NextIdAsync(_project.Id));
        var bob = await As("bob");
        Assert.NotNull(await bob.NextIdAsync(_project.Id));
    }

    [Fact]
    public async Task Random_priority_follows_the_seed_and_confidence_priority_puts_the_least_sure_first()
    {
        (await _owner.WorkflowAsync(_project.Id, new { priority = "random", seed = 42 })).EnsureSuccessStatusCode();
        var alice = await As("alice");
        var order = new List<Guid>();
        for (int i = 0; i < 4; i++) order.Add(await Submitted(alice, (await alice.NextIdAsync(_project.Id))!.Value));
        var expected = _images.OrderBy(id => WorkQueue.ShuffleKey(42, id)).ThenBy(id => id).Take(4).ToList();
        Assert.Equal(expected, order);
        Assert.NotEqual(_images.Take(4), order);

        // Pre-labeling's mean proposal score per image; the last two were never pre-labeled (they come last).
        var rest = _images.Except(order).ToList();
        double?[] confidence = [0.9, 0.2, 0.55, 0.0, null, null, 0.95, 0.3];
        using (var scope = _app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            for (int i = 0; i < rest.Count; i++)
            {
                var id = rest[i];
                double? c = confidence[i];
                await db.Images.Where(x => x.Id == id).ExecuteUpdateAsync(u => u.SetProperty(x => x.Confidence, c), TestContext.Current.CancellationToken);
            }
        }
        (await _owner.WorkflowAsync(_project.Id, new { priority = "confidence" })).EnsureSuccessStatusCode();
        var next = new List<Guid>();
        for (int i = 0; i < rest.Count; i++) next.Add(await Submitted(alice, (await alice.NextIdAsync(_project.Id))!.Value));
        Assert.Equal([rest[3], rest[1], rest[7], rest[2], rest[0], rest[6], rest[4], rest[5]], next);
    }

    [Fact]
    public async Task Workflow_settings_are_shown_and_checked()
    {
        var project = await (await _owner.GetAsync($"/api/projects/{_project.Id}")).Read<JsonElement>();
        var workflow = project.GetProperty("workflow");
        Assert.Equal((1800, 100, false, "upload"), (workflow.GetProperty("leaseSeconds").GetInt32(), workflow.GetProperty("reviewPercent").GetInt32(),
            workflow.GetProperty("allowSelfReview").GetBoolean(), workflow.GetProperty("priority").GetString()));
        Assert.Contains("missed object", workflow.GetProperty("rejectReasons").EnumerateArray().Select(r => r.GetString()));

        async Task Refused(object patch, string field) =>
            Assert.True((await (await _owner.WorkflowAsync(_project.Id, patch)).Problem(400)).GetProperty("errors").TryGetProperty(field, out _), field);
        await Refused(new { leaseSeconds = 9 }, "workflow.leaseSeconds");
        await Refused(new { reviewPercent = 101 }, "workflow.reviewPercent");
        await Refused(new { priority = "fastest" }, "workflow.priority");
        await Refused(new { rejectReasons = Array.Empty<string>() }, "workflow.rejectReasons");
        await Refused(new { maxPerAnnotator = -1 }, "workflow.maxPerAnnotator");
        var alice = await As("alice");
        await (await alice.PatchJson($"/api/projects/{_project.Id}", new { workflow = new { leaseSeconds = 60 } })).Problem(403);

        var changed = await (await _owner.WorkflowAsync(_project.Id, new { leaseSeconds = 10, rejectReasons = new[] { "blurry", "wrong class" }, maxPerAnnotator = 5 })).Read<JsonElement>();
        Assert.Equal((10, 5), (changed.GetProperty("workflow").GetProperty("leaseSeconds").GetInt32(), changed.GetProperty("workflow").GetProperty("maxPerAnnotator").GetInt32()));
        Assert.Equal(100, changed.GetProperty("workflow").GetProperty("reviewPercent").GetInt32()); // untouched
    }
}
