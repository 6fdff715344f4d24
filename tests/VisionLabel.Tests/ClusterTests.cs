using System.Collections.Concurrent;
using System.Text.Json;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Two server processes on one PostgreSQL database, one S3 bucket and one Redis, behind nginx (round-robin, no
/// stickiness): editors connected through different processes edit one image at once, and a process is killed
/// mid-editing. Every client must converge on the server's state with gapless seqs, no op lost, none applied twice.
/// </summary>
[Trait("Tier", Tiers.System)]
public class ClusterTests
{
    private static object Submit(string clientOpId, Guid imageId, string type, Guid annotationId, object? changes = null) =>
        new { clientOpId, imageId, type, annotationId, changes };

    /// <summary>One random op (fixed seed per client): create 30%, update 50% (geometry or attributes), delete 20%.</summary>
    private static (object Op, Guid? Created) RandomOp(Random random, string clientOpId, Guid imageId, Guid[] labels, IReadOnlyList<Guid> known)
    {
        double roll = random.NextDouble();
        if (roll < 0.3 || known.Count == 0)
        {
            var id = Guid.CreateVersion7();
            return (Submit(clientOpId, imageId, "create", id, new
            {
                labelId = labels[random.Next(labels.Length)], kind = "box",
                geometry = new { x = random.Next(0, 300), y = random.Next(0, 200), width = random.Next(5, 300), height = random.Next(5, 250) },
            }), id);
        }
        var target = known[random.Next(known.Count)];
        if (roll < 0.8)
            return (random.NextDouble() < 0.6
                ? Submit(clientOpId, imageId, "update", target, new { geometry = new { x = random.Next(0, 300), y = random.Next(0, 200), width = random.Next(5, 300), height = random.Next(5, 250) } })
                : Submit(clientOpId, imageId, "update", target, new { attributes = new { n = random.Next(1000) } }), null);
        return (Submit(clientOpId, imageId, "delete", target), null);
    }

    /// <summary>Editors through nginx (so alternating between the processes), each with its replica of the image.</summary>
    private static async Task<(HubClient[] Hubs, ImageReplica[] Replicas)> Editors(Cluster cluster, IEnumerable<string> tokens, Guid imageId)
    {
        var joined = new List<(HubClient Hub, ImageReplica Replica)>();
        foreach (var token in tokens) joined.Add(await ImageReplica.ConnectAsync(() => HubClient.ConnectAsync(cluster.Url, "/hubs/annotations", token), imageId));
        return (joined.Select(j => j.Hub).ToArray(), joined.Select(j => j.Replica).ToArray());
    }

    private static async Task AssertConverged(HttpClient http, Guid imageId, HubClient[] hubs, ImageReplica[] replicas, long finalSeq, IEnumerable<string> ackedOpIds)
    {
        var server = ImageReplica.Canonical(await (await http.GetAsync($"/api/images/{imageId}/annotations")).Read<List<JsonElement>>());
        for (int i = 0; i < replicas.Length; i++)
        {
            try { await replicas[i].WaitForSeq(finalSeq, TimeSpan.FromSeconds(10)); }
            catch (TimeoutException)
            {
                // A gap that does not fill: an op whose broadcast died with its process. A client resumes, as the web app does.
                var resumed = await hubs[i].CallAsync("Resume", imageId, replicas[i].Seq);
                foreach (var op in resumed.GetProperty("ops").EnumerateArray()) replicas[i].Apply(op);
                await replicas[i].WaitForSeq(finalSeq, TimeSpan.FromSeconds(10));
            }
            Assert.Equal(server, replicas[i].Canonical());
        }
        var any = hubs.First(h => h.IsOpen);
        // The op log, as a late joiner replays it: 1..final without a gap, every acknowledged op in it exactly once.
        var log = (await any.CallAsync("Resume", imageId, 0L)).GetProperty("ops").EnumerateArray().ToList();
        Assert.Equal(Enumerable.Range(1, (int)finalSeq).Select(i => (long)i), log.Select(o => o.GetProperty("seq").GetInt64()));
        var inLog = log.Select(o => o.GetProperty("op").GetProperty("clientOpId").GetString()!).ToList();
        Assert.Equal(inLog.Count, inLog.Distinct().Count());
        Assert.Empty(ackedOpIds.Except(inLog));
    }

    [Fact]
    public async Task Editors_through_two_processes_edit_one_image_at_once_and_converge()
    {
        await using var cluster = await Cluster.StartAsync();
        const int clients = 6, opsPerClient = 40;
        var users = Enumerable.Range(0, clients).Select(c => $"editor{c}").ToArray();
        var tokens = await cluster.TokensAsync([.. users, "setup"]);
        using var http = TestAccounts.Client(cluster.Url, tokens["setup"]);
        var (project, image) = await http.ProjectWithImage("cluster-edit", ["a", "b", "c"], 640, 480);
        var labels = project.Labels.Select(l => l.Id).ToArray();

        var (hubs, replicas) = await Editors(cluster, users.Select(u => tokens[u]), image.Id);
        // Presence spans the processes: the last to join sees everyone.
        var joined = await hubs[^1].CallAsync("JoinImage", image.Id);
        Assert.Equal(users.Order(), joined.GetProperty("participants").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).Distinct().Order());

        var known = new ConcurrentDictionary<Guid, bool>();
        var acked = new ConcurrentBag<(string ClientOpId, long Seq)>();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(4200 + c);
            for (int i = 0; i < opsPerClient; i++)
            {
                var (op, created) = RandomOp(random, $"c{c}-{i}", image.Id, labels, known.Keys.ToList());
                var ack = await hubs[c].CallAsync("Submit", op);
                if (ack.GetProperty("seq").ValueKind == JsonValueKind.Number)
                {
                    acked.Add(($"c{c}-{i}", ack.GetProperty("seq").GetInt64()));
                    if (created is { } id) known[id] = true;
                }
            }
        })));

        long final = acked.Max(a => a.Seq);
        Assert.Equal(acked.Count, acked.Select(a => a.Seq).Distinct().Count()); // no two ops got one seq, whichever process took them
        await AssertConverged(http, image.Id, hubs, replicas, final, acked.Select(a => a.ClientOpId));
        foreach (var hub in hubs) await hub.DisposeAsync();
        // nginx logs a WebSocket when it has closed (a moment after the client's close): the editors' went to both processes.
        var upstreams = cluster.HubUpstreams();
        for (var deadline = DateTime.UtcNow.AddSeconds(10); upstreams.Count < clients && DateTime.UtcNow < deadline; upstreams = cluster.HubUpstreams())
            await Task.Delay(100);
        Assert.Equal(cluster.ServerUrls.Select(u => new Uri(u).Authority).Order(), upstreams.Distinct().Order());
    }

    [Fact]
    public async Task A_process_killed_mid_editing_loses_nothing_its_editors_resume_through_the_other_and_it_rejoins()
    {
        await using var cluster = await Cluster.StartAsync();
        const int clients = 4, opsPerClient = 60;
        var users = Enumerable.Range(0, clients).Select(c => $"editor{c}").ToArray();
        var tokens = await cluster.TokensAsync([.. users, "setup"]);
        using var http = TestAccounts.Client(cluster.Url, tokens["setup"]);
        var (project, image) = await http.ProjectWithImage("cluster-kill", ["a", "b"], 640, 480);
        var labels = project.Labels.Select(l => l.Id).ToArray();

        var (hubs, replicas) = await Editors(cluster, users.Select(u => tokens[u]), image.Id);
        var known = new ConcurrentDictionary<Guid, bool>();
        var acked = new ConcurrentDictionary<string, long>();
        int reconnects = 0;
        var halfway = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int progress = 0;

        var editing = Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(7700 + c);
            for (int i = 0; i < opsPerClient; i++)
            {
                var (op, created) = RandomOp(random, $"c{c}-{i}", image.Id, labels, known.Keys.ToList());
                while (true)
                {
                    try
                    {
                        // The same op (same clientOpId) until it is acknowledged: after a reconnect it is resubmitted,
                        // and if it had landed before the process died, it is acknowledged again, not applied twice.
                        var ack = await hubs[c].CallAsync("Submit", op);
                        if (ack.GetProperty("seq").ValueKind == JsonValueKind.Number)
                        {
                            Assert.True(acked.TryAdd($"c{c}-{i}", ack.GetProperty("seq").GetInt64()));
                            if (created is { } id) known[id] = true;
                        }
                        break;
                    }
                    catch (Exception e) when (e is InvalidOperationException or TaskCanceledException or TimeoutException or IOException
                                              or System.Net.WebSockets.WebSocketException or Microsoft.AspNetCore.SignalR.HubException)
                    {
                        // A hub error on a live connection is a refusal. Anything else is the lost connection, even if the
                        // client has not yet noticed (a send to a killed process can fail before the state changes).
                        if (e is Microsoft.AspNetCore.SignalR.HubException && hubs[c].IsOpen) throw;
                        await killed.Task;
                        Interlocked.Increment(ref reconnects);
                        string token = tokens[users[c]];
                        await hubs[c].DisposeAsync();
                        (hubs[c], replicas[c]) = await ImageReplica.ConnectAsync(() => HubClient.ConnectAsync(cluster.Url, "/hubs/annotations", token),
                            image.Id, replicas[c], replicas[c].Seq);
                    }
                }
                if (Interlocked.Increment(ref progress) == clients * opsPerClient / 2) halfway.TrySetResult();
            }
        })));

        await halfway.Task.WaitAsync(TimeSpan.FromSeconds(60));
        cluster.Kill(0);
        killed.TrySetResult();
        await editing.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(reconnects > 0, "no editor was on the killed process");

        long final = acked.Values.Max();
        Assert.Equal(acked.Count, acked.Values.Distinct().Count());
        await AssertConverged(http, image.Id, hubs, replicas, final, acked.Keys);

        // The killed process comes back and serves again: a new editor through it sees the same image.
        await cluster.StartServerAsync(0);
        await using var late = await HubClient.ConnectAsync(cluster.ServerUrls[0], "/hubs/annotations", tokens["setup"]);
        var snapshot = await late.CallAsync("JoinImage", image.Id);
        Assert.Equal(final, snapshot.GetProperty("seq").GetInt64());
        using var direct = TestAccounts.Client(cluster.ServerUrls[0], tokens["setup"]);
        Assert.Equal(ImageStatus.InProgress, (await (await direct.GetAsync($"/api/images/{image.Id}")).Read<ImageDto>()).Status);
        foreach (var hub in hubs) await hub.DisposeAsync();
    }

    [Fact]
    public async Task A_process_killed_mid_job_leaves_its_chunk_to_the_other_and_the_job_finishes_exactly_once()
    {
        byte[] modelBytes = File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx"));
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        await using var cluster = await Cluster.StartAsync(2, "--VisionLabel:Jobs:ChunkSize=16");
        var tokens = await cluster.TokensAsync("setup");
        using var http = TestAccounts.Client(cluster.Url, tokens["setup"]);
        var model = await (await http.UploadModel("yolov8n-det-int8-640.onnx", modelBytes)).Read<ModelDto>();
        var project = await (await http.PostJson("/api/projects", new { name = "cluster-job", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        await (await http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).Read<UploadSummary>();
        var job = await (await http.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id, existingProposals = "keep" })).Read<JobDto>();
        Assert.Equal((128, 8), (job.Total, job.Chunks));

        await http.WaitForJob(job.Id, j => j.Done >= 24); // both processes are working chunks by now
        cluster.Kill(0);
        var interrupted = await (await http.GetAsync($"/api/jobs/{job.Id}")).Read<JobDto>();
        Assert.True(interrupted.Done < 128, "the job finished before the kill; nothing was tested");
        var done = await http.WaitForJob(job.Id, j => j.Status is JobStatus.Completed or JobStatus.Dead, seconds: 240);
        Assert.Equal((JobStatus.Completed, 128, 0), (done.Status, done.Done, done.Failed));

        var images = await (await http.GetAsync($"/api/projects/{project.Id}/images?limit=1000")).Read<ImagePage>();
        int proposals = 0;
        foreach (var image in images.Items)
        {
            var annotations = await (await http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<AnnotationDto>>();
            Assert.Equal(annotations.Count, annotations.Select(a => (a.LabelId, a.Geometry.GetRawText())).Distinct().Count()); // no image labelled twice
            proposals += annotations.Count;
        }
        Assert.True(proposals > 128, $"only {proposals} proposals on 128 images");

        // The killed process starts again and serves the same data.
        await cluster.StartServerAsync(0);
        using var direct = TestAccounts.Client(cluster.ServerUrls[0], tokens["setup"]);
        Assert.Equal(128, (await (await direct.GetAsync($"/api/projects/{project.Id}/images?limit=1")).Read<ImagePage>()).Total);
    }

    [Fact]
    public async Task A_member_removed_through_one_process_is_disconnected_from_the_other_at_once()
    {
        await using var cluster = await Cluster.StartAsync();
        var tokens = await cluster.TokensAsync("owner");
        string mia = await cluster.MemberTokenAsync("mia");
        using var owner = TestAccounts.Client(cluster.ServerUrls[0], tokens["owner"]);
        var (project, image) = await owner.ProjectWithImage("cluster-members", ["a"], 64, 48);
        var member = await (await owner.PostJson($"/api/projects/{project.Id}/members", new { user = "mia", role = "annotator" })).Read<MemberDto>();

        // mia edits through the second process; the owner removes her through the first.
        await using var hub = await HubClient.ConnectAsync(cluster.ServerUrls[1], "/hubs/annotations", mia);
        await hub.CallAsync("JoinImage", image.Id);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/projects/{project.Id}/members/{member.UserId}")).StatusCode);
        await hub.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        await using var again = await HubClient.ConnectAsync(cluster.ServerUrls[1], "/hubs/annotations", mia);
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => again.CallAsync("JoinImage", image.Id));
        Assert.Contains("404", refused.Message);
    }

    [Fact]
    public async Task A_setup_link_printed_by_one_process_works_through_the_other()
    {
        await using var cluster = await Cluster.StartAsync();
        string secret = await cluster.SetupSecretAsync(0);
        using var other = new HttpClient { BaseAddress = new Uri(cluster.ServerUrls[1]) };
        // A forged or altered secret is refused; the one the first process printed works on the second.
        await (await other.PostJson("/api/setup", new { token = secret[..^4] + "AAAA", userName = "boss", password = "long-enough-password" })).Problem(403);
        var admin = await (await other.PostJson("/api/setup", new { token = secret, userName = "boss", password = "long-enough-password" })).Read<VisionLabel.Server.Accounts.AccountDto>();
        Assert.True(admin.IsAdmin);
        // Once an account exists no link works, whichever process printed it or receives it.
        string second = await cluster.SetupSecretAsync(1);
        using var first = new HttpClient { BaseAddress = new Uri(cluster.ServerUrls[0]) };
        await (await first.PostJson("/api/setup", new { token = second, userName = "late", password = "long-enough-password" })).Problem(409);
    }

    [Fact]
    public async Task A_project_deleted_through_one_process_tells_editors_on_the_other_that_their_image_is_gone()
    {
        await using var cluster = await Cluster.StartAsync();
        var tokens = await cluster.TokensAsync("owner");
        using var owner = TestAccounts.Client(cluster.ServerUrls[0], tokens["owner"]);
        var (project, image) = await owner.ProjectWithImage("cluster-delete", ["a"], 64, 48);
        await owner.PostJson($"/api/images/{image.Id}/annotations", new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 1, y = 1, width = 10, height = 10 } });

        // An editor on the image through the second process; the project is deleted through the first.
        await using var hub = await HubClient.ConnectAsync(cluster.ServerUrls[1], "/hubs/annotations", tokens["owner"]);
        await hub.CallAsync("JoinImage", image.Id);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/projects/{project.Id}")).StatusCode);
        var gone = await hub.WaitFor("ImageDeleted", TimeSpan.FromSeconds(10));
        Assert.Equal(image.Id, gone[0].GetProperty("imageId").GetGuid());
        Assert.Contains(hub.Received, m => m.Target == "Applied"); // the annotation's delete came first, as an op
    }

    [Fact, Trait("Tier", Tiers.Browser)]
    public async Task Two_people_signed_in_through_nginx_edit_one_image_live_whichever_process_serves_them()
    {
        await using var cluster = await Cluster.StartAsync();
        var tokens = await cluster.TokensAsync("alice", "bob");
        using var http = TestAccounts.Client(cluster.Url, tokens["alice"]);
        var (project, image) = await http.ProjectWithImage("cluster-browser", ["car"], 640, 480);
        await using var browser = await Browser.LaunchAsync();
        var failed = new ConcurrentQueue<string>();
        async Task<Microsoft.Playwright.IPage> Open(string user)
        {
            var page = await browser.NewPageAsync();
            page.Response += (_, r) => { if (r.Status >= 400) failed.Enqueue($"{user}: {r.Status} {r.Request.Method} {r.Url}"); };
            // Round-robin without stickiness: the sign-in, the page, its API calls and its WebSockets land on both
            // processes, so the session cookie and the antiforgery token made by one are checked by the other. (The
            // app once negotiated before connecting: the negotiate and the socket reached different processes, 404.)
            await page.SignInAsync(cluster.Url, user, $"/images/{image.Id}");
            await page.WaitForCanvas("[data-ready='true']");
            return page;
        }
        var alice = await Open("alice");
        var bob = await Open("bob");

        async Task DrawBox(Microsoft.Playwright.IPage page, double x, double y)
        {
            await page.Keyboard.PressAsync("b");
            var (x0, y0) = await page.OnPage(x, y);
            var (x1, y1) = await page.OnPage(x + 120, y + 90);
            await page.Mouse.MoveAsync(x0, y0);
            await page.Mouse.DownAsync();
            await page.Mouse.MoveAsync(x1, y1, new Microsoft.Playwright.MouseMoveOptions { Steps = 6 });
            await page.Mouse.UpAsync();
        }
        await DrawBox(alice, 50, 50);
        await alice.WaitForCanvas("[data-seq='1'][data-pending='0']");
        await bob.Locator("canvas.base[data-shapes='1']").WaitForAsync(new() { Timeout = 5000 });
        await DrawBox(bob, 300, 200);
        await bob.WaitForCanvas("[data-seq='2'][data-pending='0']");
        await alice.Locator("canvas.base[data-shapes='2'][data-seq='2']").WaitForAsync(new() { Timeout = 5000 });

        var annotations = await (await http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<AnnotationDto>>();
        Assert.Equal(["alice", "bob"], annotations.Select(a => a.CreatedBy).Order());
        // The project page's live connection (/hubs/live: job and import progress) connects through nginx too.
        var accepted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bob.WebSocket += (_, ws) =>
        {
            if (ws.Url.Contains("/hubs/live", StringComparison.Ordinal)) ws.FrameReceived += (_, _) => accepted.TrySetResult(); // the hub's handshake answer
        };
        await bob.GotoAsync($"{cluster.Url}/projects/{project.Id}");
        await accepted.Task.WaitAsync(TimeSpan.FromSeconds(15));
        await bob.Locator(".image-total", new() { HasText = "1 image" }).WaitForAsync(new() { Timeout = 15_000 });
        Assert.True(failed.IsEmpty, string.Join("\n", failed));
        Assert.True(browser.Errors.IsEmpty, string.Join("\n", browser.Errors));
    }

    [Fact]
    public async Task Processes_started_at_the_same_moment_on_an_empty_database_share_one_key_for_links_and_cookies()
    {
        await using var cluster = await Cluster.StartAsync(2, together: true);
        string secret = await cluster.SetupSecretAsync(1);
        var cookies = new System.Net.CookieContainer();
        using var first = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(cluster.ServerUrls[0]) };
        // The link the second process printed works on the first, which signs the new admin in...
        await (await first.PostJson("/api/setup", new { token = secret, userName = "boss", password = "long-enough-password" }))
            .Read<VisionLabel.Server.Accounts.AccountDto>();
        // ...and the session cookie the first process made is good on the second (cookies are per host, not port).
        Assert.Contains(cookies.GetCookies(new Uri(cluster.ServerUrls[1])), c => c.Name == "visionlabel.session");
        using var second = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(cluster.ServerUrls[1]) };
        Assert.Equal("boss", (await (await second.GetAsync("/api/account")).Read<VisionLabel.Server.Accounts.AccountDto>()).UserName);
    }
}
