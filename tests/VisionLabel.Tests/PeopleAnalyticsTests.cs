using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// People analytics on scripted work (docs/analytics.md): active time from the editor's hub events with a clock the test
/// moves (gaps over the cutoff, a hidden page, the project's own cutoff), and one scripted day of two annotators and a
/// reviewer whose every KPI is worked out by hand below.
/// </summary>
[Trait("Tier", Tiers.Api)]
public class PeopleAnalyticsTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private readonly TestClock _clock = new(frozen: true);
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private List<Guid> _images = null!;
    private ProjectMembers _members = null!;

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path, Storage.Settings(), services: s => s.AddSingleton<TimeProvider>(_clock));
        _owner = _app.Client("lead", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "people", labels = new[] { new { name = "car" }, new { name = "truck" } } })).Read<ProjectDto>();
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

    private async Task<HubClient> Hub(string user) =>
        await HubClient.ConnectAsync(_app.Server, await _members.HubPathAsync("/hubs/annotations", _project.Id, user, "annotator"));

    private void At(double seconds, ref double now)
    {
        _clock.Advance(TimeSpan.FromSeconds(seconds - now));
        now = seconds;
    }

    private async Task<JsonElement> Person(HttpClient client, string user, string query = "") =>
        (await (await client.GetAsync($"/api/projects/{_project.Id}/analytics/people{query}")).Read<JsonElement>())
        .GetProperty("people").EnumerateArray().Single(p => p.GetProperty("user").GetString() == user);

    [Fact]
    public async Task Active_time_counts_gaps_up_to_the_cutoff_and_never_while_the_page_is_hidden()
    {
        await As("alice");
        await using var hub = await Hub("alice");
        double now = 0;
        // t:        0     10    30    100 (gap 70 > 60)  110   115 hidden   200 (after hidden)   210
        // counted:        10    20    —                  10    5            —                    10     = 55 s
        foreach (var (t, hidden) in new[] { (0.0, false), (10, false), (30, false), (100, false), (110, false), (115, true), (200, false), (210, false) })
        {
            At(t, ref now);
            await hub.CallAsync("ReportActivity", _images[0], hidden);
        }
        var alice = await Person(_owner, "alice");
        Assert.Equal(55.0, alice.GetProperty("activeSeconds").GetDouble(), 3);
        Assert.Equal(55.0, alice.GetProperty("meanActiveSecondsPerImage").GetDouble(), 3);

        // The project's cutoff: at 90 s a 70 s gap counts (on another image: each image has its own sequence).
        (await _owner.WorkflowAsync(_project.Id, new { activeTimeCutoffSeconds = 90 })).EnsureSuccessStatusCode();
        await hub.CallAsync("ReportActivity", _images[1], false);
        At(280, ref now);
        await hub.CallAsync("ReportActivity", _images[1], false);
        alice = await Person(_owner, "alice");
        Assert.Equal(125.0, alice.GetProperty("activeSeconds").GetDouble(), 3);
        Assert.Equal(62.5, alice.GetProperty("meanActiveSecondsPerImage").GetDouble(), 3);
        var bad = await (await _owner.WorkflowAsync(_project.Id, new { activeTimeCutoffSeconds = 1 })).Problem(400);
        Assert.True(bad.GetProperty("errors").TryGetProperty("workflow.activeTimeCutoffSeconds", out _));
        // A viewer's events are not work: the hub refuses them.
        await using var viewerHub = await HubClient.ConnectAsync(_app.Server, await _members.HubPathAsync("/hubs/annotations", _project.Id, "victor", "viewer"));
        Assert.Contains("403", await viewerHub.CallError("ReportActivity", _images[0], false));
    }

    [Fact]
    public async Task A_scripted_day_of_two_annotators_and_a_reviewer_gives_exact_kpis()
    {
        var (ann1, ann2, rev) = (await As("ann1"), await As("ann2"), await As("rev", "reviewer"));
        await using var hub1 = await Hub("ann1");
        var car = _project.Labels.Single(l => l.Name == "car").Id;
        object Box(double x) => new { labelId = car, kind = "box", geometry = new { x, y = 5, width = 10, height = 10 } };
        double now = 0;

        // ann1: image 0 leased at 0, active 0→30, two boxes, submitted at 40.
        Assert.Equal(_images[0], await ann1.NextIdAsync(_project.Id));
        await hub1.CallAsync("ReportActivity", _images[0], false);
        At(30, ref now);
        await hub1.CallAsync("ReportActivity", _images[0], false);
        (await ann1.PostJson($"/api/images/{_images[0]}/annotations", Box(5))).EnsureSuccessStatusCode();
        (await ann1.PostJson($"/api/images/{_images[0]}/annotations", Box(30))).EnsureSuccessStatusCode();
        At(40, ref now);
        (await ann1.WorkAsync(_images[0], "submit")).EnsureSuccessStatusCode();
        // ann1: image 1 leased at 40, active 40→60, one box created then moved, submitted at 70.
        Assert.Equal(_images[1], await ann1.NextIdAsync(_project.Id));
        await hub1.CallAsync("ReportActivity", _images[1], false);
        At(60, ref now);
        await hub1.CallAsync("ReportActivity", _images[1], false);
        var created = await (await ann1.PostJson($"/api/images/{_images[1]}/annotations", Box(5))).Read<JsonElement>();
        var moved = await ann1.PatchJson($"/api/images/{_images[1]}/annotations/{created.GetProperty("id").GetGuid()}", new { geometry = new { x = 6, y = 5, width = 10, height = 10 }, version = created.GetProperty("version").GetInt32() });
        Assert.True(moved.IsSuccessStatusCode, await moved.Content.ReadAsStringAsync());
        At(70, ref now);
        (await ann1.WorkAsync(_images[1], "submit")).EnsureSuccessStatusCode();
        // ann2: image 2 leased at 70, skipped at 75, taken again at 75, one box, submitted at 100.
        Assert.Equal(_images[2], await ann2.NextIdAsync(_project.Id));
        At(75, ref now);
        (await ann2.PostJson($"/api/images/{_images[2]}/lease/release", new { })).EnsureSuccessStatusCode();
        Assert.Equal(_images[2], await ann2.NextIdAsync(_project.Id));
        (await ann2.PostJson($"/api/images/{_images[2]}/annotations", Box(5))).EnsureSuccessStatusCode();
        At(100, ref now);
        (await ann2.WorkAsync(_images[2], "submit")).EnsureSuccessStatusCode();
        // rev: approves image 0 at 200, rejects image 1 at 210 (wrong label), approves image 2 at 220.
        Assert.Equal(_images[0], await rev.NextIdAsync(_project.Id, "review"));
        At(200, ref now);
        (await rev.WorkAsync(_images[0], "approve")).EnsureSuccessStatusCode();
        Assert.Equal(_images[1], await rev.NextIdAsync(_project.Id, "review"));
        At(210, ref now);
        (await rev.WorkAsync(_images[1], "reject", new { reason = "wrong label" })).EnsureSuccessStatusCode();
        Assert.Equal(_images[2], await rev.NextIdAsync(_project.Id, "review"));
        At(220, ref now);
        (await rev.WorkAsync(_images[2], "approve")).EnsureSuccessStatusCode();

        // ann1: 2 images; 3 created + 1 edited over 50 active seconds → 4 / (50/3600) = 288 per hour; 25 s per image;
        // first pass 1 of 2 accepted; 1 rework round (wrong label); 2 leases, no skip; lease→submit 40 and 30 → median 35;
        // submit→approved only image 0: 200 − 40 = 160.
        var p1 = await Person(_owner, "ann1");
        Assert.Equal((2, 3L, 1L), (p1.GetProperty("imagesSubmitted").GetInt32(), p1.GetProperty("objectsCreated").GetInt64(), p1.GetProperty("objectsEdited").GetInt64()));
        Assert.Equal(50.0, p1.GetProperty("activeSeconds").GetDouble(), 3);
        Assert.Equal(288.0, p1.GetProperty("objectsPerActiveHour").GetDouble(), 3);
        Assert.Equal(25.0, p1.GetProperty("meanActiveSecondsPerImage").GetDouble(), 3);
        Assert.Equal((2, 0.5), (p1.GetProperty("firstPassReviewed").GetInt32(), p1.GetProperty("firstPassAcceptance").GetDouble()));
        Assert.Equal(1, p1.GetProperty("reworkRounds").GetInt32());
        Assert.Equal(1, p1.GetProperty("rejectReasons").GetProperty("wrong label").GetInt32());
        Assert.Equal((2, 0, 0.0), (p1.GetProperty("leases").GetInt32(), p1.GetProperty("skips").GetInt32(), p1.GetProperty("skipRate").GetDouble()));
        Assert.Equal(35.0, p1.GetProperty("medianLeaseToSubmitSeconds").GetDouble(), 3);
        Assert.Equal(160.0, p1.GetProperty("medianSubmitToApprovedSeconds").GetDouble(), 3);
        var labels = p1.GetProperty("labels").EnumerateArray().Single();
        Assert.Equal(("car", 3L, 1L), (labels.GetProperty("label").GetString(), labels.GetProperty("created").GetInt64(), labels.GetProperty("edited").GetInt64()));
        // ann2: 1 image, 1 created, no active time (no editor events) → no per-hour figure; 2 leases, 1 skip → 0.5;
        // lease (the second, at 75) → submit 100: 25; approved 120 s after; first pass 1 of 1.
        var p2 = await Person(_owner, "ann2");
        Assert.Equal((1, 1L, 0.0), (p2.GetProperty("imagesSubmitted").GetInt32(), p2.GetProperty("objectsCreated").GetInt64(), p2.GetProperty("activeSeconds").GetDouble()));
        Assert.Equal(JsonValueKind.Null, p2.GetProperty("objectsPerActiveHour").ValueKind);
        Assert.Equal((2, 1, 0.5), (p2.GetProperty("leases").GetInt32(), p2.GetProperty("skips").GetInt32(), p2.GetProperty("skipRate").GetDouble()));
        Assert.Equal(25.0, p2.GetProperty("medianLeaseToSubmitSeconds").GetDouble(), 3);
        Assert.Equal(120.0, p2.GetProperty("medianSubmitToApprovedSeconds").GetDouble(), 3);
        Assert.Equal(1.0, p2.GetProperty("firstPassAcceptance").GetDouble());
        var r = await Person(_owner, "rev");
        Assert.Equal((0, 0), (r.GetProperty("imagesSubmitted").GetInt32(), r.GetProperty("leases").GetInt32()));

        // The op log is counted once: later ops are added to what was counted, and asking again counts nothing twice.
        Assert.Equal(_images[3], await ann2.NextIdAsync(_project.Id));
        (await ann2.PostJson($"/api/images/{_images[3]}/annotations", Box(50))).EnsureSuccessStatusCode();
        Assert.Equal(2L, (await Person(_owner, "ann2")).GetProperty("objectsCreated").GetInt64());
        Assert.Equal(2L, (await Person(_owner, "ann2")).GetProperty("objectsCreated").GetInt64());
        Assert.Equal(3L, (await Person(_owner, "ann1")).GetProperty("objectsCreated").GetInt64());
        // So are the workflow's events: ann1 takes the rejected image 1 back at 300 (rework first), resubmits at 320, and
        // rev approves it at 360. Round 1: first pass stays 1 of 2; lease→submit 40, 30, 20 → median 30; submit→approved
        // 160 and 40 → 100; still 2 distinct images and 1 rework round.
        At(300, ref now);
        Assert.Equal(_images[1], await ann1.NextIdAsync(_project.Id));
        At(320, ref now);
        (await ann1.WorkAsync(_images[1], "submit")).EnsureSuccessStatusCode();
        Assert.Equal(_images[1], await rev.NextIdAsync(_project.Id, "review"));
        At(360, ref now);
        (await rev.WorkAsync(_images[1], "approve")).EnsureSuccessStatusCode();
        for (int ask = 0; ask < 2; ask++) // asking twice counts nothing twice
        {
            var again = await Person(_owner, "ann1");
            Assert.Equal((2, 2, 0.5, 1), (again.GetProperty("imagesSubmitted").GetInt32(), again.GetProperty("firstPassReviewed").GetInt32(),
                again.GetProperty("firstPassAcceptance").GetDouble(), again.GetProperty("reworkRounds").GetInt32()));
            Assert.Equal(30.0, again.GetProperty("medianLeaseToSubmitSeconds").GetDouble(), 3);
            Assert.Equal(100.0, again.GetProperty("medianSubmitToApprovedSeconds").GetDouble(), 3);
        }
        // A decision an hour after a counted submission (far past the counts' 5-minute overlap) still finds it: ann2
        // submits image 3 at 400, the figures are read, rev approves it at 4000 → ann2's submit→approved 120 and 3600
        // → median 1860.
        At(400, ref now);
        (await ann2.WorkAsync(_images[3], "submit")).EnsureSuccessStatusCode();
        Assert.Equal(2, (await Person(_owner, "ann2")).GetProperty("imagesSubmitted").GetInt32());
        At(4000, ref now);
        Assert.Equal(_images[3], await rev.NextIdAsync(_project.Id, "review"));
        (await rev.WorkAsync(_images[3], "approve")).EnsureSuccessStatusCode();
        Assert.Equal(1860.0, (await Person(_owner, "ann2")).GetProperty("medianSubmitToApprovedSeconds").GetDouble(), 3);

        // Annotators see their own row only; a range before the day has nobody's work.
        var own = await (await ann2.GetAsync($"/api/projects/{_project.Id}/analytics/people")).Read<JsonElement>();
        Assert.Equal("ann2", Assert.Single(own.GetProperty("people").EnumerateArray()).GetProperty("user").GetString());
        var before = await (await _owner.GetAsync($"/api/projects/{_project.Id}/analytics/people?to=2000-01-01")).Read<JsonElement>();
        Assert.Empty(before.GetProperty("people").EnumerateArray());
        // The CSV has the same figures.
        var csv = (await (await _owner.GetAsync($"/api/projects/{_project.Id}/analytics/people?format=csv")).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("user,imagesSubmitted,objectsCreated,objectsEdited,activeSeconds,objectsPerActiveHour", csv[0]);
        Assert.StartsWith("ann1,2,3,1,50,288,25,2,0.5,1,wrong label: 1,", csv.Single(l => l.StartsWith("ann1,")).TrimEnd('\r'));
        var badRange = await (await _owner.GetAsync($"/api/projects/{_project.Id}/analytics/people?from=yesterday")).Problem(400);
        Assert.True(badRange.GetProperty("errors").TryGetProperty("from", out _));
    }
}

public sealed class PeopleAnalyticsTestsOnPostgres : PeopleAnalyticsTests
{
    protected override TestStorage Storage { get; } = TestStorage.Postgres();
}
