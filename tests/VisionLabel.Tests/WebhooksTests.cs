using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using VisionLabel.Server.Projects;
using VisionLabel.Server.Webhooks;

namespace VisionLabel.Tests;

/// <summary>
/// Webhooks end to end over real HTTP: a Kestrel receiver in the test (127.0.0.1, allowed through
/// VisionLabel:Webhooks:AllowedHosts) gets signed events raised by real API actions; a failing one gets retries on a
/// short schedule, logged attempt by attempt, and a redelivery; internal targets are refused at creation and, when DNS
/// changes after creation, at connection time.
/// </summary>
[Trait("Tier", Tiers.Api)]
public partial class WebhooksTests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private VisionLabelApp _app = null!;
    private HttpClient _owner = null!;
    private ProjectDto _project = null!;
    private ProjectMembers _members = null!;
    private int _rebindLookups;

    /// <summary>DNS for the app: "rebind.test" answers a public address once (at creation), then loopback (rebinding).</summary>
    private Task<IPAddress[]> Resolve(string host, CancellationToken ct) => host == "rebind.test"
        ? Task.FromResult<IPAddress[]>(Interlocked.Increment(ref _rebindLookups) == 1 ? [IPAddress.Parse("93.184.216.34")] : [IPAddress.Parse("127.0.0.2")])
        : Dns.GetHostAddressesAsync(host, ct);

    public async ValueTask InitializeAsync()
    {
        _app = new VisionLabelApp(_data.Path, new Dictionary<string, string?>
        {
            ["VisionLabel:Webhooks:AllowedHosts:0"] = "127.0.0.1",
            ["VisionLabel:Webhooks:RetryDelays:0"] = "00:00:00.500",
            ["VisionLabel:Webhooks:RetryDelays:1"] = "00:00:01",
            ["VisionLabel:Jobs:PollInterval"] = "00:00:00.100",
        }, services => services.AddSingleton(sp => new WebhookTargets(sp.GetRequiredService<IOptions<WebhookOptions>>(), Resolve)));
        _owner = _app.Client("olga", admin: false);
        _project = await (await _owner.PostJson("/api/projects", new { name = "hooks", labels = new[] { new { name = "car" } } })).Read<ProjectDto>();
        _members = new ProjectMembers(_app, _owner);
    }

    public ValueTask DisposeAsync()
    {
        _app.Dispose();
        _data.Dispose();
        return ValueTask.CompletedTask;
    }

    private string Hooks => $"/api/projects/{_project.Id}/webhooks";

    private async Task<WebhookCreated> CreateAsync(string url, params string[] events) =>
        await (await _owner.PostJson(Hooks, new { url, events })).Read<WebhookCreated>();

    private async Task<List<WebhookDeliveryLog>> LogAsync(Guid hookId) =>
        await (await _owner.GetAsync($"{Hooks}/{hookId}/deliveries")).Read<List<WebhookDeliveryLog>>();

    private async Task<List<WebhookDeliveryLog>> WaitForLogAsync(Guid hookId, Func<List<WebhookDeliveryLog>, bool> condition, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var log = await LogAsync(hookId);
            if (condition(log)) return log;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("delivery log: " + JsonSerializer.Serialize(log, VisionLabelApp.Json));
            await Task.Delay(100);
        }
    }

    private static string Signature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    [Fact]
    public async Task A_receiver_gets_image_approved_after_a_real_submit_and_approve_signed_with_the_secret_shown_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var response = await _owner.PostJson(Hooks, new { url = receiver.Url, events = new[] { "image.submitted", "image.approved" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var hook = await response.Read<WebhookCreated>();
        Assert.Matches("^[0-9a-f]{64}$", hook.Secret);
        Assert.Equal(receiver.Url, hook.Url);

        var image = (await _owner.UploadImagesAsync(_project.Id, 1))[0];
        await _members.HubPathAsync("/hubs/annotations", _project.Id, "alice", "annotator");
        await _members.HubPathAsync("/hubs/annotations", _project.Id, "rita", "reviewer");
        (await _app.Client("alice", admin: false).WorkAsync(image, "submit")).EnsureSuccessStatusCode();
        (await _app.Client("rita", admin: false).WorkAsync(image, "approve")).EnsureSuccessStatusCode();

        var approved = (await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") == "image.approved")).Single();
        // The signature is HMAC-SHA256 over the exact bytes received, keyed by the secret from the 201.
        Assert.Equal(Signature(hook.Secret, approved.Body), approved.Header("X-VisionLabel-Signature"));
        Assert.StartsWith("VisionLabel-Webhooks", approved.Header("User-Agent"));
        Assert.StartsWith("application/json", approved.Header("Content-Type"));
        Assert.True(Guid.TryParse(approved.Header("X-VisionLabel-Delivery"), out var deliveryId));
        var payload = approved.Json;
        Assert.True(Guid.TryParse(payload.GetProperty("id").GetString(), out var eventId));
        Assert.Equal("image.approved", payload.GetProperty("event").GetString());
        Assert.Equal(_project.Id, payload.GetProperty("projectId").GetGuid());
        string at = payload.GetProperty("at").GetString()!;
        Assert.EndsWith("Z", at);
        Assert.InRange(DateTime.Parse(at, null, System.Globalization.DateTimeStyles.RoundtripKind), DateTime.UtcNow.AddMinutes(-2), DateTime.UtcNow.AddSeconds(5));
        var data = payload.GetProperty("data");
        Assert.Equal(image, data.GetProperty("imageId").GetGuid());
        Assert.Equal("rita", data.GetProperty("by").GetString());
        Assert.Equal("alice", data.GetProperty("annotator").GetString());
        var submitted = (await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") == "image.submitted")).Single();
        Assert.Equal("alice", submitted.Json.GetProperty("data").GetProperty("by").GetString());
        Assert.Equal(Signature(hook.Secret, submitted.Body), submitted.Header("X-VisionLabel-Signature"));

        // The list shows the hook and its deliveries, never the secret.
        var log = await WaitForLogAsync(hook.Id, l => l.Count == 2 && l.All(d => d.Delivery.Status == WebhookDeliveryStatus.Succeeded));
        var delivery = log.Single(d => d.Delivery.Id == deliveryId);
        Assert.Equal(eventId, delivery.Delivery.EventId);
        Assert.Equal(200, delivery.Delivery.StatusCode);
        Assert.Equal(Encoding.UTF8.GetString(approved.Body), delivery.Payload);
        var attempt = Assert.Single(delivery.Log);
        Assert.Equal((1, 200, (string?)null), (attempt.Attempt, attempt.StatusCode, attempt.Error));
        string list = await (await _owner.GetAsync(Hooks)).Content.ReadAsStringAsync();
        Assert.DoesNotContain(hook.Secret, list);
        Assert.DoesNotContain("\"secret\"", list, StringComparison.OrdinalIgnoreCase);
        var listed = Assert.Single(JsonSerializer.Deserialize<List<WebhookDto>>(list, VisionLabelApp.Json)!);
        Assert.Equal(["image.submitted", "image.approved"], listed.Events);
        Assert.Equal(2, listed.LastDeliveries.Count);
        Assert.All(listed.LastDeliveries, d => Assert.Equal(200, d.StatusCode));
    }

    [Fact]
    public async Task A_failing_receiver_gets_retries_with_backoff_each_attempt_logged_and_a_redelivery_works()
    {
        await using var receiver = await WebhookReceiver.StartAsync(status: 500);
        var hook = await CreateAsync(receiver.Url, "member.added");
        _app.Token("bob", admin: false);
        (await _owner.PostJson($"/api/projects/{_project.Id}/members", new { user = "bob", role = "annotator" })).EnsureSuccessStatusCode();

        // Three attempts (the first and one per retry delay), then failed.
        var log = await WaitForLogAsync(hook.Id, l => l.Count == 1 && l[0].Delivery.Status == WebhookDeliveryStatus.Failed);
        var failed = log[0];
        Assert.Equal(3, failed.Delivery.Attempts);
        Assert.Equal(500, failed.Delivery.StatusCode);
        Assert.Null(failed.Delivery.NextAttemptAt);
        Assert.Equal([1, 2, 3], failed.Log.Select(a => a.Attempt));
        Assert.All(failed.Log, a => { Assert.Equal(500, a.StatusCode); Assert.Contains("500", a.Error); });
        var got = await receiver.WaitForAsync(_ => true, count: 3);
        Assert.Equal(3, got.Count);
        Assert.Single(got.Select(r => r.Header("X-VisionLabel-Delivery")).Distinct()); // one delivery, tried three times
        Assert.Equal("bob", got[0].Json.GetProperty("data").GetProperty("userName").GetString());
        // Backoff: the retries waited their delays (0.5 s, then 1 s).
        Assert.True(got[1].At - got[0].At >= TimeSpan.FromMilliseconds(400), $"first retry after {(got[1].At - got[0].At).TotalMilliseconds} ms");
        Assert.True(got[2].At - got[1].At >= TimeSpan.FromMilliseconds(900), $"second retry after {(got[2].At - got[1].At).TotalMilliseconds} ms");

        // The receiver is fixed: a redelivery sends the same event (same id and body) as a new delivery, which succeeds.
        receiver.Status = 204;
        var redeliver = await _owner.PostJson($"{Hooks}/{hook.Id}/deliveries/{failed.Delivery.Id}/redeliver", new { });
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        var copy = await redeliver.Read<WebhookDeliveryDto>();
        Assert.Equal(failed.Delivery.EventId, copy.EventId);
        Assert.Equal(failed.Delivery.Id, copy.RedeliveryOf);
        log = await WaitForLogAsync(hook.Id, l => l.Any(d => d.Delivery.Id == copy.Id && d.Delivery.Status == WebhookDeliveryStatus.Succeeded));
        Assert.Equal(204, log.Single(d => d.Delivery.Id == copy.Id).Delivery.StatusCode);
        var again = (await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Delivery") == copy.Id.ToString())).Single();
        Assert.Equal(got[0].Body, again.Body);
        Assert.Equal(Signature(hook.Secret, again.Body), again.Header("X-VisionLabel-Signature"));
        // A delivery of another hook (or of nothing) cannot be redelivered through this one.
        await (await _owner.PostJson($"{Hooks}/{hook.Id}/deliveries/{Guid.NewGuid()}/redeliver", new { })).Problem(404);
    }

    [Fact]
    public async Task Disallowed_targets_and_unknown_events_are_refused_at_creation_naming_the_field()
    {
        foreach (string url in new[]
                 {
                     "http://127.0.0.2:8080/hook", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/",
                     "http://100.64.0.1/", "http://0.0.0.0/", "http://[::1]/", "http://[::ffff:127.0.0.2]/", "http://[fd00::1]/", "http://[fe80::1]/",
                     "http://localhost:5000/hook", "http://api.localhost/", "ftp://example.com/hook", "file:///etc/passwd", "gopher://example.com/",
                     "not a url", "http://user:secret@example.com/",
                 })
        {
            var problem = await (await _owner.PostJson(Hooks, new { url, events = new[] { "image.approved" } })).Problem(400);
            Assert.True(problem.GetProperty("errors").TryGetProperty("url", out _), $"{url}: {problem}");
        }
        var unknown = await (await _owner.PostJson(Hooks, new { url = "http://127.0.0.1:9/hook", events = new[] { "image.approved", "job.completed", "image.deleted" } })).Problem(400);
        Assert.Contains("image.deleted", unknown.GetProperty("errors").GetProperty("events[2]")[0].GetString());
        await (await _owner.PostJson(Hooks, new { url = "http://127.0.0.1:9/hook", events = Array.Empty<string>() })).Problem(400);
        // A public address, and the receiver an admin allowed (127.0.0.1), are accepted.
        await CreateAsync("https://93.184.216.34/hook", "export.ready");
        await CreateAsync("http://127.0.0.1:9/hook", "export.ready");
        Assert.Equal(2, (await (await _owner.GetAsync(Hooks)).Read<List<WebhookDto>>()).Count);
    }

    [Fact]
    public async Task A_host_that_resolves_to_an_internal_address_at_delivery_is_never_connected()
    {
        // DNS rebinding: rebind.test answered a public address when the hook was made, and 127.0.0.2 (not allowed) since.
        await using var receiver = await WebhookReceiver.StartAsync(host: "127.0.0.2");
        var hook = await CreateAsync($"http://rebind.test:{receiver.Port}/hook", "guideline.published");
        (await _owner.PostJson($"/api/projects/{_project.Id}/guidelines", new { markdown = "Box every car.", changelog = "first", major = false, cards = Array.Empty<object>() }))
            .EnsureSuccessStatusCode();
        var log = await WaitForLogAsync(hook.Id, l => l.Count == 1 && l[0].Delivery.Status == WebhookDeliveryStatus.Failed);
        Assert.All(log[0].Log, a =>
        {
            Assert.Null(a.StatusCode);
            Assert.Contains("rebind.test resolves to 127.0.0.2", a.Error);
        });
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task Jobs_exports_members_and_guidelines_raise_their_events()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var hook = await CreateAsync(receiver.Url, "job.completed", "job.failed", "export.ready", "member.added", "member.removed", "guideline.published");
        List<JsonElement> All(string name) => receiver.Received.Where(r => r.Header("X-VisionLabel-Event") == name).Select(r => r.Json.GetProperty("data")).ToList();
        JsonElement Data(string name) => All(name).Single();

        // A real import job that completes.
        var jpeg = VisionLabel.Imaging.ImageCodec.EncodeJpeg(TestImages.Quadrants(64, 48));
        string coco = """{"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48}], "annotations": [], "categories": [{"id": 1, "name": "car"}]}""";
        var zip = DatasetTests.Zip([("annotations/instances.json", Encoding.UTF8.GetBytes(coco)), ("images/a.jpg", jpeg)]);
        var completed = await _owner.ImportDataset($"/api/projects/{_project.Id}/import?format=coco", HttpExtensions.ZipUpload(zip));
        await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") == "job.completed" && r.Json.GetProperty("data").GetProperty("kind").GetString()!.Contains("import"));
        // (Imported images start jobs of their own, which complete too.)
        var import = All("job.completed").Single(d => d.GetProperty("kind").GetString()!.Contains("import"));
        Assert.Equal(("completed", 1), (import.GetProperty("status").GetString(), import.GetProperty("done").GetInt32()));
        // A job that fails for good, ended through the rows' one place (JobRows), as JobRunner ends it.
        var dead = new VisionLabel.Server.Data.Job
        {
            Kind = "prelabel", ProjectId = _project.Id, Status = VisionLabel.Server.Data.JobStatus.Running, Payload = "{}", CreatedAt = DateTime.UtcNow,
        };
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabel.Server.Data.VisionLabelDb>();
            db.Jobs.Add(dead);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
            var rows = scope.ServiceProvider.GetRequiredService<VisionLabel.Server.Jobs.JobRows>();
            Assert.Equal(1, await rows.FinishAsync(dead.Id, VisionLabel.Server.Data.JobStatus.Dead, "model file missing", TestContext.Current.CancellationToken));
            Assert.Equal(0, await rows.FinishAsync(dead.Id, VisionLabel.Server.Data.JobStatus.Dead, "again", TestContext.Current.CancellationToken)); // ended once: told once
        }
        await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") == "job.failed");
        Assert.Equal((dead.Id, "model file missing"), (Data("job.failed").GetProperty("jobId").GetGuid(), Data("job.failed").GetProperty("error").GetString()));

        // An export: ready once the whole zip is written.
        var export = await _owner.GetAsync($"/api/projects/{_project.Id}/export?format=coco&scope=all");
        Assert.True(export.IsSuccessStatusCode);
        await export.Content.ReadAsByteArrayAsync();
        await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") == "export.ready");
        Assert.Equal("coco", Data("export.ready").GetProperty("format").GetString());
        Assert.Equal("olga", Data("export.ready").GetProperty("by").GetString());

        // Members in and out, and a guideline version.
        _app.Token("bob", admin: false);
        var bob = await (await _owner.PostJson($"/api/projects/{_project.Id}/members", new { user = "bob", role = "reviewer" })).Read<MemberDto>();
        Assert.Equal(HttpStatusCode.NoContent, (await _owner.DeleteAsync($"/api/projects/{_project.Id}/members/{bob.UserId}")).StatusCode);
        (await _owner.PostJson($"/api/projects/{_project.Id}/guidelines", new { markdown = "Box every car.", changelog = "first" })).EnsureSuccessStatusCode();
        await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Event") is "member.added" or "member.removed" or "guideline.published", count: 3);
        Assert.Equal("reviewer", Data("member.added").GetProperty("role").GetString());
        Assert.Equal("bob", Data("member.removed").GetProperty("userName").GetString());
        Assert.Equal("1.0", Data("guideline.published").GetProperty("version").GetString());
        Assert.All(receiver.Received, r => Assert.Equal(Signature(hook.Secret, r.Body), r.Header("X-VisionLabel-Signature")));
        Assert.Equal(1, completed.ImagesCreated);
    }

    [Fact]
    public async Task A_delivery_written_but_never_handed_to_Hangfire_is_sent_at_the_next_start()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var hook = await CreateAsync(receiver.Url, "export.ready");
        // As a process that stopped between writing the outbox row and enqueueing it leaves it.
        var leftover = new WebhookDelivery
        {
            WebhookId = hook.Id, ProjectId = _project.Id, EventId = Guid.NewGuid(), Event = "export.ready", Payload = "{\"id\":\"left\"}",
            CreatedAt = DateTime.UtcNow.AddMinutes(-5), NextAttemptAt = DateTime.UtcNow.AddMinutes(-5), Status = WebhookDeliveryStatus.Pending,
        };
        await using (var scope = _app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabel.Server.Data.VisionLabelDb>();
            db.WebhookDeliveries.Add(leftover);
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }
        var webhooks = _app.Services.GetRequiredService<Webhooks>();
        Assert.Equal(1, await webhooks.DispatchLeftoversAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken));
        var got = (await receiver.WaitForAsync(r => r.Header("X-VisionLabel-Delivery") == leftover.Id.ToString())).Single();
        Assert.Equal(Signature(hook.Secret, got.Body), got.Header("X-VisionLabel-Signature"));
        await WaitForLogAsync(hook.Id, l => l.Single().Delivery.Status == WebhookDeliveryStatus.Succeeded);
        Assert.Equal(0, await webhooks.DispatchLeftoversAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken)); // sent: not again
    }

    [Fact]
    public async Task Another_projects_owner_and_other_members_cannot_see_or_change_the_hooks()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var hook = await CreateAsync(receiver.Url, "member.added");
        var mallory = _app.Client("mallory", admin: false);
        var theirs = await (await mallory.PostJson("/api/projects", new { name = "mallorys" })).Read<ProjectDto>();
        // Not a member: the project does not exist for them.
        await (await mallory.GetAsync(Hooks)).Problem(404);
        await (await mallory.DeleteAsync($"{Hooks}/{hook.Id}")).Problem(404);
        await (await mallory.GetAsync($"{Hooks}/{hook.Id}/deliveries")).Problem(404);
        // Through their own project: the hook is not theirs.
        await (await mallory.DeleteAsync($"/api/projects/{theirs.Id}/webhooks/{hook.Id}")).Problem(404);
        await (await mallory.GetAsync($"/api/projects/{theirs.Id}/webhooks/{hook.Id}/deliveries")).Problem(404);
        Assert.Empty(await (await mallory.GetAsync($"/api/projects/{theirs.Id}/webhooks")).Read<List<WebhookDto>>());
        // A reviewer of this project is a member, but not an owner.
        await _members.HubPathAsync("/hubs/annotations", _project.Id, "rita", "reviewer");
        var rita = _app.Client("rita", admin: false);
        await (await rita.GetAsync(Hooks)).Problem(403);
        await (await rita.PostJson(Hooks, new { url = receiver.Url, events = new[] { "image.approved" } })).Problem(403);
        await (await rita.DeleteAsync($"{Hooks}/{hook.Id}")).Problem(403);
        // The owner deletes it: gone from the list, and a second delete is a 404.
        Assert.Equal(HttpStatusCode.NoContent, (await _owner.DeleteAsync($"{Hooks}/{hook.Id}")).StatusCode);
        Assert.Empty(await (await _owner.GetAsync(Hooks)).Read<List<WebhookDto>>());
        await (await _owner.DeleteAsync($"{Hooks}/{hook.Id}")).Problem(404);
    }
}
