using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>The job queue on PostgreSQL: FOR UPDATE SKIP LOCKED claims, and a real job end to end.</summary>
public class PostgresJobTests
{
    private static Dictionary<string, string?> Settings(PostgresDatabase db, bool workers) => new()
    {
        ["VisionLabel:Database:Provider"] = "postgres", ["VisionLabel:Database:ConnectionString"] = db.ConnectionString,
        ["VisionLabel:Jobs:RunWorkers"] = workers ? "true" : "false", ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200",
        ["VisionLabel:Inference:Device"] = "cpu",
    };

    [Fact]
    public async Task Concurrent_claims_never_hand_one_job_to_two_workers()
    {
        using var database = PostgresDatabase.Require();
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path, Settings(database, workers: false));
        var http = app.Client();
        var project = await (await http.PostJson("/api/projects", new { name = "q" })).Read<ProjectDto>();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<VisionLabelDb>();
            for (int i = 0; i < 5; i++)
                db.Jobs.Add(new Job { Kind = "test", ProjectId = project.Id, Payload = "{}", CreatedAt = DateTime.UtcNow.AddSeconds(i), NextAttemptAt = DateTime.UtcNow });
            await db.SaveChangesAsync(TestContext.Current.CancellationToken);
        }

        // 16 claimers at once, each in its own connection: 5 jobs are handed out, each exactly once.
        var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<JobQueue>().ClaimAsync($"worker-{i}", CancellationToken.None);
        }));
        var claimed = claims.Where(c => c is not null).Select(c => c!.Value).ToList();
        Assert.Equal(5, claimed.Count);
        Assert.Equal(5, claimed.Distinct().Count());
    }

    [Fact]
    public async Task A_prelabel_job_runs_on_postgres()
    {
        using var database = PostgresDatabase.Require();
        using var data = new TempDirectory();
        using var app = new VisionLabelApp(data.Path, Settings(database, workers: true));
        var http = app.Client();
        var model = await (await http.UploadModel("yolox_nano-416.onnx", File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx")),
            File.ReadAllText(SharedData.Require("models/yolox_nano-416.coco_classes.txt")))).Read<ModelDto>();
        var project = await (await http.PostJson("/api/projects", new { name = "pg-job", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(8).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        await (await http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).Read<UploadSummary>();

        var job = await (await http.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id, status = new[] { "new" } })).Read<JobDto>();
        Assert.Equal(8, job.Total);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (job.Status is not (JobStatus.Completed or JobStatus.Dead) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            job = await (await http.GetAsync($"/api/jobs/{job.Id}")).Read<JobDto>();
        }
        Assert.Equal((JobStatus.Completed, 8, 0), (job.Status, job.Done, job.Failed));
        var prelabeled = await (await http.GetAsync($"/api/projects/{project.Id}/images?status=prelabeled")).Read<ImagePage>();
        Assert.Equal(8, prelabeled.Total);
    }
}
