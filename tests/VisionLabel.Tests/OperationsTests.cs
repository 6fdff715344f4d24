using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using VisionLabel.Server.Accounts;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// Fitting into a team's tools (issue 27, docs/operations.md): /metrics in Prometheus format carries the request
/// histogram and our own meters after a scripted session (ops through the editor hub, a pre-labeling job, an export, a
/// failed sign-in), and is refused to anyone but admins and metrics tokens (which open nothing else). The probes'
/// test is <see cref="ReadinessProbeTests"/>.
/// </summary>
[Trait("Tier", Tiers.Api)]
[Collection(AloneInProcess.Name)]
public class OperationsTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    /// <summary>The value of one sample line (name{labels} value), or null when the exposition has none.</summary>
    private static double? Sample(string metrics, string name, string? label = null)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith('#') || !line.StartsWith(name, StringComparison.Ordinal)) continue;
            string rest = line[name.Length..];
            if (rest.Length > 0 && rest[0] is not ('{' or ' ')) continue; // a longer name
            if (label is not null && !rest.Contains(label, StringComparison.Ordinal)) continue;
            return double.Parse(rest[(rest.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        }
        return null;
    }

    [Fact]
    public async Task Metrics_carry_requests_ops_jobs_exports_and_sign_ins_and_only_admins_and_metrics_tokens_read_them()
    {
        using var app = new VisionLabelApp(_data.Path, new Dictionary<string, string?> { ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200" });
        using var admin = app.Client("root", admin: true);
        using var owner = app.Client("olga", admin: false);
        var ct = TestContext.Current.CancellationToken;
        string before = await admin.GetStringAsync("/metrics", ct);
        double opsBefore = Sample(before, "visionlabel_ops_applied_total") ?? 0;

        // A scripted session: three ops from an editor, a pre-labeling job over two photos, an export, a wrong password.
        var model = await (await owner.UploadModel("yolov8n-det-int8-640.onnx", File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")))).Read<Server.Inference.ModelDto>();
        var project = await (await owner.PostJson("/api/projects", new { name = "ops", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var photos = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(2).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        (await owner.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(photos), ct)).EnsureSuccessStatusCode();
        var images = (await (await owner.GetAsync($"/api/projects/{project.Id}/images", ct)).Read<ImagePage>()).Items;
        await using (var editor = await RawHubClient.ConnectAsync(app.Server, app.HubPath("/hubs/annotations", "olga", admin: false)))
        {
            await editor.CallAsync("JoinImage", images[0].Id);
            string during = await admin.GetStringAsync("/metrics", ct);
            Assert.True(Sample(during, "visionlabel_editors_connected") >= 1, "an open editor is counted");
            for (int i = 0; i < 3; i++)
            {
                var ack = await editor.CallAsync("Submit", new
                {
                    clientOpId = $"m{i}", imageId = images[0].Id, type = "create", annotationId = Guid.NewGuid(),
                    changes = new { labelId = project.Labels[0].Id, kind = "box", geometry = new { x = 10 + i, y = 20, width = 30, height = 40 } },
                });
                Assert.True(ack.GetProperty("seq").GetInt64() > 0);
            }
        }
        var job = await (await owner.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id })).Read<JobDto>();
        Assert.Equal(JobStatus.Completed, (await owner.WaitForJob(job.Id)).Status);
        var export = await owner.GetByteArrayAsync($"/api/projects/{project.Id}/export?format=coco&scope=all&states=accepted,proposed", ct);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Server.CreateClient().PostJson("/api/account/signin", new { userName = "olga", password = "not her password" })).StatusCode);

        string metrics = await admin.GetStringAsync("/metrics", ct);
        // ASP.NET Core's request histogram, with its route.
        Assert.Matches(new Regex(@"^http_server_request_duration_seconds_bucket\{.*http_route=""/api/projects/\{projectId:guid\}/export"".*\} \d+", RegexOptions.Multiline), metrics);
        // Ours: the editor's three ops and the job's proposals went through the write path (other tests' apps in this process count too: at least).
        var proposals = (await (await owner.GetAsync($"/api/images/{images[0].Id}/annotations", ct)).Read<List<JsonElement>>()).Count
                        + (await (await owner.GetAsync($"/api/images/{images[1].Id}/annotations", ct)).Read<List<JsonElement>>()).Count - 3;
        Assert.True(Sample(metrics, "visionlabel_ops_applied_total") - opsBefore >= 3 + proposals, $"ops applied: {Sample(metrics, "visionlabel_ops_applied_total")} (was {opsBefore}; 3 + {proposals} proposals)");
        Assert.True(Sample(metrics, "visionlabel_op_ack_duration_seconds_count") >= 3);
        Assert.NotNull(Sample(metrics, "visionlabel_op_ack_duration_seconds_bucket", "le=\"0.1\""));
        Assert.True(Sample(metrics, "visionlabel_job_images_total", "kind=\"prelabel\"") >= 2);
        Assert.True(Sample(metrics, "visionlabel_export_bytes_total") >= export.Length);
        Assert.True(Sample(metrics, "visionlabel_signin_failures_total", "reason=\"password\"") >= 1);
        Assert.NotNull(Sample(metrics, "visionlabel_leases_held"));
        Assert.NotNull(Sample(metrics, "visionlabel_queue_depth", "stage=\"review\""));
        Assert.NotNull(Sample(metrics, "process_runtime_dotnet_gc_collections_count_total") ?? Sample(metrics, "dotnet_gc_collections_total"));

        // Who may read them: not anonymous callers, not a project owner; an admin's metrics token, which opens nothing else.
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.Server.CreateClient().GetAsync("/metrics", ct)).StatusCode);
        Assert.Equal("Admins only", (await (await owner.GetAsync("/metrics", ct)).Problem(403)).GetProperty("title").GetString());
        var refused = await (await owner.PostJson("/api/account/tokens", new { name = "scraper", scope = "metrics" })).Problem(400);
        Assert.Contains("only an admin", refused.GetProperty("errors").GetProperty("scope")[0].GetString());
        var token = (await (await admin.PostJson("/api/account/tokens", new { name = "prometheus", scope = "metrics" })).Read<JsonElement>()).GetProperty("token").GetString();
        using var scraper = app.Server.CreateClient();
        scraper.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Contains("visionlabel_ops_applied_total", await scraper.GetStringAsync("/metrics", ct));
        Assert.Equal("Metrics token", (await (await scraper.GetAsync("/api/projects", ct)).Problem(403)).GetProperty("title").GetString());
        Assert.Equal("Metrics token", (await (await scraper.PostJson("/api/projects", new { name = "x" })).Problem(403)).GetProperty("title").GetString());
    }
}

