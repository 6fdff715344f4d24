using System.Diagnostics;
using VisionLabel.Server.Annotations;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>
/// The server in its own process is killed (SIGKILL: no shutdown, no hand-back) in the middle of a pre-labeling job and
/// started again on the same data: the job finishes exactly once, on each Hangfire storage.
/// </summary>
[Trait("Tier", Tiers.System)]
public abstract class JobCrashTests
{
    protected abstract string[] StorageArguments();

    [Fact]
    public async Task A_server_killed_mid_prelabeling_finishes_the_job_exactly_once_after_restart()
    {
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        // A short invisibility timeout: the killed process's chunk is taken over 5 s after it was fetched.
        string[] settings = [.. StorageArguments(), "--VisionLabel:Jobs:InvisibilityTimeout=00:00:05", "--VisionLabel:Jobs:PollInterval=00:00:00.200",
            "--VisionLabel:Jobs:ChunkSize=32", "--VisionLabel:Inference:Device=cpu"];
        var server = await ServeCommandTests.Serve(url, data.Path, settings);
        try
        {
            using var http = TestAccounts.Client(url, await TestAccounts.TokenAsync(data.Path, settings));
            var model = await (await http.UploadModel("yolov8n-det-int8-640.onnx", File.ReadAllBytes(SharedData.Require("models/yolov8n-det-int8-640.onnx")))).Read<ModelDto>();
            var project = await (await http.PostJson("/api/projects", new { name = "crash", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
            var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
            await (await http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).Read<UploadSummary>();
            // "keep": an image labelled twice would show every proposal twice.
            var job = await (await http.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id, existingProposals = "keep" })).Read<JobDto>();
            Assert.Equal((128, 4), (job.Total, job.Chunks));

            await http.WaitForJob(job.Id, j => j.Done >= 16); // inside the first chunk
            Process.Start("kill", ["-KILL", server.Id.ToString()])!.WaitForExit();
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);

            server = await ServeCommandTests.Serve(url, data.Path, settings);
            var interrupted = await (await http.GetAsync($"/api/jobs/{job.Id}")).Read<JobDto>();
            Assert.True(interrupted.Done < 128, "the job finished before the kill; nothing was tested");
            var done = await http.WaitForJob(job.Id, j => j.Status is JobStatus.Completed or JobStatus.Dead);
            Assert.Equal((JobStatus.Completed, 128, 0), (done.Status, done.Done, done.Failed));

            var items = await (await http.GetAsync($"/api/jobs/{job.Id}/items")).Read<List<JobItemDto>>();
            Assert.Equal(128, items.Count(i => i.Status == JobItemStatus.Done));
            var images = await (await http.GetAsync($"/api/projects/{project.Id}/images?limit=1000")).Read<ImagePage>();
            int proposals = 0;
            foreach (var image in images.Items)
            {
                var annotations = await (await http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<AnnotationDto>>();
                Assert.Equal(annotations.Count, annotations.Select(a => (a.LabelId, a.Geometry.GetRawText())).Distinct().Count());
                proposals += annotations.Count;
            }
            Assert.True(proposals > 128, $"only {proposals} proposals on 128 images");
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task A_server_killed_mid_import_finishes_it_exactly_once_after_restart()
    {
        using var data = new TempDirectory();
        string url = $"http://127.0.0.1:{ServeCommandTests.FreePort()}";
        string[] settings = [.. StorageArguments(), "--VisionLabel:Jobs:InvisibilityTimeout=00:00:05", "--VisionLabel:Jobs:PollInterval=00:00:00.200"];
        var server = await ServeCommandTests.Serve(url, data.Path, settings);
        try
        {
            using var http = TestAccounts.Client(url, await TestAccounts.TokenAsync(data.Path, settings));
            byte[] zip = DatasetTests.YoloZip("coco128", "coco128.yaml");
            // The same dataset imported without interruption, for comparison.
            var reference = await Import(http, "import?format=yolo&name=reference", zip);
            var done = await http.WaitForJob(reference.Id, j => j.Status is JobStatus.Completed or JobStatus.Dead);
            Assert.Equal(JobStatus.Completed, done.Status);

            var job = await Import(http, "import?format=yolo&name=interrupted", zip);
            await http.WaitForJob(job.Id, j => j.Done >= 25);
            Process.Start("kill", ["-KILL", server.Id.ToString()])!.WaitForExit();
            await server.WaitForExitAsync(TestContext.Current.CancellationToken);
            server = await ServeCommandTests.Serve(url, data.Path, settings);
            var interrupted = await (await http.GetAsync($"/api/jobs/{job.Id}")).Read<JobDto>();
            Assert.True(interrupted.Status != JobStatus.Completed, "the import finished before the kill; nothing was tested");

            var finished = await http.WaitForJob(job.Id, j => j.Status is JobStatus.Completed or JobStatus.Dead);
            Assert.True(finished.Status == JobStatus.Completed, $"{finished.Status}: {finished.LastError}");
            Assert.Equal((128, done.ImportReport!.AnnotationsCreated), (finished.ImportReport!.ImagesCreated, finished.ImportReport.AnnotationsCreated));
            Assert.Equal(await Fingerprint(http, done.ImportReport.ProjectId), await Fingerprint(http, finished.ImportReport.ProjectId));
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
        }
    }

    private static async Task<JobDto> Import(HttpClient http, string query, byte[] zip)
    {
        var response = await http.PostAsync("/api/projects/" + query, HttpExtensions.ZipUpload(zip));
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        return await response.Read<JobDto>();
    }

    /// <summary>Every image's file name with its annotations (label name, geometry), sorted: equal means the same project content, nothing doubled.</summary>
    private static async Task<List<string>> Fingerprint(HttpClient http, Guid projectId)
    {
        var project = await (await http.GetAsync($"/api/projects/{projectId}")).Read<ProjectDto>();
        var labels = project.Labels.ToDictionary(l => l.Id, l => l.Name);
        var images = await (await http.GetAsync($"/api/projects/{projectId}/images?limit=1000")).Read<ImagePage>();
        var lines = new List<string>();
        foreach (var image in images.Items)
            foreach (var a in await (await http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<AnnotationDto>>())
                lines.Add($"{image.FileName} {labels[a.LabelId]} {a.Geometry.GetRawText()}");
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }
}

public sealed class JobCrashTestsOnSqlite : JobCrashTests
{
    protected override string[] StorageArguments() => ["--VisionLabel:Database:Provider=sqlite"];
}

public sealed class JobCrashTestsOnPostgres : JobCrashTests, IDisposable
{
    private PostgresDatabase? _database;

    protected override string[] StorageArguments()
    {
        _database ??= PostgresDatabase.Require();
        return ["--VisionLabel:Database:Provider=postgres", $"--VisionLabel:Database:ConnectionString={_database.ConnectionString}"];
    }

    public void Dispose() => _database?.Dispose();
}
