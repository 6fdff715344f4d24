using System.Text.Json;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The workflow's stages as the server enforces them, through HTTP and the hub: each illegal transition or edit refused
/// with the stage and what would allow it, the review sample, comment threads, and the bell's notifications.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class WorkflowTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private List<Guid> _images = null!;
    private ProjectMembers _members = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path);
        _owner = _app.Client("lead", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "workflow", labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        _images = await _owner.UploadImagesAsync(_project.Id, 4);
        _members = new ProjectMembers(_app, _owner);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<HttpClient> As(string user, string role = "annotator")
    {
        await _members.HubPathAsync("/hubs/annotations", _project.Id, user, role);
        return _app.Client(user, admin: false);
    }

    private async Task<HubClient> Hub(string user, string role = "annotator") =>
        await HubClient.ConnectAsync(_app.Server, await _members.HubPathAsync("/hubs/annotations", _project.Id, user, role));

    private object Box(double x = 10) => new { labelId = _project.Labels[0].Id, kind = "box", geometry = new { x, y = 10, width = 20, height = 20 } };

    private static async Task<JsonElement> Refused(HttpResponseMessage response, int status, string title, string detailContains)
    {
        var problem = await response.Problem(status);
        Assert.Equal(title, problem.GetProperty("title").GetString());
        Assert.Contains(detailContains, problem.GetProperty("detail").GetString());
        return problem;
    }

    [Fact]
    public async Task Illegal_transitions_are_refused_with_the_stage_and_what_would_allow_them()
    {
        var alice = await As("alice");
        var rita = await As("rita", "reviewer");
        var image = _images[0];
        // An annotator approving: the route needs the reviewer role.
        await Refused(await alice.WorkAsync(image, "approve"), 403, "Reviewer role required", "reviewer role");
        // Approving what was never submitted.
        await Refused(await rita.WorkAsync(image, "approve"), 409, "Not waiting for review", "'annotate'");
        (await alice.WorkAsync(image, "submit")).EnsureSuccessStatusCode();
        await Refused(await alice.WorkAsync(image, "submit"), 409, "Already submitted", "waits for review");
        // A rejection names one of the project's reasons.
        var noReason = await (await rita.WorkAsync(image, "reject", new { comment = "?" })).Problem(400);
        Assert.Contains("missed object", noReason.GetProperty("errors").GetProperty("reason")[0].GetString());
        Assert.True((await (await rita.WorkAsync(image, "reject", new { reason = "ugly" })).Problem(400)).GetProperty("errors").TryGetProperty("reason", out _));
        Assert.Equal("approved", (await (await rita.WorkAsync(image, "approve")).Read<JsonElement>()).GetProperty("stage").GetString());
        // Reopening an approval: owners only.
        await Refused(await rita.WorkAsync(image, "reopen"), 403, "Owner role required", "owner role");
        await Refused(await alice.WorkAsync(image, "reopen"), 403, "Owner role required", "owner role");
        await Refused(await alice.WorkAsync(image, "submit"), 409, "Already approved", "an owner can reopen it");
        var reopened = await (await _owner.WorkAsync(image, "reopen")).Read<JsonElement>();
        Assert.Equal(("annotate", "alice"), (reopened.GetProperty("stage").GetString(), reopened.GetProperty("annotateAssignee").GetString()));
        // PATCH status is the same transition with the same rules.
        await Refused(await alice.PatchJson($"/api/images/{_images[1]}", new { status = "approved" }), 403, "Reviewer role required", "you are annotator");
        // Someone else's assignment.
        var carol = await As("carol");
        await Refused(await carol.WorkAsync(image, "submit"), 403, "Assigned to alice", "assigned to alice");
    }

    [Fact]
    public async Task Submitted_images_are_read_only_for_annotators_and_approved_ones_for_everyone()
    {
        var alice = await As("alice");
        var rita = await As("rita", "reviewer");
        var image = _images[0];
        var created = await (await alice.PostJson($"/api/images/{image}/annotations", Box())).Read<JsonElement>();
        (await alice.WorkAsync(image, "submit")).EnsureSuccessStatusCode();

        await Refused(await alice.PostJson($"/api/images/{image}/annotations", Box(50)), 409, "Image is read-only in its stage", "submitted and waits for review");
        await Refused(await alice.DeleteAsync($"/api/images/{image}/annotations/{created.GetProperty("id").GetGuid()}"), 409, "Image is read-only in its stage", "a reviewer can reject it");
        await using (var hub = await Hub("alice"))
        {
            await hub.CallAsync("JoinImage", image);
            var ack = await hub.CallAsync("Submit", new { clientOpId = "late-1", imageId = image, type = "create", annotationId = Guid.NewGuid(), changes = Box(60) });
            Assert.False(ack.TryGetProperty("seq", out var seq) && seq.ValueKind == JsonValueKind.Number); // refused: no seq
            Assert.Contains("submitted and waits for review", ack.GetProperty("rejected").GetString());
            Assert.Contains("submitted and waits for review", await Undo(hub, image)); // an undo is an edit too
        }
        // A reviewer fixes it during review; then approves.
        (await rita.PostJson($"/api/images/{image}/annotations", Box(70))).EnsureSuccessStatusCode();
        (await rita.WorkAsync(image, "approve")).EnsureSuccessStatusCode();
        await Refused(await rita.PostJson($"/api/images/{image}/annotations", Box(80)), 409, "Image is read-only in its stage", "an owner reopens it");
        await Refused(await _owner.PostJson($"/api/images/{image}/annotations", Box(80)), 409, "Image is read-only in its stage", "approved and read-only");
        Assert.Equal(2, (await (await _owner.GetAsync($"/api/images/{image}/annotations")).Read<List<JsonElement>>()).Count);
    }

    private static async Task<string> Undo(HubClient hub, Guid image)
    {
        var ack = await hub.CallAsync("Undo", image);
        return ack.GetProperty("rejected").GetString() ?? "";
    }

    [Fact]
    public async Task The_hub_moves_the_workflow_and_everyone_on_the_image_sees_it()
    {
        await using var alice = await Hub("alice");
        await using var rita = await Hub("rita", "reviewer");
        var image = _images[0];
        await alice.CallAsync("JoinImage", image);
        await rita.CallAsync("JoinImage", image);
        var submitted = await alice.CallAsync("SubmitImage", image);
        Assert.Equal(("submitted", "alice"), (submitted.GetProperty("stage").GetString(), submitted.GetProperty("submittedBy").GetString()));
        var seen = await rita.WaitFor("WorkChanged", TimeSpan.FromSeconds(5));
        Assert.Equal("submitted", seen[0].GetProperty("stage").GetString());
        await rita.WaitFor("ImageStatusChanged", TimeSpan.FromSeconds(5), a => a[0].GetProperty("status").GetString() == "submitted");

        Assert.Contains("403 Reviewer role required", await alice.CallError("ApproveImage", image)); // the hub's access rule
        Assert.Contains("400 RejectImage: Reason required", await rita.CallError("RejectImage", image, new { comment = "why" }));
        var rejected = await rita.CallAsync("RejectImage", image, new { reason = "wrong label", comment = "that is a truck" });
        Assert.Equal("rejected", rejected.GetProperty("stage").GetString());
        var told = await alice.WaitFor("WorkChanged", TimeSpan.FromSeconds(5), a => a[0].GetProperty("stage").GetString() == "rejected");
        Assert.Equal("that is a truck", told[0].GetProperty("lastRejection").GetProperty("comment").GetString());
        // Rework: the annotator edits again and resubmits.
        var ack = await alice.CallAsync("Submit", new { clientOpId = "fix-1", imageId = image, type = "create", annotationId = Guid.NewGuid(), changes = Box() });
        Assert.Equal(JsonValueKind.Number, ack.GetProperty("seq").ValueKind);
        Assert.Equal("submitted", (await alice.CallAsync("SubmitImage", image)).GetProperty("stage").GetString());
        Assert.Contains("403 Owner role required", await rita.CallError("ReopenImage", image));
    }

    [Fact]
    public async Task The_review_sample_sends_a_share_to_review_and_everything_of_the_people_named()
    {
        var alice = await As("alice");
        var carol = await As("carol");
        (await _owner.WorkflowAsync(_project.Id, new { reviewPercent = 0, fullReviewFor = new[] { "carol" } })).EnsureSuccessStatusCode();
        var auto = await (await alice.WorkAsync(_images[0], "submit")).Read<JsonElement>();
        Assert.Equal(("approved", "alice", JsonValueKind.Null), (auto.GetProperty("stage").GetString(), auto.GetProperty("submittedBy").GetString(), auto.GetProperty("reviewedBy").ValueKind));
        var history = await (await alice.GetAsync($"/api/images/{_images[0]}/work")).Read<JsonElement>();
        Assert.Equal("auto-approved", history.GetProperty("history").EnumerateArray().Last().GetProperty("kind").GetString());
        Assert.Equal("submitted", (await (await carol.WorkAsync(_images[1], "submit")).Read<JsonElement>()).GetProperty("stage").GetString());
    }

    [Fact]
    public async Task Rejections_assignments_comments_and_a_full_review_queue_ring_the_bell()
    {
        var alice = await As("alice");
        var rita = await As("rita", "reviewer");
        (await _owner.WorkflowAsync(_project.Id, new { reviewQueueAlert = 2 })).EnsureSuccessStatusCode();
        await using var bell = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/live", "alice", admin: false));
        await using var ritaBell = await HubClient.ConnectAsync(_app.Server, _app.HubPath("/hubs/live", "rita", admin: false));

        (await _owner.PutAsync($"/api/projects/{_project.Id}/assignments", new StringContent(
            JsonSerializer.Serialize(new { stage = "annotate", imageIds = _images.Take(2), assignee = "alice" }), System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var assigned = await bell.WaitFor("Notification", TimeSpan.FromSeconds(5));
        Assert.Equal(("assigned", "lead assigned you 2 images to annotate in workflow."), (assigned[0].GetProperty("kind").GetString(), assigned[0].GetProperty("text").GetString()));

        (await alice.WorkAsync(_images[0], "submit")).EnsureSuccessStatusCode();
        (await alice.WorkAsync(_images[1], "submit")).EnsureSuccessStatusCode();
        var full = await ritaBell.WaitFor("Notification", TimeSpan.FromSeconds(5));
        Assert.Equal("review-queue", full[0].GetProperty("kind").GetString());

        (await rita.WorkAsync(_images[0], "reject", new { reason = "missed object", comment = "the bike on the left" })).EnsureSuccessStatusCode();
        var rejected = await bell.WaitFor("Notification", TimeSpan.FromSeconds(5), a => a[0].GetProperty("kind").GetString() == "rejected");
        Assert.Contains("the bike on the left", rejected[0].GetProperty("text").GetString());
        Assert.Equal(_images[0], rejected[0].GetProperty("imageId").GetGuid());

        // A thread on alice's work, a reply: alice is told of both; the reply shares the thread's pin.
        var thread = await (await rita.PostJson($"/api/images/{_images[1]}/comments", new { x = 5, y = 6, text = "check the mirror" })).Read<JsonElement>();
        await bell.WaitFor("Notification", TimeSpan.FromSeconds(5), a => a[0].GetProperty("kind").GetString() == "commented");
        var reply = await (await alice.PostJson($"/api/images/{_images[1]}/comments", new { x = 0, y = 0, text = "fixed", parentId = thread.GetProperty("id").GetGuid() })).Read<JsonElement>();
        Assert.Equal((5.0, 6.0, thread.GetProperty("id").GetGuid()), (reply.GetProperty("x").GetDouble(), reply.GetProperty("y").GetDouble(), reply.GetProperty("parentId").GetGuid()));
        await ritaBell.WaitFor("Notification", TimeSpan.FromSeconds(5), a => a[0].GetProperty("kind").GetString() == "commented");
        var resolved = await (await alice.PatchJson($"/api/images/{_images[1]}/comments/{reply.GetProperty("id").GetGuid()}", new { resolved = true })).Read<JsonElement>();
        Assert.Equal((thread.GetProperty("id").GetGuid(), true), (resolved.GetProperty("id").GetGuid(), resolved.GetProperty("resolved").GetBoolean()));
        Assert.True((await (await alice.PostJson($"/api/images/{_images[1]}/comments", new { x = 0, y = 0, text = "?", parentId = Guid.NewGuid() })).Problem(400))
            .GetProperty("errors").TryGetProperty("parentId", out _));

        var list = await (await alice.GetAsync("/api/notifications")).Read<JsonElement>();
        Assert.Equal(3, list.GetProperty("unread").GetInt32()); // assigned, rejected, commented (not her own reply)
        var firstId = list.GetProperty("items")[0].GetProperty("id").GetGuid();
        var after = await (await alice.PostJson("/api/notifications/read", new { ids = new[] { firstId } })).Read<JsonElement>();
        Assert.Equal(2, after.GetProperty("unread").GetInt32());
        Assert.Equal(0, (await (await alice.PostJson("/api/notifications/read", new { all = true })).Read<JsonElement>()).GetProperty("unread").GetInt32());
        await (await alice.PostJson("/api/notifications/read", new { })).Problem(400);
        // The list is the caller's own: carol was told nothing.
        var carol = await As("carol");
        Assert.Equal(0, (await (await carol.GetAsync("/api/notifications")).Read<JsonElement>()).GetProperty("items").GetArrayLength());
    }
}