/// <summary>The readiness probe follows a PostgreSQL server and an S3 server of the test's own being stopped and started again.</summary>
[Trait("Tier", Tiers.System)]
public class ReadinessProbeTests : IDisposable
{
    private readonly TempDirectory _data = new();

    public void Dispose() => _data.Dispose();

    private static async Task<JsonElement> ReadyAsync(HttpClient client, Func<JsonElement, bool> until, string what)
    {
        // A probe is polled: that is how an orchestrator reads it.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            var response = await client.GetAsync("/health/ready");
            last = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            Assert.Equal(last.GetProperty("status").GetString() == "healthy" ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, response.StatusCode);
            if (until(last)) return last;
            await Task.Delay(200);
        }
        Assert.Fail($"/health/ready never showed {what}; last: {last}");
        return last;
    }

    private static string Check(JsonElement ready, string name) => ready.GetProperty("checks").GetProperty(name).GetProperty("status").GetString()!;

    [Fact]
    public async Task Ready_turns_unhealthy_while_postgres_or_the_s3_server_is_stopped_and_healthy_again_after()
    {
        using var postgres = OwnedPostgres.Start();
        using var s3 = OwnedS3Server.Start();
        var bucket = S3Server.Settings(new Server.Common.S3StorageOptions { Endpoint = s3.Endpoint, Bucket = "vl-ready", AccessKey = S3Server.AccessKey, SecretKey = S3Server.SecretKey });
        var settings = new Dictionary<string, string?>(bucket)
        {
            ["VisionLabel:Database:Provider"] = "postgres", ["VisionLabel:Database:ConnectionString"] = postgres.ConnectionString,
        };
        using var app = new VisionLabelApp(_data.Path, settings);
        using var anonymous = app.Server.CreateClient(); // probes are anonymous
        var ready = await ReadyAsync(anonymous, r => r.GetProperty("status").GetString() == "healthy", "healthy at first");
        Assert.Equal(["database", "jobs", "redis", "storage"], ready.GetProperty("checks").EnumerateObject().Select(c => c.Name).Order());
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);

        postgres.Stop();
        ready = await ReadyAsync(anonymous, r => Check(r, "database") == "unhealthy", "the database down");
        Assert.Equal("unhealthy", ready.GetProperty("status").GetString());
        Assert.Equal("healthy", Check(ready, "storage"));
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode); // alive: a restart would not bring the database back
        postgres.Resume();
        await ReadyAsync(anonymous, r => r.GetProperty("status").GetString() == "healthy", "healthy after PostgreSQL is back");

        s3.Stop();
        ready = await ReadyAsync(anonymous, r => Check(r, "storage") == "unhealthy", "the S3 server down");
        Assert.Equal("healthy", Check(ready, "database"));
        Assert.DoesNotContain(s3.Endpoint, ready.ToString()); // no addresses for anonymous callers
        s3.Resume();
        await ReadyAsync(anonymous, r => r.GetProperty("status").GetString() == "healthy", "healthy after the S3 server is back");
    }
}

/// <summary>
/// Tests that read process-wide figures run with no other test: .NET's meters are process-wide, and every test server in
/// this process publishes instruments of the same names (ASP.NET Core's, ours), which one server's exporter would see
/// as duplicates. A server is alone in its process in production.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneInProcess
{
    public const string Name = "alone in the process";
}
