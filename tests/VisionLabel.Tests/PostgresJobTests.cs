using Microsoft.Extensions.DependencyInjection;
using VisionLabel.Server.Data;
using VisionLabel.Server.Images;
using VisionLabel.Server.Inference;
using VisionLabel.Server.Jobs;
using VisionLabel.Server.Projects;
using VisionLabel.Tests.Support;

namespace VisionLabel.Tests;

/// <summary>Several servers on one PostgreSQL database share a job through Hangfire.PostgreSql.</summary>
[Trait("Tier", Tiers.System)]
public class PostgresJobTests
{
    private static Dictionary<string, string?> Settings(PostgresDatabase db) => new()
    {
        ["VisionLabel:Database:Provider"] = "postgres", ["VisionLabel:Database:ConnectionString"] = db.ConnectionString,
        ["VisionLabel:Jobs:PollInterval"] = "00:00:00.200", ["VisionLabel:Jobs:ChunkSize"] = "8", ["VisionLabel:Inference:Device"] = "cpu",
    };

    [Fact]
    public async Task Two_servers_share_one_job_and_label_each_image_once()
    {
        using var database = PostgresDatabase.Require();
        using var dataA = new TempDirectory();
        using var dataB = new TempDirectory();
        using var a = new VisionLabelApp(dataA.Path, Settings(database));
        // The second server shares the database and the blobs (as servers behind one load balancer share the object store).
        using var b = new VisionLabelApp(dataB.Path, new Dictionary<string, string?>(Settings(database)) { ["VisionLabel:Storage:LocalPath"] = Path.Combine(dataA.Path, "blobs") });
        var http = a.Client();
        _ = b.Client(); // starts the second server
        var model = await (await http.UploadModel("yolox_nano-416.onnx", File.ReadAllBytes(SharedData.Require("models/yolox_nano-416.onnx")),
            File.ReadAllText(SharedData.Require("models/yolox_nano-416.coco_classes.txt")))).Read<ModelDto>();
        var project = await (await http.PostJson("/api/projects", new { name = "pg-job", labels = model.ClassNames.Select(n => new { name = n }) })).Read<ProjectDto>();
        var files = Directory.GetFiles(SharedData.Require("datasets/coco128/images/train2017"), "*.jpg").Order().Take(64).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f))).ToArray();
        await (await http.PostAsync($"/api/projects/{project.Id}/images", HttpExtensions.Files(files))).Read<UploadSummary>();

        var job = await (await http.PostJson($"/api/projects/{project.Id}/prelabel", new { modelId = model.Id, status = new[] { "new" }, existingProposals = "keep" })).Read<JobDto>();
        Assert.Equal((64, 8), (job.Total, job.Chunks));
        job = await http.WaitForJob(job.Id, seconds: 90);
        Assert.Equal((JobStatus.Completed, 64, 0), (job.Status, job.Done, job.Failed));
        var prelabeled = await (await http.GetAsync($"/api/projects/{project.Id}/images?status=prelabeled&limit=100")).Read<ImagePage>();
        Assert.Equal(64, prelabeled.Total);
        foreach (var image in prelabeled.Items)
        {
            var annotations = await (await http.GetAsync($"/api/images/{image.Id}/annotations")).Read<List<VisionLabel.Server.Annotations.AnnotationDto>>();
            Assert.Equal(annotations.Count, annotations.Select(x => (x.LabelId, x.Geometry.GetRawText())).Distinct().Count());
        }

        // Each server has one pre-labeling worker; the chunks were processed by both.
        var monitoring = a.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi();
        var chunks = await PrelabelJobTests.SucceededChunks(monitoring, job.Id, 8);
        Assert.Equal(8, chunks.Count);
        var servers = chunks.Select(id => monitoring.JobDetails(id).History.First(h => h.StateName == "Processing").Data["ServerId"]).Distinct().ToList();
        Assert.Equal(2, servers.Count);
    }
}
